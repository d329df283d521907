"""WARC archives: each page record is one input, read on its own, as an article or a reject."""

from __future__ import annotations

import gzip
import io
import random
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from flows.pipeline import news_etl
from tasks.core.records import RawDocument, Reject
from tasks.ingest import IngestSettings, discover, read_inputs
from tasks.warehouse import query

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
WARC_DATE = "2024-03-05T10:20:30Z"
FETCHED = datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC)
LAST_MODIFIED = "Tue, 05 Mar 2024 09:00:00 GMT"
HTML = (("Content-Type", "text/html; charset=utf-8"),)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
SITE = "https://news.example.org"
# After every page's date, so no publication date is refused as in the future.
RUN_DATE = date(2030, 1, 1)
SUFFIXES = (".warc", ".warc.gz")


@dataclass(frozen=True)
class Rec:
    """One record to write: its WARC-Type, target URI, payload and HTTP answer."""

    kind: str
    url: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = HTML
    status: str = "200 OK"


def write_warc(path: Path, records: Sequence[Rec], info: bool = True) -> list[int]:
    """Write a WARC (gzipped when named `.gz`), a warcinfo record first; each record's offset."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=path.name.endswith(".gz"))
    if info:
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
    offsets = []
    for rec in records:
        offsets.append(out.tell())
        writer.write_record(_record(writer, rec))
    path.write_bytes(out.getvalue())
    return offsets


def _record(writer: WARCWriter, rec: Rec) -> object:
    """A warcio record of the given type."""
    dated = {"WARC-Date": WARC_DATE}
    if rec.kind == "revisit":
        return writer.create_revisit_record(
            rec.url, "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", rec.url, "2024-03-01T00:00:00Z"
        )
    http = None
    if rec.kind == "response":
        http = StatusAndHeaders(rec.status, list(rec.headers), protocol="HTTP/1.1")
    elif rec.kind == "request":
        http = StatusAndHeaders("GET / HTTP/1.1", [("Host", "x")], is_http_request=True)
    ctype = dict(rec.headers).get("Content-Type", "") if http is None else ""
    return writer.create_warc_record(
        rec.url, rec.kind, payload=io.BytesIO(rec.body), http_headers=http,
        warc_content_type=ctype, warc_headers_dict=dated,
    )  # fmt: skip


def page(text: str, title: str = "A page") -> str:
    """A simple HTML page around some paragraphs of text (blank lines part paragraphs)."""
    paragraphs = "".join(f"<p>{p.strip()}</p>\n" for p in text.split("\n") if p.strip())
    return (f"<!DOCTYPE html><html><head><title>{title}</title></head><body><article>"
            f"<h1>{title}</h1>\n{paragraphs}</article></body></html>")  # fmt: skip


def seed_pages() -> list[bytes]:
    """The seeds, each wrapped as a simple UTF-8 HTML page titled by its first line."""
    pages = []
    for path in sorted(SEEDS.glob("*.txt")):
        title, _, rest = path.read_text(encoding="utf-8").strip().partition("\n")
        pages.append(page(rest, title.strip()).encode("utf-8"))
    return pages


@dataclass(frozen=True)
class Ingested:
    """What ingest made of a folder: the inputs listed, the notes, documents and rejects."""

    inputs: list[str]
    notes: list[str]
    docs: list[RawDocument]
    rejects: list[Reject]

    def outcomes(self) -> dict[str, str]:
        """Each input's end: "article" or its reject reason; every input exactly once."""
        ends = [(d.source_uri, "article") for d in self.docs]
        ends += [(r.source_uri, r.reason) for r in self.rejects]
        counts = Counter(uri for uri, _ in ends)
        assert [uri for uri, n in counts.items() if n > 1] == []
        return dict(ends)

    def doc(self, uri: str) -> RawDocument:
        """The document of one input."""
        [found] = [d for d in self.docs if d.source_uri == uri]
        return found


def ingest(folder: Path, settings: IngestSettings | None = None) -> Ingested:
    """Discover and read a folder, as a run does."""
    listed = discover(folder)
    docs, rejects = read_inputs(listed.inputs, folder, settings or IngestSettings())
    return Ingested([i.uri for i in listed.inputs], listed.notes, docs, rejects)


