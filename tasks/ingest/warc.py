"""WARC archives: each record's place in the file, and a page record read back as a document."""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import BinaryIO

from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from tasks.core.records import InputKind, RawDocument
from tasks.core.safety import RejectError
from tasks.ingest.read import GZIP_MAGIC, IngestSettings, _decode, looks_like_html, read_capped

WARC_SUFFIXES = (".warc", ".warc.gz")
# The records that hold a page: a crawler's `response` (with its HTTP answer), an archived
# `resource` (the file alone), and `revisit` (a page seen again, stored once elsewhere).
PAGE_RECORDS = frozenset({"response", "resource", "revisit"})
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Answers that do not say what they are: the page is sniffed.
UNTYPED = ("", "application/octet-stream")
# What a failing archive read raises: warcio's own error, a broken gzip member, a cut stream,
# a header line that is not one, a record missing a header warcio needs.
WARC_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError, IndexError,
               AttributeError, TypeError, KeyError)  # fmt: skip
SCAN_BLOCK = 1 << 16
# Inflated bytes are looked at and dropped this many at a time: memory stays flat.
INFLATE_PIECE = 1 << 16
# A record's WARC headers come first in its member; these bytes hold them.
HEAD_BYTES = 8192
WARC_TYPE = re.compile(rb"\r\nWARC-Type:[ \t]*([A-Za-z-]+)", re.I)
WARC_LENGTH = re.compile(rb"\r\nContent-Length:[ \t]*(\d+)", re.I)
RECORD_END = b"\r\n\r\n"
# gzip framing for zlib; a record's WARC and HTTP headers beside its page, at most.
GZIP_WBITS = 31
MAX_HEADER_BYTES = 1 << 16
# Enough of a file's end to tell a cut record from the blank lines that close the last one.
TAIL_BYTES = 1 << 16
# An uncompressed record ends with two CRLFs that warcio leaves out of its length.
BLANK = b"\r\n \t"


@dataclass(frozen=True)
class WarcEntry:
    """Where one page record of a WARC file is: its byte offset and length in the file."""

    offset: int
    length: int


@dataclass(frozen=True)
class WarcScan:
    """A WARC file's page records, the other records by type, and where it broke, if it did."""

    entries: tuple[WarcEntry, ...]
    skipped: Counter[str]  # records of content that is no page (request, metadata), by type
    broken_at: int | None = None  # the offset past which nothing could be read
    error: str = ""
    reason: str = "corrupt_warc"  # why nothing could be read there


def is_warc(name: str) -> bool:
    """Tell whether a file name is a WARC archive's (`.warc`, `.warc.gz`)."""
    return name.lower().endswith(WARC_SUFFIXES)


def scan_warc(stream: BinaryIO) -> WarcScan:
    """List a WARC file's page records by offset, reading it once in pieces (never whole).

    A file that breaks partway keeps the records before the break; where it broke is an
    input of its own, so nothing after it goes uncounted.
    """
    if stream.read(len(GZIP_MAGIC)) == GZIP_MAGIC:
        stream.seek(0)
        return _scan_members(stream)
    stream.seek(0)
    entries: list[WarcEntry] = []
    skipped: Counter[str] = Counter()
    # Only each record's type and place are needed here: its HTTP headers are parsed when the
    # record is read. Large blocks keep warcio's Python-level buffering out of the profile.
    records = ArchiveIterator(stream, no_record_parse=True, block_size=SCAN_BLOCK)
    offset = 0
    try:
        for record in records:
            offset = records.get_record_offset()
            kind = record.rec_type
            records.read_to_end(record)
            if kind in PAGE_RECORDS:
                entries.append(WarcEntry(offset, records.get_record_length()))
            elif kind != "warcinfo":  # the file's own description, never content
                skipped[kind or "unknown"] += 1
            offset += records.get_record_length()
    except Exception as err:  # warcio raises what it meets (a record without its URI too)
        start = _past_blank(stream, offset)
        return WarcScan(tuple(entries), skipped, start, f"{type(err).__name__}: {err}")
    # warcio ends quietly at a record cut inside its headers (a gzip member cut short): what
    # follows the last whole record, unless blank, is that record, truncated.
    rest = _rest(stream, offset)
    if rest:
        start = offset + len(rest) - len(rest.lstrip(BLANK))
        cut = f"{len(rest)}+ bytes at the end are no whole record: the file was cut"
        return WarcScan(tuple(entries), skipped, start, cut, "truncated_record")
    return WarcScan(tuple(entries), skipped)


