"""Ingest: every file becomes documents or a reject with a specific reason."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import socket
import stat
import time
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import zstandard

from tasks.core.records import RawDocument, Reject
from tasks.core.safety import RejectError
from tasks.ingest import Input, discover, read_inputs
from tasks.ingest import read as ingest
from tasks.ingest.read import (
    IngestSettings,
    dated_layout,
    day_folder,
    decode,
)

SETTINGS = IngestSettings()


def _ingest(
    tmp_path: Path, files: dict[str, bytes], settings: IngestSettings = SETTINGS
) -> tuple[list[RawDocument], list[Reject]]:
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return read_inputs(discover(tmp_path).inputs, tmp_path, settings)


def test_discover_skips_hidden_and_readme(tmp_path: Path) -> None:
    for name in ("b.txt", "a/c.html", ".hidden.txt", "README.md", ".git/x.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [i.uri for i in discover(tmp_path).inputs] == ["a/c.html", "b.txt"]


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


# --- Hostile input: nothing escapes, every object under the folder is counted. ---


def _outcomes(docs: list[RawDocument], rejects: list[Reject]) -> dict[str, str]:
    """Each input's outcome by source_uri: "article" or the reject reason."""
    got = {d.source_uri: "article" for d in docs}
    got.update({r.source_uri: r.reason for r in rejects})
    for text in [*got, *(r.detail for r in rejects)]:
        text.encode("utf-8")  # every uri and detail is storable as UTF-8
    return got


def test_settings_have_a_per_document_time_budget() -> None:
    assert SETTINGS.max_seconds_per_document == 30


def test_a_slow_document_times_out_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_decode = ingest._decode

    def slow(data: bytes, *args: Any, **kwargs: Any) -> Any:
        if data.startswith(b"slow"):
            time.sleep(5)
        return real_decode(data, *args, **kwargs)

    monkeypatch.setattr(ingest, "_decode", slow)
    started = time.monotonic()
    docs, rejects = _ingest(
        tmp_path,
        {"a.txt": b"slow words", "b.txt": b"Quick words."},
        IngestSettings(max_seconds_per_document=0.3),
    )
    assert time.monotonic() - started < 3
    assert _outcomes(docs, rejects) == {"a.txt": "timeout", "b.txt": "article"}


def test_no_exception_escapes_read_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(data: bytes) -> None:
        if b"boom" in data:
            raise RuntimeError("unexpected")

    monkeypatch.setattr(ingest, "_check_format", explode)
    docs, rejects = _ingest(tmp_path, {"a.txt": b"boom", "b.txt": b"Fine words."})
    assert _outcomes(docs, rejects) == {"a.txt": "extraction_error", "b.txt": "article"}
    # A path that vanished between discovery and reading is a reject, not an OSError.
    docs, rejects = read_inputs([Input("gone.txt", tmp_path / "gone.txt")], tmp_path, SETTINGS)
    assert _outcomes(docs, rejects) == {"gone.txt": "unreadable_file"}


def test_input_error_is_the_shared_reject_error() -> None:
    assert not hasattr(ingest, "InputError")
    with pytest.raises(RejectError) as caught:
        decode(b"%PDF-1.4 hello", 0.01)
    assert caught.value.reason == "unsupported_format"


