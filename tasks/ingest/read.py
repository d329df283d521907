"""Ingest stage: find input files, decode them, and turn each into raw documents or rejects."""

from __future__ import annotations

import bz2
import csv
import errno
import gzip
import io
import json
import lzma
import os
import re
import stat
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import BinaryIO, cast

import zstandard
from charset_normalizer import from_bytes
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no stubs

from tasks.core import safety
from tasks.core.records import ContentType, InputKind, RawDocument, Reject
from tasks.core.safety import RejectError, safe_text

STAGE = "ingest"
HTML_SUFFIXES = (".html", ".htm")
TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl",)
# A JSON file is one record (news-please writes one per article) or an array of them.
JSON_SUFFIXES = (".json",)
# Tables with a header row: one record per row.
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}
# trafilatura's XML output (`--xml --with-metadata`): one `<doc>` of an extracted article.
XML_SUFFIXES = (".xml",)
RECORD_SUFFIXES = JSONL_SUFFIXES + JSON_SUFFIXES + tuple(TABLE_DELIMITERS) + XML_SUFFIXES
# Entities and external DTDs are never read: a billion-laughs file or one naming a local
# file must not expand.
XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False)  # fmt: skip
# The attributes of trafilatura's `<doc>` that are fields of a record.
XML_FIELDS = ("title", "author", "date", "url", "sitename", "hostname", "id")
SUPPORTED = HTML_SUFFIXES + TEXT_SUFFIXES + RECORD_SUFFIXES
# The keys other tools give each field of a record, tried in order after the user's own
# (`IngestSettings.field_map`): newsetl's JSONL, news-please, trafilatura's JSON, newspaper4k,
# feeds. A `source` that is a URL (trafilatura's) is the page's address, not its outlet.
FIELD_KEYS: dict[str, tuple[str, ...]] = {
    "html": ("html", "raw_html"),
    "text": ("text", "maintext", "raw_text", "content", "body", "article_text"),
    "url": ("url", "link", "canonical_url"),
    "title": ("title", "headline"),
    "published_at": ("published_at", "date_publish", "date", "publish_date", "published",
                     "pubdate", "datePublished"),
    "source": ("source", "outlet", "source_domain", "sitename", "publisher", "hostname"),
    "author": ("author", "authors", "byline"),
    "id": ("id", "input_id", "guid", "uuid"),
}  # fmt: skip
GZIP_MAGIC = b"\x1f\x8b"
# Compressed inputs by suffix, read like the file inside them ("a.jsonl.xz" is JSONL): the
# compression tools news dumps come in. Each format's streams may be concatenated.
COMPRESSED = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd"}
# The shape of a day folder's name; `is_day_name` also requires a real calendar date.
DAY_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")
# 128 bits: an incremental run trusts an equal hash to mean an equal input.
SOURCE_HASH_CHARS = 32
# The 4-byte UTF-32 BOMs come first: UTF-32-LE's (FF FE 00 00) starts with UTF-16-LE's (FF FE).
BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# C0 control characters but tab, newline, form feed and carriage return: binary, not text.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
# Bytes that are not UTF-8, as `surrogateescape` decoding leaves them, and the characters
# that only valid multi-byte UTF-8 decodes to (non-ASCII, not an escaped byte).
ESCAPED_BYTES = re.compile("[\udc80-\udcff]")
MULTIBYTE_CHARS = re.compile("[\x80-\udc7f\udd00-\U0010ffff]")
SURROGATES = re.compile("[\ud800-\udfff]")
META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
CJK_ENCODINGS = frozenset(
    {
        "big5",
        "big5hkscs",
        "gb2312",
        "gb18030",
        "gbk",
        "shift_jis",
        "shift_jis_2004",
        "shift_jisx0213",
        "cp932",
        "cp949",
        "euc_jp",
        "euc_kr",
        "euc_jis_2004",
        "johab",
        "hz",
    }
)
# Only the document start is sniffed: a text file that is really a saved page starts with a tag.
HTML_SNIFF = ("<!doctype html", "<html", "<?xml", "<head", "<body")
# Signatures of formats that are not text, whatever the file is named: (format, regex on the
# first bytes). Each is long or specific enough that no article text starts with it.
MAGIC = tuple(
    (name, re.compile(pattern, re.S))
    for name, pattern in (
        # At the start only (readers also take it later in the first KB, but so short a
        # mark further in could be an article's own words).
        ("PDF", rb"\A(\xef\xbb\xbf)?\s*%PDF-"),
        ("PNG", rb"\A\x89PNG\r\n\x1a\n"),
        ("JPEG", rb"\A\xff\xd8\xff"),
        ("GIF", rb"\AGIF8[79]a"),
        ("ZIP (docx, xlsx, odt, epub)", rb"\APK(\x03\x04|\x05\x06|\x07\x08)"),
        ("OLE2 (doc, xls, ppt)", rb"\A\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        ("RTF", rb"\A\{\\rtf"),
        ("TIFF", rb"\A(II\*\x00|MM\x00\*)"),
        ("RIFF media (WebP, WAV, AVI)", rb"\ARIFF.{4}(WEBP|WAVE|AVI )"),
        ("ISO media (MP4, MOV, HEIC)", rb"\A.{4}ftyp"),
        ("Ogg", rb"\AOggS\x00"),
        ("FLAC", rb"\AfLaC"),
        ("MP3", rb"\AID3[\x02-\x04]\x00"),
        ("bzip2", rb"\ABZh[1-9]1AY&SY"),
        ("xz", rb"\A\xfd7zXZ\x00"),
        ("7z", rb"\A7z\xbc\xaf\x27\x1c"),
        ("RAR", rb"\ARar!\x1a\x07"),
        ("zstd", rb"\A\x28\xb5\x2f\xfd"),
        ("ELF executable", rb"\A\x7fELF"),
        ("tar", rb"\A.{257}ustar"),
        ("SQLite", rb"\ASQLite format 3\x00"),
    )
)
SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
# Opened without blocking (a FIFO swapped in after the check) and without following a link
# swapped in for the checked path; the flags are absent on Windows.
OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class IngestSettings:
    """Limits that keep one bad file from exhausting the run."""

    # The longest real news pages are a few MB of HTML; a bigger file is a dump or an attack,
    # and reading it whole would put the run's memory at risk.
    max_file_bytes: int = 20_000_000
    # Caps decompressed output (a gzip bomb expands ~1000x, bzip2 and zstd far more); same
    # bound as the file size it stands for.
    max_decompressed_bytes: int = 20_000_000
    # Text has almost no C0 control characters besides tab/newline; binary data is full of them.
    max_control_ratio: float = 0.01
    # UTF-8 text with a few stray bytes (a bad copy-paste, a truncated character) is still
    # UTF-8: up to 1% invalid bytes become U+FFFD, if the rest holds valid multi-byte UTF-8.
    # A legacy single-byte text (Latin-1, cp1252) has accented letters all along and no valid
    # multi-byte sequence, so it is still guessed; past 1% the file is not UTF-8 gone wrong.
    max_invalid_utf8_ratio: float = 0.01
    # Reading and decoding one honest file takes milliseconds (a charset guess well under a
    # second); 30 s only stops a pathological one (a crafted gzip header, a guess gone
    # quadratic, a file on a hung mount) from holding up the whole run.
    max_seconds_per_document: float = 30.0
    # Where a record's fields are when another tool named them: "field=key" entries
    # ("text=maintext", "published_at=date_publish"), tried before the known names of
    # FIELD_KEYS. The fields: html, text, url, title, published_at, source, author, id.
    field_map: tuple[str, ...] = ()
    # The pages fetched from one feed, sitemap or URL list: a news sitemap lists the last two
    # days (at most 1,000 pages), a feed a few dozen; a sitemap of a site's whole archive
    # (millions) would take weeks at a polite rate, so the rest is left out with a note.
    max_listed_pages: int = 10_000
    # The sitemaps of a sitemap index read in one run (a big site's index names hundreds).
    max_sitemaps: int = 500


@dataclass(frozen=True)
class _Decoded:
    """Decoded text, the encoding used, and what was worked around."""

    text: str
    encoding: str
    warnings: tuple[str, ...] = ()


def discover_paths(input_dir: Path) -> list[Path]:
    """List every input object under a folder, sorted, skipping hidden names and READMEs.

    Regular files, symlinks (never followed: `read_inputs` judges where they lead), special
    files and folders that cannot be listed are all listed, so each is counted as an input
    and ends as documents or a reject. Only real folders are descended into.
    """
    if not os.path.lexists(input_dir):
        return []
    found: list[Path] = []
    pending = [input_dir]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            found.append(folder)  # read_inputs rejects it as unreadable_folder (or a bad link)
            continue
        for entry in entries:
            folder_entry = _is_real_dir(entry)
            if is_ignored(entry.name, folder_entry):
                continue
            (pending if folder_entry else found).append(folder / entry.name)
    return sorted(found)


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    """Tell whether a folder entry is a folder itself, not a link to one."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def is_day_name(name: str) -> bool:
    """Tell whether a folder name is a day (`YYYY-MM-DD` and a real calendar date)."""
    if not DAY_FOLDER.fullmatch(name):
        return False
    try:
        date.fromisoformat(name)
    except ValueError:
        return False
    return True


def dated_layout(input_dir: Path) -> bool:
    """Tell whether the input folder holds day folders (`INPUT/YYYY-MM-DD/`, real dates only)."""
    with os.scandir(input_dir) as listing:
        return any(is_day_name(e.name) and _is_dir(e) for e in listing)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Tell whether a folder entry is a folder or a link to one."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def day_folder(input_dir: Path, day: date) -> Path | None:
    """The folder of a logical day: `INPUT/YYYY-MM-DD/` in the dated layout, else the whole input.

    In the dated layout a day without a folder has no input (None), so a backfill never
    reads every day's files into one partition. Folders named like impossible dates
    (`2025-02-30`) do not make the layout dated.
    """
    if not dated_layout(input_dir):
        return input_dir
    folder = input_dir / day.isoformat()
    # A link there (even broken or looping) is returned: `discover_paths` lists it and
    # `read_inputs` rejects it, rather than the day silently having no input.
    return folder if folder.is_dir() or folder.is_symlink() else None


def _uri(path: Path, input_dir: Path) -> str:
    """A path relative to the input folder as UTF-8 text: undecodable name bytes as `\\xNN`."""
    try:
        rel = path.relative_to(input_dir).as_posix()
    except ValueError:
        rel = path.as_posix()
    return _display(rel)


def _display(name: str) -> str:
    """A file name as valid UTF-8 text, its undecodable bytes written `\\xNN`."""
    try:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    except UnicodeError:
        return safe_text(name)


def _reject(uri: str, reason: str, detail: str) -> Reject:
    """A reject of this stage, its text made storable."""
    return Reject(safe_text(uri), reason, safe_text(detail[: safety.MAX_DETAIL_CHARS]), STAGE)


def _read_path(
    path: Path, uri: str, root: str, settings: IngestSettings
) -> list[RawDocument | Reject]:
    """The documents (or per-line rejects) of one input; a RejectError for a bad input."""
    real, info = _locate(path, root)
    if stat.S_ISDIR(info.st_mode):
        raise RejectError("unreadable_folder", _listing_error(real))
    for is_kind, kind in SPECIAL_KINDS:
        if is_kind(info.st_mode):
            raise RejectError("special_file", f"{kind}, not a file: never opened")
    if not stat.S_ISREG(info.st_mode):
        raise RejectError("special_file", f"not a regular file (mode {info.st_mode:o})")
    suffix, compression = file_format(path.name)
    _check_size(info.st_size, settings)
    data = _read_bytes(real, settings.max_file_bytes)
    return list(_read_file(data, uri, suffix, compression, settings))


def file_format(name: str) -> tuple[str, str | None]:
    """The format of a file by its name (".jsonl") and its compression ("gzip"), or a
    RejectError for a format newsetl does not read."""
    name = name.lower()
    packed = next((ext for ext in COMPRESSED if name.endswith(ext)), "")
    suffix = Path(name.removesuffix(packed)).suffix
    if suffix not in SUPPORTED:
        raise RejectError(
            "unsupported_format",
            f"suffix {_display(suffix) or '(none)'} is not one of {SUPPORTED}",
        )
    return suffix, COMPRESSED.get(packed)


def _check_size(size: int | None, settings: IngestSettings) -> None:
    """Refuse a file whose size is known to be past the cap before reading any of it."""
    if size is not None and size > settings.max_file_bytes:
        raise RejectError("too_large", f"{size} bytes > max_file_bytes {settings.max_file_bytes}")


def read_stream(
    stream: BinaryIO, size: int | None, name: str, uri: str, settings: IngestSettings
) -> list[RawDocument | Reject]:
    """The documents of a file read from a stream (a file on another filesystem)."""
    suffix, compression = file_format(name)
    _check_size(size, settings)
    data = read_capped(stream, settings.max_file_bytes)
    return list(_read_file(data, uri, suffix, compression, settings))


def _locate(path: Path, root: str) -> tuple[str, os.stat_result]:
    """The real path an input leads to and its status, if it stays inside the input folder.

    Nothing is opened here: a FIFO would block its reader forever.
    """
    try:
        info = os.lstat(path)
    except OSError as err:
        raise RejectError("unreadable_file", f"cannot stat: {_os_error(err)}") from err
    link = stat.S_ISLNK(info.st_mode)
    if link:
        try:
            info = os.stat(path)
        except OSError as err:
            target = _link_target(path)
            if err.errno == errno.ELOOP:
                raise RejectError("link_loop", f"symlink to {target} loops") from err
            if err.errno in (errno.ENOENT, errno.ENOTDIR):
                raise RejectError("broken_link", f"symlink to {target}, which is missing") from err
            raise RejectError("unreadable_file", f"symlink: {_os_error(err)}") from err
    real = os.path.realpath(path)
    if not _inside(real, root):
        where = f"symlink to {_link_target(path)}" if link else f"real path {_display(real)}"
        raise RejectError("outside_input", f"{where} is outside the input folder")
    if link and stat.S_ISDIR(info.st_mode):
        # Links are never walked into: a link to a parent folder would be walked forever,
        # and any other folder's files are inputs under their own paths already.
        if _inside(os.path.realpath(path.parent), real):
            raise RejectError("link_loop", f"symlink to {_link_target(path)}, a parent folder")
        raise RejectError(
            "linked_folder",
            f"symlink to folder {_link_target(path)} inside the input; not followed",
        )
    return real, info


def _inside(path: str, folder: str) -> bool:
    """Tell whether a real path is a folder or lies under it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _link_target(path: Path) -> str:
    """A symlink's target as written, for a reject's detail."""
    try:
        return _display(os.readlink(path))
    except OSError:
        return "(unreadable target)"


def _listing_error(folder: str) -> str:
    """Why a folder cannot be listed, for a reject's detail."""
    try:
        with os.scandir(folder):
            pass
    except OSError as err:
        return f"cannot list the folder: {_os_error(err)}"
    return "the folder could not be listed when the inputs were discovered"


def _os_error(err: OSError) -> str:
    """An OS error's message without the path (the reject's uri already names it)."""
    return err.strerror or type(err).__name__


def _read_bytes(real: str, limit: int) -> bytes:
    """Read a regular file's bytes, at most `limit` (a file may grow after its stat)."""
    with open_regular(real) as stream:
        try:
            return read_capped(stream, limit)
        except OSError as err:
            raise RejectError("unreadable_file", f"cannot read: {_os_error(err)}") from err


def open_regular(real: str) -> BinaryIO:
    """A regular file opened for binary reading, never blocking on a FIFO swapped in."""
    try:
        fd = os.open(real, OPEN_FLAGS)
    except OSError as err:
        raise RejectError("unreadable_file", f"cannot open: {_os_error(err)}") from err
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RejectError("special_file", "not a regular file when opened")
    return os.fdopen(fd, "rb")


def read_capped(stream: BinaryIO, limit: int) -> bytes:
    """A stream's bytes, read in pieces; too_large as soon as they pass `limit`."""
    pieces: list[bytes] = []
    size = 0
    while piece := stream.read(min(READ_CHUNK, limit + 1 - size)):
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            raise RejectError("too_large", f"more than max_file_bytes {limit} bytes")
    return b"".join(pieces)


def error_text(err: BaseException) -> str:
    """An error as a reject's detail: its type, and its message when it has one."""
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def is_ignored(name: str, folder: bool = False) -> bool:
    """Tell whether a name is left out of the inputs: hidden (a dot first), or a README file."""
    return name.startswith(".") or (not folder and name.lower().startswith("readme"))


def _read_file(
    data: bytes, uri: str, suffix: str, compression: str | None, settings: IngestSettings
) -> Iterator[RawDocument | Reject]:
    """Yield the documents (or per-line rejects) of one file's bytes."""
    if compression is not None:
        data = _decompress(data, compression, settings.max_decompressed_bytes)
    if not data.strip():
        raise RejectError("empty_input", f"{len(data)} bytes, no content")
    records = suffix in RECORD_SUFFIXES
    # A record with control characters is that record's reject, not the whole file's.
    html = not records and (
        suffix in HTML_SUFFIXES or looks_like_html(data[:4096].decode("latin-1"))
    )
    decoded = _decode(data, settings, whole_file_checks=not records, html=html)
    if not decoded.text.strip():
        raise RejectError("empty_input", "only whitespace once decoded")
    if suffix in JSONL_SUFFIXES:
        yield from _kind(_jsonl_documents(decoded, uri, settings), "jsonl")
    elif suffix in JSON_SUFFIXES:
        yield from _kind(_json_documents(decoded, uri, settings), "json")
    elif suffix in TABLE_DELIMITERS:
        yield from _kind(
            _table_documents(decoded, uri, TABLE_DELIMITERS[suffix], settings), "table"
        )
    elif suffix in XML_SUFFIXES:
        yield replace(_xml_document(decoded, uri, settings), input_kind="xml")
    else:
        text = decoded.text
        kind: ContentType = "html" if suffix in HTML_SUFFIXES or looks_like_html(text) else "text"
        yield RawDocument(
            source_uri=uri,
            content=text,
            content_type=kind,
            encoding=decoded.encoding,
            warnings=decoded.warnings,
        )


def _kind(items: Iterator[RawDocument | Reject], kind: InputKind) -> Iterator[RawDocument | Reject]:
    """The documents of a file of records, each marked with the file's kind."""
    for item in items:
        yield replace(item, input_kind=kind) if isinstance(item, RawDocument) else item


def _decompress(data: bytes, compression: str, limit: int) -> bytes:
    """Decompress data, every stream of it, refusing to expand past the limit in total."""
    chunks, total = [], 0
    try:
        with _decompressing(data, compression) as stream:
            # Read in pieces: zstd's reader returns at most a frame's worth per call.
            while piece := stream.read(min(READ_CHUNK, limit + 1 - total)):
                chunks.append(piece)
                total += len(piece)
                if total > limit:
                    raise RejectError(
                        "decompressed_too_large", f"expands past max_decompressed_bytes {limit}"
                    )
        if compression == "zstd":
            _check_zstd_frames(data)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError) as err:
        raise RejectError(f"corrupt_{compression}", str(err) or type(err).__name__) from err
    return b"".join(chunks)


def _check_zstd_frames(data: bytes) -> None:
    """Raise ZstdError unless the data is whole zstd frames: zstd's stream reader ends a cut
    frame as if it were complete. Run only once that reader kept within the size limit."""
    rest = data
    while rest:
        frame = zstandard.ZstdDecompressor().decompressobj()
        frame.decompress(rest)
        if not frame.eof:
            raise zstandard.ZstdError("the data ends inside a frame (truncated)")
        rest = frame.unused_data


def _decompressing(data: bytes, compression: str) -> io.BufferedIOBase:
    """A stream of the decompressed bytes: every member, stream or frame in turn."""
    raw = io.BytesIO(data)
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw)  # `cat a.gz b.gz` is one gzip of both texts
    if compression == "bzip2":
        return bz2.BZ2File(raw)
    if compression == "xz":
        return lzma.LZMAFile(raw)
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return cast(io.BufferedIOBase, reader)  # a reader with the same read(), a stub apart


