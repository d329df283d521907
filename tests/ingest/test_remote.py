"""Inputs on other filesystems: an S3-compatible store and a web server, both on loopback."""

from __future__ import annotations

import gzip
import io
import json
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import fsspec
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter
from webserver import Site

from flows.pipeline import news_etl
from tasks import ingest
from tasks import warehouse as views
from tasks.ingest import IngestSettings

DAY = date(2025, 4, 1)
BUCKET = "news-dumps"


def _free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def s3() -> Iterator[Any]:
    """A real S3-compatible store (moto's server) on loopback, and fsspec pointed at it."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # fsspec's own configuration (what ~/.config/fsspec/conf.json holds for a user).
    saved = dict(fsspec.config.conf)
    fsspec.config.conf["s3"] = {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "key": "test",
        "secret": "test",
        "skip_instance_cache": True,
    }
    fs = fsspec.filesystem("s3")
    fs.mkdir(BUCKET)
    try:
        yield fs
    finally:
        fsspec.config.conf.clear()
        fsspec.config.conf.update(saved)
        server.stop()


def _jsonl(texts: list[str]) -> bytes:
    """A gzipped JSONL dump of the texts, one record each."""
    lines = [
        json.dumps({"id": f"r{i}", "title": f"Story {i}", "text": t}) for i, t in enumerate(texts)
    ]
    return gzip.compress("\n".join(lines).encode())


def _warc(pages: list[tuple[str, str]]) -> bytes:
    """A WARC.gz of response records, one per (url, html)."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for url, page in pages:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                   protocol="HTTP/1.1")  # fmt: skip
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(page.encode()),
                                                      http_headers=headers))  # fmt: skip
    return out.getvalue()


def _outcomes(warehouse: Path) -> dict[str, str]:
    """Each input's end: `article`, or its reject's reason."""
    con = views.connect(warehouse)
    try:
        rows = con.execute(
            "SELECT source_uri, 'article' FROM articles UNION ALL SELECT source_uri, reason FROM rejects"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def test_an_s3_folder_is_read_like_a_local_one(
    s3: Any, seed_texts: list[str], tmp_path: Path
) -> None:
    base = f"{BUCKET}/incoming"
    s3.pipe(f"{base}/{DAY}/dump.jsonl.gz", _jsonl(seed_texts[:2]))
    s3.pipe(f"{base}/{DAY}/page.txt", seed_texts[2].encode())
    s3.pipe(
        f"{base}/{DAY}/crawl.warc.gz",
        _warc([("http://a.test/1", f"<html><body><p>{seed_texts[3]}</p></body></html>")]),
    )
    good = json.dumps({"text": seed_texts[0]}).encode()
    s3.pipe(f"{base}/{DAY}/bad.jsonl", good + b"\n{broken\n")
    s3.pipe(f"{base}/{DAY}/photo.jpg", b"\xff\xd8\xff\xe0 not text")
    s3.pipe(f"{base}/{DAY}/.hidden.txt", b"never read")
    s3.pipe(f"{base}/2025-04-02/other-day.txt", seed_texts[4].encode())
    warehouse = tmp_path / "wh"
    summary = news_etl(f"s3://{base}/", warehouse, DAY)
    outcomes = _outcomes(warehouse)
    warc_uri = next(u for u in outcomes if u.startswith(f"{DAY}/crawl.warc.gz#W"))
    assert outcomes == {
        f"{DAY}/dump.jsonl.gz#L1": "article",
        f"{DAY}/dump.jsonl.gz#L2": "article",
        f"{DAY}/page.txt": "article",
        warc_uri: "article",
        f"{DAY}/bad.jsonl#L1": "article",
        f"{DAY}/bad.jsonl#L2": "malformed_json_line",
        f"{DAY}/photo.jpg": "unsupported_format",
    }
    assert summary.inputs == len(outcomes)


def test_a_dump_is_read_from_a_web_server(web: Site, seed_texts: list[str]) -> None:
    url = web.url("/dumps/today.jsonl.gz")
    web.page("/dumps/today.jsonl.gz", _jsonl(seed_texts[:3]), content_type="application/gzip")
    assert ingest.resolve(url, IngestSettings()).kind == "remote"
    listed, _where = ingest.discover_remote(url, DAY)
    docs, rejects = ingest.read_inputs(listed.inputs, None, IngestSettings())
    assert not rejects
    assert [(d.source_uri, d.title, d.input_id) for d in docs] == [
        (f"today.jsonl.gz#L{i + 1}", f"Story {i}", f"r{i}") for i in range(3)
    ]


def test_a_missing_remote_file_is_a_reject_and_an_unknown_protocol_refused(
    web: Site, tmp_path: Path
) -> None:
    listed, _where = ingest.discover_remote(web.url("/none.jsonl"), DAY)
    docs, rejects = ingest.read_inputs(listed.inputs, None, IngestSettings())
    assert not docs
    assert [(r.source_uri, r.reason) for r in rejects] == [("none.jsonl", "unreadable_file")]
    with pytest.raises(ValueError, match="nosuchfs"):
        ingest.resolve("nosuchfs://bucket/x", IngestSettings())
