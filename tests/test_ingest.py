"""Ingest: every file becomes documents or a reject with a specific reason."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tasks.ingest import IngestSettings, decode, discover, read_inputs

SETTINGS = IngestSettings()


def _ingest(tmp_path: Path, files: dict[str, bytes], settings: IngestSettings = SETTINGS):
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return read_inputs(discover(tmp_path), tmp_path, settings)


def test_discover_skips_hidden_and_readme(tmp_path: Path) -> None:
    for name in ("b.txt", "a/c.html", ".hidden.txt", "README.md", ".git/x.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)] == ["a/c.html", "b.txt"]


def test_text_html_and_sniffed_html(tmp_path: Path) -> None:
    docs, rejects = _ingest(
        tmp_path,
        {
            "a.txt": b"Plain words here.",
            "b.htm": b"<p>Hi</p>",
            "c.txt": b"  <!DOCTYPE html><html><body>x</body></html>",
        },
    )
    assert rejects == []
    assert [(d.source_uri, d.content_type) for d in docs] == [
        ("a.txt", "text"),
        ("b.htm", "html"),
        ("c.txt", "html"),
    ]


def test_bad_files_are_rejected_with_reasons(tmp_path: Path) -> None:
    docs, rejects = _ingest(
        tmp_path,
        {
            "empty.txt": b"",
            "blank.txt": b" \n\t\n",
            "binary.txt": bytes(range(256)) * 8,
            "notes.pdf": b"%PDF-1.4",
            "bomb.txt.gz": gzip.compress(b"a" * 5000),
            "broken.txt.gz": b"\x1f\x8bnot gzip at all",
        },
        IngestSettings(max_decompressed_bytes=1000),
    )
    assert docs == []
    assert {r.source_uri: r.reason for r in rejects} == {
        "empty.txt": "empty_input",
        "blank.txt": "empty_input",
        "binary.txt": "binary_content",
        "notes.pdf": "unsupported_format",
        "bomb.txt.gz": "decompressed_too_large",
        "broken.txt.gz": "corrupt_gzip",
    }
    assert all(r.stage == "ingest" and r.detail for r in rejects)


def test_too_large_is_rejected_before_reading(tmp_path: Path) -> None:
    _, rejects = _ingest(tmp_path, {"big.txt": b"word " * 1000}, IngestSettings(max_file_bytes=100))
    assert [(r.reason) for r in rejects] == ["too_large"]


def test_encodings_are_detected() -> None:
    latin = "Le ministre a déclaré que la frontière était fermée à Genève. " * 5
    assert decode(latin.encode("latin-1"), 0.01)[0] == latin
    assert decode(latin.encode("utf-16"), 0.01) == (latin, "utf-16")
    assert decode(("\ufeff" + latin).encode("utf-8"), 0.01) == (latin, "utf-8-sig")
    assert decode(latin.encode("utf-8"), 0.01) == (latin, "utf-8")


def test_gzip_text_is_read(tmp_path: Path) -> None:
    docs, rejects = _ingest(tmp_path, {"a.txt.gz": gzip.compress("Zürich news.".encode())})
    assert rejects == [] and docs[0].content == "Zürich news." and docs[0].content_type == "text"


def test_jsonl_lines_become_documents_or_rejects(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "text": "Body one.",
                "url": "https://x.org/1",
                "title": "T1",
                "published_at": "2024-01-02",
                "source": "X News",
            }
        ),
        "",
        json.dumps({"html": "<html><p>Body two.</p></html>"}),
        "{not json",
        json.dumps({"title": "no body"}),
        json.dumps(["a", "list"]),
    ]
    docs, rejects = _ingest(tmp_path, {"feed.jsonl": "\n".join(lines).encode()})
    assert [(d.source_uri, d.content_type) for d in docs] == [
        ("feed.jsonl#L1", "text"),
        ("feed.jsonl#L3", "html"),
    ]
    first = docs[0]
    assert (first.url, first.title, first.published_at, first.outlet) == (
        "https://x.org/1",
        "T1",
        "2024-01-02",
        "X News",
    )
    assert {r.source_uri: r.reason for r in rejects} == {
        "feed.jsonl#L4": "malformed_json_line",
        "feed.jsonl#L5": "missing_text",
        "feed.jsonl#L6": "malformed_json_line",
    }


def test_western_and_central_european_encodings() -> None:
    german = "Der Minister sagte, die Grenze über Zürich sei geschlossen. " * 3
    polish = "Zażółć gęślą jaźń, powiedział minister. " * 5
    assert decode(german.encode("cp1252"), 0.01) == (german, "cp1252")
    assert decode(polish.encode("cp1250"), 0.01)[0] == polish


def test_declared_html_charset_wins() -> None:
    page = '<html><head><meta charset="windows-1251"></head><body>Привет, мир</body></html>'
    assert decode(page.encode("cp1251"), 0.01) == (page, "windows-1251")