def decode(
    data: bytes, max_control_ratio: float, max_invalid_utf8_ratio: float = 0.01
) -> tuple[str, str]:
    """Decode bytes as UTF-8 (or a BOM's encoding), else the best charset guess."""
    settings = IngestSettings(
        max_control_ratio=max_control_ratio, max_invalid_utf8_ratio=max_invalid_utf8_ratio
    )
    html = looks_like_html(data[:4096].decode("latin-1"))
    decoded = _decode(data, settings, whole_file_checks=True, html=html)
    return decoded.text, decoded.encoding


def _decode(
    data: bytes,
    settings: IngestSettings,
    whole_file_checks: bool,
    html: bool = False,
    charset: str | None = None,
) -> _Decoded:
    """Decode a file; without `whole_file_checks`, control characters are left to each line.

    Only an HTML page's own `<meta charset>` is believed: a text or JSONL file that quotes
    one (an article about web pages, a JSONL `html` field) is not in that charset.
    """
    _check_format(data)
    # The charset of the HTTP answer a page came in, as browsers do, before the page's own;
    # but servers often send a default "iso-8859-1" for pages written in UTF-8, and valid
    # multi-byte UTF-8 is almost never meant as Latin letters.
    declared = _declared_charset(data) if html else None
    if charset is not None and not _decodes(data, "utf-8"):
        declared = charset
    decoded = _decode_guess(data, settings.max_invalid_utf8_ratio, whole_file_checks, declared)
    if whole_file_checks and _control_ratio(decoded.text) > settings.max_control_ratio:
        raise RejectError("binary_content", "control characters exceed max_control_ratio")
    return decoded


