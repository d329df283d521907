"""Keep fetched pages in a WARC.gz file, so they can be extracted again without fetching."""

from __future__ import annotations

import io
from datetime import UTC
from http import HTTPStatus
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import (
    datetime_to_iso_date,
    iso_date_to_datetime,
)
from warcio.warcwriter import WARCWriter

from tasks.web.fetch import Closable, Fetched

# The stored body is the decoded page, whole: headers that describe how it travelled would
# lie about it, and a reader that trusts Content-Encoding (warcio's own content_stream) would
# try to gunzip plain HTML. They are kept under this prefix, for the record of what was sent.
ORIGINAL_PREFIX = "X-Original-"
TRANSFER_HEADERS = ("content-encoding", "transfer-encoding", "content-length")


class PageArchive(Closable):
    """A WARC.gz file of fetched pages, so they can be extracted again without fetching."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Appended to, never truncated: the offsets recorded for pages already in the file
        # stay valid when a later run adds to it.
        self._file = path.open("ab")
        # WARC/1.0 (seconds in WARC-Date) is the version every WARC reader takes; gzip=True
        # writes each record as its own gzip member, so one can be read from its offset.
        self._writer = WARCWriter(self._file, gzip=True)

    def close(self) -> None:
        """Close the file; every record added is already written out."""
        self._file.close()

    def add(self, fetched: Fetched) -> tuple[int, int]:
        """Write a fetched page as a `response` record; its (offset, length) in the file."""
        if fetched.reason is not None or fetched.status != 200:
            raise ValueError(
                f"only fetched pages are archived; {fetched.url} has status {fetched.status} "
                f"and reason {fetched.reason}"
            )
        http_headers = StatusAndHeaders(
            _status_line(fetched.status),
            _stored_headers(fetched.headers, len(fetched.body)),
            protocol=fetched.http_version,
        )
        # warcio's dates are naive UTC; an aware datetime would come out as "+00:00Z".
        date = fetched.fetched_at.astimezone(UTC).replace(tzinfo=None)
        record = self._writer.create_warc_record(
            fetched.final_url,
            "response",
            payload=io.BytesIO(fetched.body),
            length=len(fetched.body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": datetime_to_iso_date(date)},
        )
        offset = self._file.tell()
        self._writer.write_record(record)  # flushes the file after the record
        return offset, self._file.tell() - offset


def read_page(path: Path, offset: int) -> Fetched:
    """The page kept in the `response` record at `offset` of a WARC(.gz) file."""
    with path.open("rb") as file:
        file.seek(offset)
        records = ArchiveIterator(file)
        try:
            record = next(records, None)
            if record is None or record.rec_type != "response" or not record.http_headers:
                raise ValueError(f"no HTTP response record at offset {offset} of {path}")
            url = str(record.rec_headers.get_header("WARC-Target-URI"))
            http = record.http_headers
            body = bytes(record.content_stream().read())
            fetched_at = iso_date_to_datetime(
                record.rec_headers.get_header("WARC-Date"), tz_aware=True
            )
            return Fetched(
                url=url,
                final_url=url,
                status=int(http.get_statuscode()),
                headers=tuple((str(k), str(v)) for k, v in http.headers),
                body=body,
                fetched_at=fetched_at,
                reason=None,
                http_version=str(http.protocol),
            )
        finally:
            records.close()


def _status_line(status: int) -> str:
    """`200 OK`: the status code and its standard phrase."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _stored_headers(headers: tuple[tuple[str, str], ...], length: int) -> list[tuple[str, str]]:
    """The headers of a stored page: transfer headers renamed, Content-Length the body's."""
    stored = [
        (ORIGINAL_PREFIX + name if name.lower() in TRANSFER_HEADERS else name, value)
        for name, value in headers
    ]
    stored.append(("Content-Length", str(length)))
    return stored