# --------------------------------------------------------------------------------------------
# Records and their ends
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_record_is_accounted_for(tmp_path: Path, suffix: str) -> None:
    html = seed_pages()[:3]
    records = []
    for n, body in enumerate(html):
        url = f"{SITE}/story-{'abc'[n]}"
        records += [Rec("request", url), Rec("response", url, body)]
    records += [
        Rec("metadata", f"{SITE}/story-a", b"via: test\n",
            (("Content-Type", "application/warc-fields"),)),
        Rec("response", f"{SITE}/gone", b"<html>Not found</html>", status="404 Not Found"),
        Rec("response", f"{SITE}/logo.png", PNG, (("Content-Type", "image/png"),)),
        Rec("response", f"{SITE}/blob", html[0], (("Content-Type", "application/octet-stream"),)),
        Rec("revisit", f"{SITE}/story-a"),
        Rec("resource", "file:///archive/story.html", html[1], (("Content-Type", "text/html"),)),
    ]  # fmt: skip
    offsets = write_warc(tmp_path / f"crawl{suffix}", records)
    got = ingest(tmp_path)
    uri = {n: f"crawl{suffix}#W{offset}" for n, offset in enumerate(offsets)}
    assert got.outcomes() == {
        uri[1]: "article",
        uri[3]: "article",
        uri[5]: "article",
        uri[7]: "http_status_404",
        uri[8]: "not_html",
        uri[9]: "article",  # no page type given: sniffed as HTML (a missing type: next test)
        uri[10]: "warc_revisit",
        uri[11]: "article",
    }
    assert len(got.docs) + len(got.rejects) == len(got.inputs) == 8
    # The warcinfo record describes the file itself: no content, so not noted as skipped.
    assert got.notes == [
        f"warc_records_skipped: crawl{suffix}: 1 metadata, 3 request (no page in them)"
    ]


def test_a_response_without_content_type_is_sniffed(tmp_path: Path) -> None:
    html = seed_pages()[0]
    offsets = write_warc(
        tmp_path / "a.warc.gz",
        [
            Rec("response", f"{SITE}/a", html, ()),
            Rec("response", f"{SITE}/b", PNG, ()),
        ],
    )
    got = ingest(tmp_path)
    # The record's own Content-Type ("application/http; msgtype=response") is the WARC's
    # framing, not the page's type: with no HTTP Content-Type the payload decides.
    assert got.outcomes() == {f"a.warc.gz#W{offsets[0]}": "article",
                              f"a.warc.gz#W{offsets[1]}": "not_html"}  # fmt: skip


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_documents_carry_the_records_fetch(tmp_path: Path, suffix: str) -> None:
    html = seed_pages()
    headers = (*HTML, ("Last-Modified", LAST_MODIFIED))
    offsets = write_warc(
        tmp_path / f"a{suffix}",
        [
            Rec("response", f"{SITE}/a", html[0], headers),
            Rec("resource", f"{SITE}/b", html[1], (("Content-Type", "text/html"),)),
        ],
    )
    got = ingest(tmp_path)
    served, stored = got.doc(f"a{suffix}#W{offsets[0]}"), got.doc(f"a{suffix}#W{offsets[1]}")
    assert (served.url, served.fetched_at, served.http_status, served.input_kind) == (
        f"{SITE}/a", FETCHED, 200, "warc"
    )  # fmt: skip
    assert served.http_last_modified == LAST_MODIFIED
    assert served.content == html[0].decode("utf-8")
    # A resource record is the file alone: no HTTP answer to give a status or header.
    assert (stored.url, stored.fetched_at, stored.http_status, stored.http_last_modified) == (
        f"{SITE}/b", FETCHED, None, None
    )  # fmt: skip
    assert stored.input_kind == "warc"