def _check_format(data: bytes) -> None:
    """Reject data whose first bytes are a binary format's signature."""
    if data.startswith(GZIP_MAGIC):
        raise RejectError("unsupported_format", "gzip data without a .gz suffix (or gzip in gzip)")
    head = data[:1024]
    for name, signature in MAGIC:
        if signature.match(head):
            raise RejectError("unsupported_format", f"{name} data, not text")


def _decode_guess(
    data: bytes, max_invalid_ratio: float, whole_file_checks: bool, declared: str | None = None
) -> _Decoded:
    """Try the BOM, then BOM-less UTF-16, the declared charset, UTF-8, mostly UTF-8, a guess."""
    for bom, enc in BOMS:
        if data.startswith(bom):
            try:
                return _Decoded(data.decode(enc), enc)
            except UnicodeDecodeError as err:
                utf8 = enc == "utf-8-sig"
                mostly = _mostly_utf8(data[len(bom) :], max_invalid_ratio, enc) if utf8 else None
                if mostly is not None:
                    return mostly
                raise RejectError("undecodable", f"{enc} BOM but invalid data: {err}") from err
    head = data[:4096]
    if b"\x00" in head:
        if _looks_utf16(data):
            # BOM-less UTF-16: the NULs are the high bytes of Latin letters, odd bytes in LE.
            enc = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
            try:
                return _Decoded(data.decode(enc), enc)
            except UnicodeDecodeError as err:
                raise RejectError("undecodable", f"looks like {enc} but: {err}") from err
        if whole_file_checks:
            raise RejectError("binary_content", "NUL bytes in a file that is not UTF-16")
    for candidate in (declared, "utf-8"):
        if candidate:
            try:
                return _Decoded(data.decode(candidate), candidate)
            except (UnicodeDecodeError, LookupError):
                pass
    mostly = _mostly_utf8(data, max_invalid_ratio)
    if mostly is not None:
        return mostly
    guess = _guess_charset(data)
    if guess is None:
        raise RejectError("undecodable", "not UTF-8 and no charset guess fits")
    try:
        return _Decoded(data.decode(guess), guess)
    except (UnicodeDecodeError, LookupError) as err:
        raise RejectError("undecodable", f"guessed {guess} but: {err}") from err