def test_symlinks_stay_inside_the_input(tmp_path: Path) -> None:
    inputs, outside = tmp_path / "in", tmp_path / "outside"
    (inputs / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret words outside.")
    (inputs / "real.txt").write_text("Real words inside.")
    links = {
        "inside.txt": "real.txt",
        "escape.txt": "../outside/secret.txt",
        "escape-dir": "../outside",
        "broken.txt": "missing.txt",
        "a.txt": "b.txt",
        "b.txt": "a.txt",
        "self.txt": "self.txt",
        "sub/up": "..",
        "sub/sibling": "../sub",
        "twin": "sub",
    }
    for name, target in links.items():
        (inputs / name).symlink_to(target)
    found = [i.uri for i in discover(inputs).inputs]
    assert found == sorted([*links, "real.txt"])  # nothing walked through a link
    assert _outcomes(*read_inputs(discover(inputs).inputs, inputs, SETTINGS)) == {
        "real.txt": "article",
        "inside.txt": "article",
        "escape.txt": "outside_input",
        "escape-dir": "outside_input",
        "broken.txt": "broken_link",
        "a.txt": "link_loop",
        "b.txt": "link_loop",
        "self.txt": "link_loop",
        "sub/up": "link_loop",
        "sub/sibling": "link_loop",
        "twin": "linked_folder",
    }


def test_a_day_folder_linked_outside_reads_nothing_outside(tmp_path: Path) -> None:
    inputs, outside = tmp_path / "in", tmp_path / "elsewhere"
    inputs.mkdir()
    outside.mkdir()
    (outside / "x.txt").write_text("Words from elsewhere.")
    (inputs / "2025-01-15").symlink_to(outside)
    folder = day_folder(inputs, date(2025, 1, 15))
    assert folder is not None
    docs, rejects = read_inputs(discover(folder, inputs).inputs, inputs, SETTINGS)
    assert _outcomes(docs, rejects) == {"2025-01-15/x.txt": "outside_input"}


def test_special_files_are_rejected_without_being_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(tmp_path / "sock.txt"))
    expected = {"pipe.txt": "special_file", "sock.txt": "special_file", "ok.txt": "article"}
    try:
        os.mknod(tmp_path / "null.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        expected["null.txt"] = "special_file"
    except PermissionError:
        pass  # only root makes device nodes; the FIFO and the socket still test the path
    (tmp_path / "ok.txt").write_text("Plain words.")
    (tmp_path / "link-to-pipe.txt").symlink_to("pipe.txt")
    expected["link-to-pipe.txt"] = "special_file"
    try:
        # A bug that opened the FIFO would block: the time budget turns it into a timeout.
        settings = IngestSettings(max_seconds_per_document=2)
        assert _outcomes(*read_inputs(discover(tmp_path).inputs, tmp_path, settings)) == expected
    finally:
        sock.close()


def test_unlistable_folder_is_an_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "x.txt").write_text("Hidden words.")
    (tmp_path / "ok.txt").write_text("Plain words.")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    # Root ignores folder permissions, so the refusal is simulated.
    monkeypatch.setattr(os, "scandir", scandir)
    paths = discover(tmp_path).inputs
    assert [i.uri for i in paths] == ["locked", "ok.txt"]
    assert _outcomes(*read_inputs(paths, tmp_path, SETTINGS)) == {
        "locked": "unreadable_folder",
        "ok.txt": "article",
    }


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists and reads files whatever their mode")
def test_permissions_are_rejects(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "x.txt").write_text("Hidden words.")
    (tmp_path / "secret.txt").write_text("Secret words.")
    (tmp_path / "locked").chmod(0)
    (tmp_path / "secret.txt").chmod(0)
    try:
        assert _outcomes(*read_inputs(discover(tmp_path).inputs, tmp_path, SETTINGS)) == {
            "locked": "unreadable_folder",
            "secret.txt": "unreadable_file",
        }
    finally:
        (tmp_path / "locked").chmod(0o700)