def _scan_members(stream: BinaryIO) -> WarcScan:
    """List the records of a WARC.gz, one gzip member each, by inflating member by member.

    Only each member's first bytes are looked at (the WARC headers: its type and length);
    the rest is inflated to find where the member ends, with isa-l, about 2.5 times as fast
    as zlib, and without warcio's reading of every line.
    """
    entries: list[WarcEntry] = []
    skipped: Counter[str] = Counter()
    pending = b""
    offset = 0
    while True:
        member = _Member()
        while not member.done:
            if not pending:
                pending = stream.read(SCAN_BLOCK)
                if not pending:
                    break
            try:
                pending = member.feed(pending)
            except Exception as err:  # isa-l's error for a broken deflate stream, and the like
                return WarcScan(tuple(entries), skipped, offset, f"{type(err).__name__}: {err}")
        if not member.done:
            if member.fed and member.inflated:  # a member cut short: its record, truncated
                return WarcScan(tuple(entries), skipped, offset, "the file ends inside a gzip "
                                "member: it was cut", "truncated_record")  # fmt: skip
            if member.fed and not pending:
                return WarcScan(tuple(entries), skipped, offset, "the file ends inside a gzip "
                                "header: it was cut", "truncated_record")  # fmt: skip
            return WarcScan(tuple(entries), skipped)
        problem = member.problem()
        if problem:
            return WarcScan(tuple(entries), skipped, offset, problem)
        if member.kind in PAGE_RECORDS:
            entries.append(WarcEntry(offset, member.fed))
        elif member.kind not in ("warcinfo", ""):  # "": an empty member, nothing in it
            skipped[member.kind] += 1
        offset += member.fed


class _Member:
    """One gzip member being inflated: its length in the file and its WARC headers."""

    def __init__(self) -> None:
        self.inflater = isal_zlib.decompressobj(GZIP_WBITS)
        self.fed = 0  # compressed bytes of this member
        self.inflated = 0  # its bytes once inflated
        self.head = b""  # its first inflated bytes
        self.done = False

    def feed(self, data: bytes) -> bytes:
        """Inflate data into the member; the bytes past its end (the next member's)."""
        rest = data
        while rest and not self.done:
            out = self.inflater.decompress(rest, INFLATE_PIECE)
            self.inflated += len(out)
            if len(self.head) < HEAD_BYTES:
                self.head += out[: HEAD_BYTES - len(self.head)]
            if self.inflater.eof:
                left = self.inflater.unused_data
                self.fed += len(rest) - len(left)
                self.done = True
                return left
            tail = self.inflater.unconsumed_tail
            self.fed += len(rest) - len(tail)
            rest = tail
        return b""

    @property
    def kind(self) -> str:
        """The record's WARC-Type ("" for an empty member)."""
        found = WARC_TYPE.search(self.head)
        return found.group(1).decode("ascii", "replace").lower() if found else ""

    def problem(self) -> str:
        """Why the member is not one WARC record, or ""."""
        if not self.inflated or not self.head.strip(BLANK):
            return ""
        if not self.head.startswith(b"WARC/"):
            return f"not a WARC record: {self.head[:40]!r}"
        length = WARC_LENGTH.search(self.head)
        end = self.head.find(RECORD_END)
        if length is None or end < 0:
            return "a WARC record without its Content-Length or the end of its headers"
        if self.inflated > end + 4 + int(length.group(1)) + len(RECORD_END) + 2:
            return (
                "records share a gzip member: a .warc.gz must have one per record to be "
                "read record by record (`warcio recompress` writes one)"
            )
        return ""


def _rest(stream: BinaryIO, offset: int) -> bytes:
    """The first bytes after a WARC's last whole record, when they hold anything: b"" when
    there are none, or only the blank lines that end a record, or an empty gzip member."""
    try:
        stream.seek(offset)
        rest = stream.read(TAIL_BYTES)
    except (OSError, ValueError, AttributeError):
        return b""  # a stream that cannot seek back: the scan's word stands
    if not rest.strip(BLANK):
        return b""
    if rest.startswith(GZIP_MAGIC):
        try:
            if not gzip.decompress(rest).strip(BLANK):
                return b""
        except (OSError, EOFError, zlib.error):
            pass
    return rest


def _past_blank(stream: BinaryIO, offset: int) -> int:
    """The offset of the first byte after `offset` that is not a record's closing blank line."""
    rest = _rest(stream, offset)
    return offset + len(rest) - len(rest.lstrip(BLANK)) if rest else offset


def skipped_note(uri: str, skipped: Counter[str]) -> str | None:
    """The run's note of a WARC file's records that are no page, by type; None if none."""
    if not skipped:
        return None
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
    return f"warc_records_skipped: {uri}: {counts} (no page in them)"


def record_document(
    data: bytes, uri: str, settings: IngestSettings, kind: InputKind = "warc"
) -> RawDocument:
    """The document of one WARC page record (the record's bytes alone), or a RejectError."""
    try:
        # One gzip member is inflated in one call (under the cap), not in warcio's blocks.
        whole = _inflate(data, settings.max_file_bytes + MAX_HEADER_BYTES)
        record = next(iter(ArchiveIterator(io.BytesIO(whole), ensure_http_headers=False)))
    except StopIteration as err:
        raise RejectError("corrupt_warc", "no WARC record at this offset") from err
    except WARC_ERRORS as err:
        raise RejectError("corrupt_warc", f"{type(err).__name__}: {err}") from err
    return _page(record, uri, settings, kind)