def _mostly_utf8(data: bytes, max_invalid_ratio: float, enc: str = "utf-8") -> _Decoded | None:
    """UTF-8 text with a few invalid bytes, each replaced by U+FFFD; None if it is not that.

    It must hold valid multi-byte sequences: a single-byte legacy text has none, and its
    accented letters are invalid UTF-8 bytes however few they are.
    """
    escaped = data.decode("utf-8", "surrogateescape")
    invalid = len(ESCAPED_BYTES.findall(escaped))
    if invalid == 0 or invalid > max_invalid_ratio * len(data):
        return None
    if MULTIBYTE_CHARS.search(escaped) is None:
        return None
    text = ESCAPED_BYTES.sub("\ufffd", escaped)
    return _Decoded(text, enc, (f"invalid_utf8: {invalid} bytes replaced",))


def _declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in its first bytes, if any and if it can be true.

    The declaration was read as ASCII, so only a charset that writes ASCII as ASCII can be
    the page's: a page that says `cp037` (EBCDIC) or `utf-16` in ASCII bytes is neither.
    """
    match = META_CHARSET.search(data[:4096])
    if not match:
        return None
    name = match.group(1).decode("ascii").lower()
    try:
        fits = match.group(0).decode(name, "strict").lower().startswith("<meta")
    except (LookupError, UnicodeDecodeError):
        return None
    return name if fits else None


def _guess_charset(data: bytes) -> str | None:
    """Best charset guess, preferring windows-1252 as browsers do for unlabeled Western text."""
    sample = data[:200_000]
    matches = list(from_bytes(sample))
    fits_1252 = _decodes(sample, "cp1252")
    if not matches:
        return "cp1252" if fits_1252 else None
    best = matches[0]
    tied = {m.encoding for m in matches if m.chaos <= best.chaos}
    if "cp1252" in tied or (fits_1252 and _chaos(sample, "cp1252") <= best.chaos):
        return "cp1252"
    # A few high bytes in ASCII text are accented letters, not a CJK multibyte text.
    if fits_1252 and best.encoding in CJK_ENCODINGS and _ascii_share(sample) > 0.9:
        return "cp1252"
    return str(best.encoding)


def _chaos(data: bytes, encoding: str) -> float:
    """charset_normalizer's mess ratio of the data read in one encoding (1.0: too messy)."""
    # charset_normalizer 3.5 leaves cp1252 out of its candidates for German text that cp775
    # reads as cleanly ("Z³rich"), so the browsers' default is scored on its own.
    found = from_bytes(data, cp_isolation=[encoding]).best()
    return found.chaos if found is not None else 1.0


