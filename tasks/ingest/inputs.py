"""The inputs of a run, each read on its own: a file, a record of a WARC file, a fetched page."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Literal, Protocol
from urllib.parse import urlsplit

import fsspec

from tasks.core import safety
from tasks.core.records import InputKind, RawDocument, Reject, short_hash
from tasks.core.safety import RejectError
from tasks.ingest import warc
from tasks.ingest.listing import SNIFF_BYTES, ListedPage, sniff
from tasks.ingest.read import (
    HTML_SUFFIXES,
    SOURCE_HASH_CHARS,
    STAGE,
    XML_SUFFIXES,
    IngestSettings,
    _locate,
    _os_error,
    _read_path,
    _uri,
    discover_paths,
    error_text,
    file_format,
    open_regular,
    read_stream,
)

# What another filesystem raises for a file it cannot give: missing, refused, a network failure.
STORE_ERRORS = (OSError, ValueError, TimeoutError)

HTTP_PREFIXES = ("http://", "https://")
ReadKind = Literal["path", "remote", "warc_record", "page"]


@dataclass(frozen=True)
class Input:
    """One input of a run: a file, one record of a WARC file, or a page to fetch."""

    uri: str  # the source_uri of what it yields (a record's: the file's with `#W<offset>`)
    path: Path | None = None  # the file it is in
    read: ReadKind = "path"
    offset: int = 0  # a WARC record's byte offset in its file
    length: int = 0  # and its length there
    problem: tuple[str, str] | None = None  # (reason, detail) found when it was listed
    page: ListedPage | None = None  # a page to fetch, as its listing named it
    kind: InputKind = "file"  # a page's: the kind of listing that named it
    listed_in: str = ""  # a page's listing
    location: str | None = None  # a file's URL on another filesystem (s3://, https://)


@dataclass(frozen=True)
class Listed:
    """The inputs found under a folder, and what the run should note about them."""

    inputs: list[Input]
    notes: list[str]


SourceKind = Literal["folder", "file", "listing", "remote"]


@dataclass(frozen=True)
class Source:
    """Where a run's inputs are: a folder, one file, a feed, sitemap or URL list, or a folder
    or file on another filesystem."""

    given: str  # as the user wrote it
    kind: SourceKind
    root: Path | None = None  # the local folder inputs are named by and kept inside
    listing: bytes | None = None  # a local listing's bytes (a remote one is fetched)


def resolve(given: str, settings: IngestSettings) -> Source:
    """Tell what an input is; ValueError, with one line to show, when it cannot be one."""
    if given.lower().startswith(HTTP_PREFIXES) and not _data_file(urlsplit(given).path):
        return Source(given, "listing")
    if "://" in given:
        protocol = given.split("://", 1)[0].lower()
        try:
            fsspec.get_filesystem_class(protocol)
        except (ValueError, ImportError) as err:
            raise ValueError(f"--input {given}: no filesystem for {protocol}:// ({err})") from err
        return Source(given, "remote")
    path = Path(given)
    if path.is_dir():
        return Source(given, "folder", path)
    if not path.is_file():
        raise ValueError(f"--input {given} is not a folder, a file or an http(s) URL")
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if sniff(head) is None:
        return Source(given, "file", path.parent)
    with path.open("rb") as fh:
        data = fh.read(settings.max_file_bytes + 1)
    if len(data) > settings.max_file_bytes:
        raise ValueError(f"--input {given}: a listing of more than max_file_bytes "
                         f"{settings.max_file_bytes}")  # fmt: skip
    return Source(given, "listing", path.parent, data)


def _data_file(name: str) -> bool:
    """Tell whether a URL's path names a file newsetl reads (a dump, an archive), not a page."""
    if warc.is_warc(name):
        return True
    try:
        file_format(name)
    except RejectError:
        return False
    # A page, a feed or a sitemap is fetched and looked at, not read as a file of records.
    return not name.lower().endswith((*HTML_SUFFIXES, *XML_SUFFIXES))


def discover_file(path: Path) -> Listed:
    """The inputs of one file given alone: the file, or the page records of a WARC file."""
    return _inputs([path], path.parent)


def discover(folder: Path, input_dir: Path | None = None) -> Listed:
    """Every input under a folder, sorted: each file, and each page record of a WARC file.

    Inputs are named relative to `input_dir` (by default the folder itself): a day folder's
    files keep their day in their names. A WARC file is read through once here, in pieces,
    to list its records; each is then read on its own, so a run holds one record at a time,
    not the archive.
    """
    return _inputs(discover_paths(folder), folder if input_dir is None else input_dir)


def _inputs(paths: Sequence[Path], input_dir: Path) -> Listed:
    """Files as inputs named relative to the input folder, WARC files as their records."""
    root = os.path.realpath(input_dir)
    inputs: list[Input] = []
    notes: list[str] = []
    for path in paths:
        uri = _uri(path, input_dir)
        if not warc.is_warc(path.name):
            inputs.append(Input(uri, path))
            continue
        found, note = _warc_inputs(path, uri, root)
        inputs.extend(found)
        notes.extend([note] if note else [])
    return Listed(inputs, notes)


def _warc_inputs(path: Path, uri: str, root: str) -> tuple[list[Input], str | None]:
    """The page records of a WARC file as inputs; the file as one reject if it cannot be read."""
    try:
        real, _info = _locate(path, root)
        with open_regular(real) as stream:
            scan = warc.scan_warc(stream)
    except RejectError as err:
        return [Input(uri, path, problem=(err.reason, err.detail))], None
    except Exception as err:  # listing one file must never stop the run
        return [Input(uri, path, problem=("unreadable_file", error_text(err)))], None
    return warc_inputs(scan, uri, Input(uri, path, "warc_record"))


