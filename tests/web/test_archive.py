"""The page archive: fetched pages written as WARC.gz records and read back from their offsets."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from webserver import Site

from tasks.web.archive import PageArchive, read_page
from tasks.web.fetch import Fetched, Fetcher, FetchSettings

FAST = FetchSettings(timeout_seconds=2.0, retries=0, host_delay_seconds=0.0)
PAGES = {
    "/news/1": ("<html><body><p>First story.</p></body></html>", "text/html; charset=utf-8"),
    "/news/2": ("Zweite Meldung: Grüße aus Köln.", "text/plain; charset=iso-8859-1"),
    "/feed": ("<rss><channel><title>t</title></channel></rss>", "application/rss+xml"),
}


def fetch_all(web: Site, paths: list[str]) -> list[Fetched]:
    """Fetch each path of the site, all expected to succeed."""
    with Fetcher(FAST) as fetcher:
        fetched = [fetcher.fetch(web.url(path)) for path in paths]
    assert [f.reason for f in fetched] == [None] * len(paths)
    return fetched


def serve_pages(web: Site) -> None:
    """Serve PAGES, each in its own encoding."""
    for path, (text, content_type) in PAGES.items():
        charset = content_type.partition("charset=")[2] or "utf-8"
        web.page(path, text.encode(charset), content_type=content_type, etag=f'"{path}"')


def test_pages_read_back_from_their_offsets(web: Site, tmp_path: Path) -> None:
    serve_pages(web)
    fetched = fetch_all(web, list(PAGES))
    path = tmp_path / "deep" / "pages.warc.gz"
    with PageArchive(path) as archive:
        places = [archive.add(f) for f in fetched]
    assert places[0][0] == 0
    assert all(length > 0 for _, length in places)
    assert [o for o, _ in places[1:]] == [o + n for o, n in places[:-1]]
    assert sum(n for _, n in places) == path.stat().st_size
    for original, (offset, _) in zip(fetched, places, strict=True):
        back = read_page(path, offset)
        assert back.url == back.final_url == original.final_url
        assert (back.status, back.reason, back.body) == (200, None, original.body)
        assert (back.content_type, back.charset) == (original.content_type, original.charset)
        assert back.etag == original.etag
        assert back.http_version == original.http_version
        # WARC/1.0 dates are to the second.
        assert back.fetched_at == original.fetched_at.replace(microsecond=0)


def test_the_file_is_valid_warc_gz(web: Site, tmp_path: Path) -> None:
    serve_pages(web)
    path = tmp_path / "pages.warc.gz"
    fetched = fetch_all(web, list(PAGES))
    with PageArchive(path) as archive:
        places = [archive.add(f) for f in fetched]
    data = path.read_bytes()
    # One gzip member per record, so each can be read from its offset alone.
    assert all(data[offset : offset + 2] == b"\x1f\x8b" for offset, _ in places)
    assert gzip.decompress(data).startswith(b"WARC/1.0\r\n")
    seen = []
    with path.open("rb") as file:
        records = ArchiveIterator(file, check_digests="raise")
        for record in records:
            body = record.content_stream().read()
            seen.append(
                (
                    record.rec_type,
                    record.rec_headers.get_header("WARC-Target-URI"),
                    len(body),
                    records.get_record_offset(),
                    records.get_record_length(),
                )
            )
    assert seen == [
        ("response", web.url(p), len(f.body), offset, length)
        for p, f, (offset, length) in zip(PAGES, fetched, places, strict=True)
    ]


def test_a_gzip_encoded_page_is_kept_decoded(web: Site, tmp_path: Path) -> None:
    html = ("<html><body>" + "<p>Compressed story text.</p>" * 200 + "</body></html>").encode()
    web.page("/gz", gzip.compress(html), headers={"Content-Encoding": "gzip"})
    (fetched,) = fetch_all(web, ["/gz"])
    assert fetched.body == html
    assert fetched.header("content-encoding") == "gzip"
    path = tmp_path / "pages.warc.gz"
    with PageArchive(path) as archive:
        offset, _ = archive.add(fetched)
    back = read_page(path, offset)
    assert back.body == html
    assert back.header("Content-Encoding") is None
    assert back.header("X-Original-Content-Encoding") == "gzip"
    assert back.header("Content-Length") == str(len(html))
    assert back.header("X-Original-Content-Length") == str(len(gzip.compress(html)))


def test_a_reopened_archive_is_added_to(web: Site, tmp_path: Path) -> None:
    serve_pages(web)
    first, second = fetch_all(web, ["/news/1", "/news/2"])
    path = tmp_path / "pages.warc.gz"
    with PageArchive(path) as archive:
        offset_1, _ = archive.add(first)
    with PageArchive(path) as archive:
        offset_2, _ = archive.add(second)
    assert offset_2 > offset_1
    assert read_page(path, offset_1).body == first.body
    assert read_page(path, offset_2).body == second.body


def test_only_fetched_pages_are_archived(web: Site, tmp_path: Path) -> None:
    serve_pages(web)
    (page,) = fetch_all(web, ["/news/1"])
    with PageArchive(tmp_path / "pages.warc.gz") as archive:
        for failed in (
            replace(page, status=304, reason="not_modified", body=b""),
            replace(page, status=404, reason="http_status_404", body=b""),
            replace(page, status=None, reason="timeout", body=b""),
        ):
            with pytest.raises(ValueError, match="only fetched pages"):
                archive.add(failed)
    assert (tmp_path / "pages.warc.gz").stat().st_size == 0


def test_no_record_at_an_offset_is_an_error(web: Site, tmp_path: Path) -> None:
    serve_pages(web)
    path = tmp_path / "pages.warc.gz"
    with PageArchive(path) as archive:
        archive.add(fetch_all(web, ["/news/1"])[0])
    with pytest.raises(ValueError, match="no HTTP response record"):
        read_page(path, path.stat().st_size)