def _decodes(data: bytes, encoding: str) -> bool:
    """Tell whether bytes decode cleanly in an encoding."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _ascii_share(data: bytes) -> float:
    """Share of 7-bit bytes."""
    return sum(1 for b in data if b < 0x80) / max(len(data), 1)


def _looks_utf16(data: bytes) -> bool:
    """BOM-less UTF-16 of Latin text has NUL in every other byte."""
    head = data[:4096]
    return head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4


def _control_ratio(text: str) -> float:
    """Share of C0 control characters other than tab, newline, carriage return, form feed."""
    sample = text[:100_000]
    if not sample:
        return 0.0
    return len(CONTROL_CHARS.findall(sample)) / len(sample)


def looks_like_html(text: str) -> bool:
    """Sniff whether a document is HTML from its first characters."""
    return text.lstrip()[:200].lower().startswith(HTML_SNIFF)


def _jsonl_documents(
    decoded: _Decoded, uri: str, settings: IngestSettings
) -> Iterator[RawDocument | Reject]:
    """Yield one document per JSONL line; a broken line is a reject of its own.

    Lines end at "\\n" only: JSON strings may hold U+2028, U+0085 and the like, which
    `str.splitlines` would cut a record at.
    """
    produced = False
    for line_no, line in enumerate(decoded.text.split("\n"), start=1):
        if CONTROL_CHARS.search(line) is None and not line.strip():
            continue
        produced = True
        line_uri = f"{uri}#L{line_no}"
        yield _one(line_uri, partial(_jsonl_document, line, line_uri, decoded, settings), settings)
    if not produced:
        raise RejectError("empty_input", "no JSON lines: every line is blank or whitespace")


def _jsonl_document(
    line: str, uri: str, decoded: _Decoded, settings: IngestSettings
) -> RawDocument:
    """Turn one JSONL object into a document."""
    if CONTROL_CHARS.search(line):
        raise RejectError("binary_content", "NUL or control characters in the line")
    try:
        obj = json.loads(line)
    except RecursionError as err:
        raise RejectError("too_deep", "JSON nested too deep to parse") from err
    except ValueError as err:  # JSONDecodeError, and integers past Python's digit limit
        raise RejectError("malformed_json_line", str(err)) from err
    if not isinstance(obj, dict):
        raise RejectError("malformed_json_line", f"expected an object, got {type(obj).__name__}")
    return _record_document(obj, uri, decoded, settings)


def _json_documents(
    decoded: _Decoded, uri: str, settings: IngestSettings
) -> Iterator[RawDocument | Reject]:
    """Yield the documents of a JSON file: one object, or an array of them (`#R<n>` each)."""
    try:
        found = json.loads(decoded.text)
    except RecursionError as err:
        raise RejectError("too_deep", "JSON nested too deep to parse") from err
    except ValueError as err:
        raise RejectError("malformed_json", str(err)) from err
    if isinstance(found, dict):
        yield _record_document(found, uri, decoded, settings)
        return
    if not isinstance(found, list) or not found:
        raise RejectError("malformed_json", "expected an object or a non-empty array of objects")
    for n, item in enumerate(found, start=1):
        yield _record(item, f"{uri}#R{n}", decoded, settings)


def _xml_document(decoded: _Decoded, uri: str, settings: IngestSettings) -> RawDocument:
    """The article of a trafilatura XML file: the `<main>` text, the `<doc>` metadata."""
    try:
        root = etree.fromstring(decoded.text.encode("utf-8"), XML_PARSER)
    except (etree.XMLSyntaxError, ValueError) as err:
        raise RejectError("malformed_xml", str(err)) from err
    main = root.find("main") if root.tag == "doc" else None
    if main is None:
        raise RejectError("unsupported_format", f"XML whose root is <{root.tag}>, not trafilatura's"
                          " <doc><main>; a feed or sitemap is given as --input")  # fmt: skip
    blocks = ["\n".join(map(_xml_text, block)) if block.tag == "list" else _xml_text(block)
              for block in main]  # fmt: skip
    record = {k: root.get(k) for k in XML_FIELDS if root.get(k)}
    return _record_document({**record, "text": "\n\n".join(b for b in blocks if b)}, uri,
                            decoded, settings)  # fmt: skip


def _xml_text(element: etree._Element) -> str:
    """An element's text, its whitespace runs made single spaces."""
    return " ".join(" ".join(element.itertext()).split())