def warc_inputs(scan: warc.WarcScan, uri: str, file: Input) -> tuple[list[Input], str | None]:
    """A scanned WARC file's records as inputs (`file` with each one's offset), the rest of a
    broken file as one reject, and the note of the records that are no page."""
    found = [
        replace(file, uri=f"{uri}#W{e.offset}", offset=e.offset, length=e.length)
        for e in scan.entries
    ]
    if scan.broken_at is not None:
        # What follows the break cannot be split into records: it is one input, rejected.
        found.append(replace(file, uri=f"{uri}#W{scan.broken_at}", offset=scan.broken_at,
                             problem=(scan.reason,
                                      f"no record can be read from here on: {scan.error}")))  # fmt: skip
    if not found:
        found.append(replace(file, problem=("empty_input", "a WARC file with no page record")))
    return found, warc.skipped_note(uri, scan.skipped)


class PageSource(Protocol):
    """Where the pages of a run's listings come from (see `pages.PageReader`)."""

    def document(self, item: Input, settings: IngestSettings) -> RawDocument:
        """Fetch one page into a document, or raise RejectError."""
        ...

    @property
    def budget_seconds(self) -> float:
        """The longest one page's fetch may take, retries and waits included."""
        ...


def read_inputs(
    inputs: Sequence[Input],
    input_dir: Path | None,
    settings: IngestSettings,
    salts: Mapping[str, str] | None = None,
    pages: PageSource | None = None,
) -> tuple[list[RawDocument], list[Reject]]:
    """Read a batch of inputs into documents; every input yields documents or a reject.

    `salts` (the extraction fingerprint of each content type) go into each document's
    `source_hash`; `pages` fetches the inputs that are pages. Each input runs under
    `max_seconds_per_document` (and a page under its fetch's own budget on top); no error
    of one escapes.
    """
    root = os.path.realpath(input_dir) if input_dir is not None else None

    def read(item: Input) -> list[RawDocument | Reject]:
        return [
            replace(
                found, source_hash=source_hash(found, (salts or {}).get(found.content_type, ""))
            )
            if isinstance(found, RawDocument)
            else found
            for found in _read(item, root, settings, pages)
        ]

    budget = settings.max_seconds_per_document + (pages.budget_seconds if pages else 0.0)
    results = safety.each_document(inputs, read, lambda i: i.uri, STAGE, budget)
    # A file is one result; a JSONL file's is a list of documents and per-line rejects.
    return safety.split_results(
        item for result in results for item in ([result] if isinstance(result, Reject) else result)
    )


def _read(
    item: Input, root: str | None, settings: IngestSettings, pages: PageSource | None
) -> list[RawDocument | Reject]:
    """The documents (or per-record rejects) of one input; a RejectError for a bad input."""
    if item.problem is not None:
        raise RejectError(*item.problem)
    if item.read == "page":
        if pages is None:
            raise RejectError("not_fetched", "a page to fetch, in a run that fetches nothing")
        return [pages.document(item, settings)]
    if item.location is not None:
        with _opened(item.location) as stream:
            if item.read == "warc_record":
                stream.seek(item.offset)
                return [warc.record_document(stream.read(item.length), item.uri, settings)]
            return read_stream(stream, item.length or None, item.location, item.uri, settings)
    if item.path is None or root is None:
        raise RejectError("unreadable_file", "an input with no file")
    if item.read == "warc_record":
        data = _record_bytes(item, item.path, root, settings)
        return [warc.record_document(data, item.uri, settings)]
    return _read_path(item.path, item.uri, root, settings)


@contextmanager
def _opened(location: str) -> Iterator[BinaryIO]:
    """A file on another filesystem opened for reading; its failures as rejects."""
    try:
        with fsspec.open(location, "rb") as stream:
            yield stream
    except RejectError:
        raise
    except STORE_ERRORS as err:
        raise RejectError("unreadable_file", error_text(err)) from err


def _record_bytes(item: Input, path: Path, root: str, settings: IngestSettings) -> bytes:
    """The bytes of one WARC record, read from its offset in the file."""
    if item.length > settings.max_file_bytes + warc.MAX_HEADER_BYTES:
        raise RejectError("too_large", f"a record of {item.length} bytes > max_file_bytes "
                          f"{settings.max_file_bytes}")  # fmt: skip
    real, _info = _locate(path, root)
    with open_regular(real) as stream:
        try:
            stream.seek(item.offset)
            return stream.read(item.length)
        except OSError as err:
            raise RejectError("unreadable_file", f"cannot read: {_os_error(err)}") from err


def source_hash(doc: RawDocument, salt: str) -> str:
    """Hash of an input's content and given metadata under one set of extraction settings.

    Equal hashes mean the same article would come out again, so an incremental run reuses it.
    The fetch time is left out: a page fetched again unchanged is the same article.
    """
    parts = (salt, doc.source_uri, doc.content_type, doc.content, doc.url, doc.title,
             doc.published_at, doc.outlet, doc.author, doc.input_id, doc.input_kind,
             str(doc.http_status or ""), doc.http_last_modified)  # fmt: skip
    return short_hash("\x00".join(p or "" for p in parts), SOURCE_HASH_CHARS)