def test_unreadable_file_is_a_reject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret.txt").write_text("Secret words.")
    (tmp_path / "ok.txt").write_text("Plain words.")
    real_open = os.open

    def deny(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("secret.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    # Root reads files whatever their mode, so the refusal is simulated.
    monkeypatch.setattr(os, "open", deny)
    assert _outcomes(*read_inputs(discover(tmp_path).inputs, tmp_path, SETTINGS)) == {
        "secret.txt": "unreadable_file",
        "ok.txt": "article",
    }


def test_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    with open(os.path.join(folder, b"caf\xe9.txt"), "wb") as out:
        out.write("Le café a fermé.".encode())
    with open(os.path.join(folder, b"caf\xe9.pdf"), "wb") as out:
        out.write(b"%PDF-1.4")
    os.symlink(b"gone\xff.txt", os.path.join(folder, b"link\xff.txt"))
    docs, rejects = read_inputs(discover(tmp_path).inputs, tmp_path, SETTINGS)
    assert _outcomes(docs, rejects) == {
        "caf\\xe9.txt": "article",
        "caf\\xe9.pdf": "unsupported_format",
        "link\\xff.txt": "broken_link",
    }
    assert docs[0].content == "Le café a fermé." and len(docs[0].source_hash) == 32
    assert "gone\\xff.txt" in rejects[1].detail


def test_day_folders_must_be_real_dates(tmp_path: Path) -> None:
    for name in ("9999-99-99", "2025-02-30"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.txt").write_text("Words.")
    assert not dated_layout(tmp_path)
    assert day_folder(tmp_path, date(2025, 1, 15)) == tmp_path
    assert len(discover(tmp_path).inputs) == 2
    (tmp_path / "2025-01-14").mkdir()
    assert dated_layout(tmp_path)
    assert day_folder(tmp_path, date(2025, 1, 14)) == tmp_path / "2025-01-14"
    assert day_folder(tmp_path, date(2025, 1, 15)) is None


def test_multi_member_gzip_is_read_whole_and_capped(tmp_path: Path) -> None:
    both = gzip.compress(b"First part. ") + gzip.compress(b"Second part.")
    docs, rejects = _ingest(tmp_path, {"a.txt.gz": both})
    assert rejects == [] and docs[0].content == "First part. Second part."
    bombs = gzip.compress(b"a" * 600) + gzip.compress(b"b" * 600)  # each under the cap, not both
    _, rejects = _ingest(tmp_path, {"a.txt.gz": bombs}, IngestSettings(max_decompressed_bytes=1000))
    assert [r.reason for r in rejects] == ["decompressed_too_large"]


def test_utf32_boms_are_not_taken_for_utf16() -> None:
    text = "Le ministre a déclaré que la frontière était fermée. " * 3
    assert decode(text.encode("utf-32"), 0.01) == (text, "utf-32")
    assert decode(("\ufeff" + text).encode("utf-32-be"), 0.01) == (text, "utf-32")
    assert decode(("\ufeff" + text).encode("utf-32-le"), 0.01) == (text, "utf-32")


def test_mostly_utf8_keeps_utf8_with_a_warning(tmp_path: Path) -> None:
    sentence = "Le ministér a parlé aux journalistes de la frontière à Genève. " * 8
    data = sentence.encode("utf-8")
    data = data[:50] + b"\xff" + data[50:100] + b"\x80" + data[100:200] + b"\xff\x80" + data[200:]
    docs, rejects = _ingest(tmp_path, {"a.txt": data})
    assert rejects == []
    [doc] = docs
    assert doc.encoding == "utf-8" and "ministér" in doc.content and "ĂŠ" not in doc.content
    assert doc.content.count("\ufffd") == 4
    assert doc.warnings == ("invalid_utf8: 4 bytes replaced",)
    # Too many invalid bytes: not UTF-8 gone wrong, so the charset is guessed as before.
    latin = "Le ministre a déclaré que la frontière était fermée à Genève. " * 5
    assert decode(latin.encode("latin-1") + "é".encode(), 0.01)[1] != "utf-8"


def test_binary_formats_are_rejected_whatever_the_suffix(tmp_path: Path) -> None:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    files = {
        "small.txt": b"%PDF-1.4 hello",
        "report.html": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "image.txt": b"\x89PNG\r\n\x1a\n" + b"IHDR" * 10,
        "photo.htm": b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"x" * 20,
        "anim.txt": b"GIF89a" + b"x" * 20,
        "letter.txt": zipped.getvalue(),
        "backup.txt.gz": gzip.compress(b"a.txt".ljust(257, b"\x00") + b"ustar\x0000" + bytes(300)),
        "gz-no-suffix.txt": gzip.compress(b"Words."),
        "inner.txt.gz": gzip.compress(b"%PDF-1.4 hello"),
    }
    docs, rejects = _ingest(tmp_path, files)
    assert docs == []
    assert {r.source_uri: r.reason for r in rejects} == dict.fromkeys(files, "unsupported_format")


def test_jsonl_splits_on_newlines_only(tmp_path: Path) -> None:
    text = "One line\u2028two\u2029three\u0085four\u000cfive, one long record. " * 3
    data = json.dumps({"text": text}, ensure_ascii=False).encode()
    docs, rejects = _ingest(tmp_path, {"feed.jsonl": data})
    assert rejects == [] and [d.content for d in docs] == [text]


def test_jsonl_lines_are_judged_alone(tmp_path: Path) -> None:
    lines = [
        b'{"text": "Good one."}',
        b'{"text": "nul\x00inside"}',
        b"[" * 100_000,
        b'{"text": "big", "n": ' + b"1" * 5000 + b"}",
        b'{"text": "caf\\ud800 news", "title": "T\\udfff"}',
        b'{"text": "Good two."}\r',
    ]
    docs, rejects = _ingest(tmp_path, {"feed.jsonl": b"\n".join(lines)})
    assert _outcomes(docs, rejects) == {
        "feed.jsonl#L1": "article",
        "feed.jsonl#L2": "binary_content",
        "feed.jsonl#L3": "too_deep",
        "feed.jsonl#L4": "malformed_json_line",
        "feed.jsonl#L5": "article",
        "feed.jsonl#L6": "article",
    }
    surrogate = docs[1]
    assert (surrogate.content, surrogate.title) == ("caf\ufffd news", "T\ufffd")
    assert surrogate.warnings == ("invalid_unicode: lone surrogates replaced",)
    assert docs[0].warnings == () and all(len(r.detail) <= 500 for r in rejects)


def test_jsonl_with_nothing_in_it_is_one_reject(tmp_path: Path) -> None:
    blank = "\u3000\n\u00a0\n\u2028\n \n\r\n".encode()
    docs, rejects = _ingest(tmp_path, {"blank.jsonl": blank, "ws.jsonl": "\ufeff\u3000".encode()})
    assert docs == []
    assert _outcomes(docs, rejects) == {"blank.jsonl": "empty_input", "ws.jsonl": "empty_input"}


def test_a_charset_is_believed_only_where_it_can_be_true() -> None:
    text = "Pages declare <meta charset='cp037'> in their head, the article explained. Déjà vu."
    # A text file that quotes a declaration is not in that charset.
    assert decode(text.encode("utf-8"), 0.01) == (text, "utf-8")
    # Nor is a page whose ASCII declaration names a charset that does not write ASCII so.
    page = f"<html><head><meta charset='cp037'></head><body>{text}</body></html>"
    assert decode(page.encode("utf-8"), 0.01) == (page, "utf-8")


COMPRESSORS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
}
CORRUPT = {"gz": "corrupt_gzip", "bz2": "corrupt_bzip2", "xz": "corrupt_xz", "zst": "corrupt_zstd"}


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_compressed_inputs_read_like_the_file_inside(tmp_path: Path, ext: str) -> None:
    pack = COMPRESSORS[ext]
    line = json.dumps({"text": "Second text of the lines.", "url": "https://x.test/a"})
    docs, rejects = _ingest(
        tmp_path,
        {
            f"a.txt.{ext}": pack(b"First text, plain."),
            f"b.html.{ext}": pack(b"<html><body><p>A page.</p></body></html>"),
            # Two streams one after the other (`cat a.xz b.xz`) are one file of both.
            f"c.jsonl.{ext}": pack(line.encode() + b"\n") + pack(b"{broken\n"),
            f"bomb.txt.{ext}": pack(b"a" * 5000),
            f"cut.txt.{ext}": pack(b"Some text that is cut short. " * 50)[:40],
            f"plain.txt.{ext}": b"Not compressed at all, whatever its name says.",
            f"d.pdf.{ext}": pack(b"%PDF-1.4"),
        },
        IngestSettings(max_decompressed_bytes=1000),
    )
    assert [(d.source_uri, d.content_type, d.content[:12], d.url) for d in docs] == [
        (f"a.txt.{ext}", "text", "First text, ", None),
        (f"b.html.{ext}", "html", "<html><body>", None),
        (f"c.jsonl.{ext}#L1", "text", "Second text ", "https://x.test/a"),
    ]
    assert {r.source_uri: r.reason for r in rejects} == {
        f"bomb.txt.{ext}": "decompressed_too_large",
        f"c.jsonl.{ext}#L2": "malformed_json_line",
        f"cut.txt.{ext}": CORRUPT[ext],
        f"plain.txt.{ext}": CORRUPT[ext],
        f"d.pdf.{ext}": "unsupported_format",
    }
    assert all(r.detail for r in rejects)


def _fields(docs: list[RawDocument]) -> list[tuple[object, ...]]:
    return [(d.source_uri, d.content[:9], d.url, d.title, d.published_at, d.outlet, d.author)
            for d in docs]  # fmt: skip


def test_other_tools_records_are_read_with_their_field_names(tmp_path: Path) -> None:
    news_please = {"maintext": "Body of one.", "title": "One", "date_publish": "2024-01-02 10:00:00",
                   "url": "https://a.test/1", "source_domain": "a.test", "authors": ["Ann Lee",
                   "Bo Cruz"]}  # fmt: skip
    trafilatura = {"text": "Body of two.", "title": "Two", "date": "2024-01-03",
                   "source": "https://b.test/2", "sitename": "B Daily", "author": "Cy Dunn"}  # fmt: skip
    docs, rejects = _ingest(
        tmp_path,
        {
            "np.json": json.dumps(news_please).encode(),
            "tr.json": json.dumps([trafilatura, 7, {"title": "no text"}]).encode(),
            "table.csv": b"title,text,published_at,source,author\n"
            b'Three,"Body of three, with a comma.",2024-01-04,C Times,Di Eze\n'
            b"Four,,2024-01-05,C Times,\n",
            "table.tsv": b"headline\tcontent\nFive\tBody of five.\n",
        },
    )
    assert _fields(docs) == [
        ("np.json", "Body of o", "https://a.test/1", "One", "2024-01-02 10:00:00", "a.test",
         "Ann Lee, Bo Cruz"),
        ("table.csv#R1", "Body of t", None, "Three", "2024-01-04", "C Times", "Di Eze"),
        ("table.tsv#R1", "Body of f", None, "Five", None, None, None),
        # trafilatura's `source` is the page's address, not its outlet.
        ("tr.json#R1", "Body of t", "https://b.test/2", "Two", "2024-01-03", "B Daily", "Cy Dunn"),
    ]  # fmt: skip
    assert {r.source_uri: r.reason for r in rejects} == {
        "tr.json#R2": "malformed_record",
        "tr.json#R3": "missing_text",
        "table.csv#R2": "missing_text",
    }


def test_an_inputs_own_id_is_kept_as_given(tmp_path: Path) -> None:
    docs, _ = _ingest(
        tmp_path,
        {
            "a.json": json.dumps(
                [
                    {"id": 17, "text": "One."},
                    {"guid": "urn:x:2", "text": "Two."},
                    {"id": True, "text": "Three."},
                ]
            ).encode(),
            "b.jsonl": json.dumps({"story_no": "S-9", "text": "Four."}).encode(),
        },
        IngestSettings(field_map=("id=story_no",)),
    )
    assert [(d.source_uri, d.input_id) for d in docs] == [
        ("a.json#R1", "17"),
        ("a.json#R2", "urn:x:2"),
        ("a.json#R3", None),  # true is no id
        ("b.jsonl#L1", "S-9"),
    ]


def test_a_field_map_names_the_keys_first(tmp_path: Path) -> None:
    record = {"story": "The mapped body.", "text": "Not this one.", "when": "2024-02-01",
              "writer": "Ed Fox"}  # fmt: skip
    settings = IngestSettings(field_map=("text=story", "published_at=when", "author=writer"))
    docs, _ = _ingest(tmp_path, {"a.jsonl": json.dumps(record).encode()}, settings)
    assert [(d.content, d.published_at, d.author) for d in docs] == [
        ("The mapped body.", "2024-02-01", "Ed Fox")
    ]
    with pytest.raises(ValueError, match="no field 'body'"):
        ingest.field_keys(("body=story",))
    with pytest.raises(ValueError, match="is not FIELD=KEY"):
        ingest.field_keys(("text",))


def test_broken_record_files_are_rejected_whole_or_by_record(tmp_path: Path) -> None:
    _, rejects = _ingest(
        tmp_path,
        {
            "cut.json": b'[{"text": "a b c"}, {"text": ',
            "scalar.json": b"42",
            "empty-array.json": b"[]",
            "no-rows.csv": b"text,title\n",
            "quote.csv": b'text,title\n"never closed,Title\n',
            # No text column at all; and a row that stops before its text cell.
            "no-text.csv": b"title,author\nA,B\n",
            "short-row.tsv": b"title\ttext\nOnly a title\n",
        },
    )
    assert {r.source_uri: r.reason for r in rejects} == {
        "cut.json": "malformed_json",
        "scalar.json": "malformed_json",
        "empty-array.json": "malformed_json",
        "no-rows.csv": "empty_input",
        "quote.csv": "malformed_table",
        "no-text.csv#R1": "missing_text",
        "short-row.tsv#R1": "missing_text",
    }


def test_trafilatura_xml_is_read_as_its_article(tmp_path: Path) -> None:
    import trafilatura

    page = (
        "<html><head><title>Flood plan agreed</title><meta name='author' content='Ann Lee'>"
        "<meta property='article:published_time' content='2024-01-02'></head><body><article>"
        "<h1>Flood plan agreed</h1><p>The government agreed on Tuesday to spend more on flood"
        " defences along the coast, ministers said.</p><ul><li>One</li><li>Two</li></ul>"
        "</article></body></html>"
    )
    xml = trafilatura.extract(page, output_format="xml", with_metadata=True, url="https://a.test/x")
    assert xml is not None
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE doc [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><doc><main><p>&b;</p></main></doc>'
    )
    docs, rejects = _ingest(
        tmp_path,
        {
            "t.xml": xml.encode(),
            "feed.xml": b"<rss version='2.0'><channel><title>x</title></channel></rss>",
            "broken.xml": b"<doc><main><p>never closed</main>",
            "laughs.xml": laughs.encode(),
        },
    )
    by_uri = {d.source_uri: d for d in docs}
    doc = by_uri["t.xml"]
    assert (doc.title, doc.author, doc.published_at, doc.url, doc.input_kind) == (
        "Flood plan agreed", "Ann Lee", "2024-01-02", "https://a.test/x", "xml",
    )  # fmt: skip
    assert "spend more on flood defences" in doc.content and "One\nTwo" in doc.content
    assert {r.source_uri: r.reason for r in rejects} == {
        "feed.xml": "unsupported_format",
        "broken.xml": "malformed_xml",
    }
    # An entity is never expanded: its reference stays as written.
    assert by_uri["laughs.xml"].content == "&b;"