def test_http_charset_is_the_decoding_hint(tmp_path: Path) -> None:
    # Alone (as a file on disk) these windows-1252 bytes are guessed as another Latin
    # charset: only the header's charset decodes them right.
    legacy = "Ça a été déçu, « déjà » 20€."
    utf8 = "Zürich: Straße, Grüße — „Zitat“."
    offsets = write_warc(
        tmp_path / "a.warc.gz",
        [
            Rec("response", f"{SITE}/1", page(legacy).encode("cp1252"),
                (("Content-Type", "text/html; charset=windows-1252"),)),
            Rec("response", f"{SITE}/2", page(utf8).encode("utf-8"),
                (("Content-Type", "text/html; charset=iso-8859-1"),)),
        ],
    )  # fmt: skip
    got = ingest(tmp_path)
    first, second = (got.doc(f"a.warc.gz#W{o}") for o in offsets)
    assert legacy in first.content and first.encoding == "windows-1252"
    # Valid UTF-8 is UTF-8 whatever the header says.
    assert utf8 in second.content and second.encoding == "utf-8"


def test_http_content_and_transfer_encodings_are_decoded(tmp_path: Path) -> None:
    html = seed_pages()[2]
    chunked = (
        b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (html[:1000], html[1000:])) + b"0\r\n\r\n"
    )
    zipped = gzip.compress(html)
    zipped_chunks = b"%x\r\n%s\r\n0\r\n\r\n" % (len(zipped), zipped)
    offsets = write_warc(
        tmp_path / "a.warc.gz",
        [
            Rec("response", f"{SITE}/gz", zipped, (*HTML, ("Content-Encoding", "gzip"))),
            Rec("response", f"{SITE}/ch", chunked, (*HTML, ("Transfer-Encoding", "chunked"))),
            Rec("response", f"{SITE}/both", zipped_chunks,
                (*HTML, ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked"))),
        ],
    )  # fmt: skip
    got = ingest(tmp_path)
    assert [got.doc(f"a.warc.gz#W{o}").content for o in offsets] == [html.decode("utf-8")] * 3


# --------------------------------------------------------------------------------------------
# Broken archives
# --------------------------------------------------------------------------------------------


def three_pages(path: Path) -> tuple[list[int], bytes]:
    """A WARC of three seed pages (no warcinfo); the records' offsets and the file's bytes."""
    html = seed_pages()
    records = [Rec("response", f"{SITE}/{n}", html[n]) for n in range(3)]
    offsets = write_warc(path, records, info=False)
    return offsets, path.read_bytes()


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_record_cut_short_is_truncated(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"a{suffix}"
    offsets, data = three_pages(path)
    path.write_bytes(data[: (offsets[2] + len(data)) // 2])
    got = ingest(tmp_path)
    uri = [f"a{suffix}#W{o}" for o in offsets]
    assert got.outcomes() == {uri[0]: "article", uri[1]: "article", uri[2]: "truncated_record"}
    assert got.notes == []


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("share", [0.02, 0.1, 0.3, 0.9])
def test_a_cut_anywhere_in_the_last_record_leaves_an_input_for_it(
    tmp_path: Path, suffix: str, share: float
) -> None:
    path = tmp_path / f"a{suffix}"
    offsets, data = three_pages(path)
    path.write_bytes(data[: offsets[2] + int((len(data) - offsets[2]) * share)])
    got = ingest(tmp_path)
    uri = [f"a{suffix}#W{o}" for o in offsets]
    # A cut in the record's headers leaves nothing to call it truncated by: corrupt then.
    ends = got.outcomes()
    assert ends.pop(uri[2], "no input") in ("truncated_record", "corrupt_warc")
    assert ends == {uri[0]: "article", uri[1]: "article"}


def test_garbage_and_non_warcs_are_rejected_and_the_rest_read(tmp_path: Path) -> None:
    rng = random.Random(7)
    offsets, data = three_pages(tmp_path / "a.warc.gz")
    (tmp_path / "a.warc.gz").write_bytes(data + rng.randbytes(500))
    plain_offsets, plain = three_pages(tmp_path / "b.warc")
    (tmp_path / "b.warc").write_bytes(plain + b"this is no WARC record\r\n" + rng.randbytes(300))
    (tmp_path / "x.warc.gz").write_bytes(rng.randbytes(1000))
    (tmp_path / "y.warc").write_bytes(rng.randbytes(1000))
    (tmp_path / "e.warc").write_bytes(b"")
    (tmp_path / "e.warc.gz").write_bytes(gzip.compress(b""))
    got = ingest(tmp_path)
    ends = got.outcomes()
    # warcio's length of a plain record leaves out its closing CRLF CRLF: the unreadable
    # rest is named from there, up to 4 bytes before the garbage.
    [broken] = [u for u in ends if u.startswith("b.warc#W") and int(u[8:]) > plain_offsets[-1]]
    assert len(plain) - 4 <= int(broken[8:]) <= len(plain)
    assert ends == {
        **{f"a.warc.gz#W{o}": "article" for o in offsets},
        f"a.warc.gz#W{len(data)}": "corrupt_warc",
        **{f"b.warc#W{o}": "article" for o in plain_offsets},
        broken: "corrupt_warc",
        "x.warc.gz#W0": "corrupt_warc",
        "y.warc#W0": "corrupt_warc",
        "e.warc": "empty_input",
        "e.warc.gz": "empty_input",
    }


def test_a_page_over_max_file_bytes_is_too_large(tmp_path: Path) -> None:
    limit = 20_000
    small = page("Short enough. " * 300).encode()
    over = page("A long page. " * 2_000).encode()  # over the limit, under its header allowance
    huge = page("A huge page. " * 20_000).encode()  # over even with the allowance
    bomb = gzip.compress(page("Zeros. " * 200_000).encode())  # small, but not once decoded
    assert len(small) < limit < len(over) and len(bomb) < limit
    offsets = write_warc(
        tmp_path / "a.warc.gz",
        [
            Rec("response", f"{SITE}/small", small),
            Rec("response", f"{SITE}/over", over),
            Rec("response", f"{SITE}/huge", huge),
            Rec("response", f"{SITE}/bomb", bomb, (*HTML, ("Content-Encoding", "gzip"))),
        ],
    )  # fmt: skip
    got = ingest(tmp_path, IngestSettings(max_file_bytes=limit))
    assert [got.outcomes()[f"a.warc.gz#W{o}"] for o in offsets] == [
        "article", "too_large", "too_large", "too_large"
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_discover_does_not_hold_the_records(tmp_path: Path, suffix: str) -> None:
    rng = random.Random(3)
    words = [
        bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(5_000)
    ]
    records = []
    for n in range(300):
        text = b" ".join(rng.choices(words, k=5_000))[:30_000]  # ~30 KB, compresses ~2x
        records.append(Rec("response", f"{SITE}/p{n}", b"<html><p>" + text))
    path = tmp_path / f"big{suffix}"
    write_warc(path, records)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        listed = discover(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(listed.inputs) == 300
    # Reading record by record holds a piece of one record at a time, not the archive.
    assert peak < size / 10, f"peak {peak} bytes for a file of {size}"


# --------------------------------------------------------------------------------------------
# The same pages from a WARC and from files, through the real flow
# --------------------------------------------------------------------------------------------

PAGES = 15
# A host nothing in the product knows, and paths with no date in them: the URL adds nothing
# a page on disk lacks (no outlet rule, no date from the URL).
WARC_URL = "https://pages.invalid/item-{:02d}"


def real_pages(n: int) -> list[bytes]:
    """The first N WCXB pages (bytes as crawled) when the shared data is here, else the seeds."""
    folder = DATA / "wcxb_articles" / "html"
    found = sorted(folder.glob("*.html.gz"))[:n] if folder.is_dir() else []
    return [gzip.decompress(p.read_bytes()) for p in found] or seed_pages()


@dataclass(frozen=True)
class Warehouse:
    """What one run wrote, in input order: articles, their quotes and mentions, the rejects."""

    articles: list[dict[str, object]]
    quotes: list[list[tuple[object, ...]]]
    mentions: list[list[tuple[object, ...]]]
    rejects: list[tuple[object, object]]


def _order(uri: str) -> tuple[int, str]:
    """Input order: a WARC record's by its offset, a file's by its name."""
    name, _, offset = uri.partition("#W")
    return (int(offset) if offset else 0, name)


def read_warehouse(warehouse: Path) -> Warehouse:
    """The rows of one run, each article's quotes and mentions in body order."""
    with query.connect(warehouse) as con:
        fields = ["article_id", "source_uri", "url", "outlet", "input_kind", "fetched_at",
                  "http_status", "body", "title", "standfirst", "author", "published_at",
                  "language", "word_count"]  # fmt: skip
        found = con.execute(f"SELECT {', '.join(fields)} FROM articles").fetchall()
        articles = sorted((dict(zip(fields, row, strict=True)) for row in found),
                          key=lambda a: _order(str(a["source_uri"])))  # fmt: skip

        def per_article(sql: str) -> list[list[tuple[object, ...]]]:
            return [rows(con, sql, a["article_id"]) for a in articles]

        quotes = per_article(
            "SELECT text, speaker FROM quotes WHERE article_id = ? ORDER BY start_char, text"
        )
        mentions = per_article(
            "SELECT text, label FROM entity_mentions WHERE article_id = ? ORDER BY start_char, text"
        )
        rejected = rows(con, "SELECT source_uri, stage, reason FROM rejects")
    rejects = [
        (stage, reason) for _, stage, reason in sorted(rejected, key=lambda r: _order(str(r[0])))
    ]
    return Warehouse(articles, quotes, mentions, rejects)


def rows(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Fetch a query's rows."""
    return con.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Warehouse]:
    """The flow run once on pages as files and once on the same bytes as WARC records."""
    root = tmp_path_factory.mktemp("same_pages")
    html = real_pages(PAGES)
    files, archive = root / "files", root / "warc"
    files.mkdir()
    archive.mkdir()
    for n, body in enumerate(html):
        (files / f"page-{n:02d}.html").write_bytes(body)
    # No charset in the header: a file on disk has no HTTP charset either.
    records = [Rec("response", WARC_URL.format(n), body, (("Content-Type", "text/html"),))
               for n, body in enumerate(html)]  # fmt: skip
    write_warc(archive / "pages.warc.gz", records)
    news_etl(input_dir=files, warehouse=root / "wh_files", run_date=RUN_DATE)
    news_etl(input_dir=archive, warehouse=root / "wh_warc", run_date=RUN_DATE)
    return read_warehouse(root / "wh_files"), read_warehouse(root / "wh_warc")


# What is compared: everything extraction and the NLP stages make of the page itself (body,
# title, standfirst, author, dates, language, words, quotes, mentions) must not depend on the
# page coming from an archive. Not compared as equal: `url` (the WARC's target URI wins over
# the page's own canonical URL, which is all a file has) and `outlet` where the page names no
# site (a file then has none, a record falls back to its URL's host); see the outlet test.
SAME_FIELDS = ("body", "title", "standfirst", "author", "published_at", "language", "word_count")


def test_warc_records_give_the_articles_files_give(both_runs: tuple[Warehouse, Warehouse]) -> None:
    files, warc = both_runs
    assert files.articles  # the comparison compares something
    assert len(files.articles) + len(files.rejects) == len(real_pages(PAGES))
    assert warc.rejects == files.rejects
    assert len(warc.articles) == len(files.articles)
    for on_disk, archived in zip(files.articles, warc.articles, strict=True):
        assert {f: archived[f] for f in SAME_FIELDS} == {f: on_disk[f] for f in SAME_FIELDS}, (
            on_disk["source_uri"]
        )


def test_warc_records_give_the_quotes_and_mentions_files_give(
    both_runs: tuple[Warehouse, Warehouse],
) -> None:
    files, warc = both_runs
    assert any(files.mentions)  # the comparison compares something
    assert warc.quotes == files.quotes
    assert warc.mentions == files.mentions


def test_warc_articles_keep_the_fetch_and_the_pages_outlet(
    both_runs: tuple[Warehouse, Warehouse],
) -> None:
    files, warc = both_runs
    for on_disk, archived in zip(files.articles, warc.articles, strict=True):
        # The record's URL, not the page's canonical one; its number pairs it with its file.
        number = int(str(on_disk["source_uri"]).removeprefix("page-").removesuffix(".html"))
        assert archived["url"] == WARC_URL.format(number)
        assert (archived["input_kind"], archived["http_status"]) == ("warc", 200)
        assert archived["fetched_at"] == FETCHED
        on_disk_fetch = (on_disk["input_kind"], on_disk["http_status"], on_disk["fetched_at"])
        assert on_disk_fetch == ("file", None, None)
        # A site name in the page (or its canonical URL) is the outlet either way; a page
        # with neither is outletless on disk and named by its record's host in a WARC.
        assert archived["outlet"] == (on_disk["outlet"] or "pages.invalid"), on_disk["source_uri"]