def _table_documents(
    decoded: _Decoded, uri: str, delimiter: str, settings: IngestSettings
) -> Iterator[RawDocument | Reject]:
    """Yield one document per row of a table with a header row (`#R<n>`, n from 1)."""
    # Strict: a quote never closed is an error, not the rest of the file in one cell.
    rows = csv.DictReader(io.StringIO(decoded.text, newline=""), delimiter=delimiter, strict=True)
    n = 0
    try:
        if not rows.fieldnames:
            raise RejectError("malformed_table", "no header row")
        for n, row in enumerate(rows, start=1):
            # Cells past the header's columns are kept under None: not a field of ours.
            yield _record({k: v for k, v in row.items() if k is not None}, f"{uri}#R{n}",
                          decoded, settings)  # fmt: skip
    except csv.Error as err:
        raise RejectError("malformed_table", f"line {rows.line_num}: {err}") from err
    if n == 0:
        raise RejectError("empty_input", "a header row and no record")


def _record(
    item: object, uri: str, decoded: _Decoded, settings: IngestSettings
) -> RawDocument | Reject:
    """One record of an array or table as a document, or its own reject."""

    def make() -> RawDocument:
        if not isinstance(item, dict):
            raise RejectError("malformed_record", f"expected an object, got {type(item).__name__}")
        return _record_document(item, uri, decoded, settings)

    return _one(uri, make, settings)