def _inflate(data: bytes, limit: int) -> bytes:
    """A record's bytes, inflated when they are a gzip member; too_large past the limit."""
    if not data.startswith(GZIP_MAGIC):
        return data
    inflater = isal_zlib.decompressobj(GZIP_WBITS)
    whole = inflater.decompress(data, limit + 1)
    if len(whole) > limit:
        raise RejectError("too_large", f"a record of more than {limit} bytes once inflated")
    if not inflater.eof:
        raise RejectError("truncated_record", "the record's gzip member is cut short")
    return whole


def _page(
    record: ArcWarcRecord, uri: str, settings: IngestSettings, kind: InputKind
) -> RawDocument:
    """A page record as a document: its URL, HTTP answer and date, and the decoded page."""
    if record.rec_type == "revisit":
        refers = record.rec_headers.get_header("WARC-Refers-To-Target-URI") or "an earlier record"
        raise RejectError("warc_revisit", f"a revisit of {refers}: the page is stored there")
    http = record.http_headers if record.rec_type == "response" else None
    status = _status(http) if http is not None else None
    if status is not None and status != 200:
        raise RejectError(f"http_status_{status}", f"the page was served with status {status}")
    # A response's WARC Content-Type is "application/http": only a resource's is the page's.
    content_type = (
        http.get_header("Content-Type")
        if http is not None
        else record.rec_headers.get_header("Content-Type")
    )
    return page_document(
        Page(
            uri=uri,
            body=_body(record, settings.max_file_bytes),
            content_type=content_type,
            url=record.rec_headers.get_header("WARC-Target-URI") or None,
            fetched_at=_warc_date(record.rec_headers.get_header("WARC-Date")),
            status=status,
            last_modified=http.get_header("Last-Modified") if http is not None else None,
            kind=kind,
        ),
        settings,
    )


@dataclass(frozen=True)
class Page:
    """A page as an HTTP answer brought it: from a WARC record or from newsetl's own fetch."""

    uri: str
    body: bytes
    content_type: str | None  # the Content-Type header, as sent
    url: str | None
    fetched_at: datetime | None
    status: int | None
    last_modified: str | None
    kind: InputKind


def page_document(page: Page, settings: IngestSettings) -> RawDocument:
    """An HTML page as a document, decoded with its HTTP charset; not_html for anything else."""
    mime, charset = _media_type(page.content_type)
    sniffed = looks_like_html(page.body[:4096].decode("latin-1"))
    if mime not in HTML_TYPES and not (mime in UNTYPED and sniffed):
        raise RejectError("not_html", f"content type {page.content_type or '(none)'}")
    if not page.body.strip():
        raise RejectError("empty_input", "the page is empty")
    decoded = _decode(page.body, settings, whole_file_checks=True, html=True, charset=charset)
    if not decoded.text.strip():
        raise RejectError("empty_input", "only whitespace once decoded")
    return RawDocument(
        source_uri=page.uri,
        content=decoded.text,
        content_type="html",
        encoding=decoded.encoding,
        url=page.url,
        warnings=decoded.warnings,
        input_kind=page.kind,
        fetched_at=page.fetched_at,
        http_status=page.status,
        http_last_modified=page.last_modified,
    )


def _status(http: object) -> int | None:
    """The HTTP status code of a record's answer; None when it has no readable one."""
    code = getattr(http, "get_statuscode", lambda: None)()
    try:
        return int(code) if code else None
    except ValueError:
        return None


def _body(record: ArcWarcRecord, limit: int) -> bytes:
    """A record's payload, decoded from its transfer and content encodings, at most `limit`."""
    try:
        body = read_capped(record.content_stream(), limit)
    except WARC_ERRORS as err:
        raise RejectError("truncated_record", f"the payload cannot be read: {err}") from err
    # The record's own length says how much there was to read: a cut file leaves some unread.
    left = getattr(record.raw_stream, "limit", 0)
    if left:
        raise RejectError("truncated_record", f"the record ends {left} bytes short of its length")
    return body


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """The media type and charset of a Content-Type header (lower case; "" when absent)."""
    if not content_type:
        return "", None
    header = Message()
    header["Content-Type"] = content_type
    charset = header.get_param("charset")
    mime = content_type.partition(";")[0].strip().lower()
    return mime, charset.strip().lower() if isinstance(charset, str) and charset.strip() else None


def _warc_date(value: str | None) -> datetime | None:
    """A WARC-Date (ISO 8601, UTC) as a datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