def _one(
    uri: str, make: Callable[[], RawDocument], settings: IngestSettings
) -> RawDocument | Reject:
    """One record of a file (a line, an element, a row), or its own reject: a bad record
    never costs the file's others."""
    try:
        return make()
    except RejectError as err:
        return _reject(uri, err.reason, err.detail)
    except Exception as err:
        return safety.failure(uri, err, STAGE, settings.max_seconds_per_document)


@lru_cache(maxsize=64)
def field_keys(field_map: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Each field's keys in a record: the mapping's first, then the known names.

    A malformed entry or one naming no field of ours raises ValueError, with its one line.
    """
    keys = {name: list(known) for name, known in FIELD_KEYS.items()}
    for entry in field_map:
        name, sep, key = (part.strip() for part in entry.partition("="))
        if not sep or not name or not key:
            raise ValueError(f"field mapping {entry!r} is not FIELD=KEY")
        if name not in keys:
            raise ValueError(f"field mapping {entry!r}: no field {name!r}; the fields: "
                             f"{', '.join(FIELD_KEYS)}")  # fmt: skip
        keys[name] = [key, *(k for k in keys[name] if k != key)]
    return {name: tuple(found) for name, found in keys.items()}


def _field(
    obj: Mapping[str, object],
    keys: Sequence[str],
    strip: bool = True,
    lists: bool = False,
    numbers: bool = False,
) -> str | None:
    """The first non-empty string of the keys (with `lists`, a list of strings joined: the
    authors; with `numbers`, a whole number as text: an id); a text kept as given (`strip`
    False) for the cleaner to judge its spacing."""
    for key in keys:
        value = obj.get(key)
        if numbers and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if lists and isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ", ".join(v.strip() for v in value if v.strip())
        if isinstance(value, str) and value.strip():
            return value.strip() if strip else value
    return None


def _source_as_url(obj: Mapping[str, object]) -> Mapping[str, object]:
    """A record whose `source` is a web address (trafilatura's JSON): it is the page's URL."""
    source = obj.get("source")
    if not isinstance(source, str) or not source.strip().startswith(("http://", "https://")):
        return obj
    rest = {k: v for k, v in obj.items() if k != "source"}
    return rest if _opt_str(obj.get("url")) else {**rest, "url": source}


def _record_document(
    obj: Mapping[str, object], uri: str, decoded: _Decoded, settings: IngestSettings
) -> RawDocument:
    """Turn one record (a JSON object, a table row) into a document."""
    keys = field_keys(settings.field_map)
    obj = _source_as_url(obj)
    html, text = _field(obj, keys["html"], strip=False), _field(obj, keys["text"], strip=False)
    content = html or text
    if content is None:
        raise RejectError("missing_text", f"no non-empty field of {keys['text'] + keys['html']}")
    if _control_ratio(content) > settings.max_control_ratio:
        raise RejectError("binary_content", "control characters exceed max_control_ratio")
    kind: ContentType = "html" if content is html or looks_like_html(content) else "text"
    fields = (
        content,
        _field(obj, keys["url"]),
        _field(obj, keys["title"]),
        _field(obj, keys["published_at"]),
        _field(obj, keys["source"]),
        _field(obj, keys["author"], lists=True),
        _field(obj, keys["id"], numbers=True),
    )
    # JSON escapes can spell lone surrogates ("\ud800"), which no UTF-8 table can store; each
    # becomes U+FFFD, as a decoder marks a bad character (`safe_text` would write "?").
    safe = [SURROGATES.sub("\ufffd", f) if f is not None else None for f in fields]
    warnings = decoded.warnings
    if safe != list(fields):
        warnings += ("invalid_unicode: lone surrogates replaced",)
    return RawDocument(
        source_uri=uri,
        content=safe[0] or "",
        content_type=kind,
        encoding=decoded.encoding,
        url=safe[1],
        title=safe[2],
        published_at=safe[3],
        outlet=safe[4],
        author=safe[5],
        input_id=safe[6],
        warnings=warnings,
    )


def _opt_str(value: object) -> str | None:
    """Keep a field only when it is a non-empty string."""
    return value.strip() if isinstance(value, str) and value.strip() else None
