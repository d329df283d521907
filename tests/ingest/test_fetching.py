"""Feeds, sitemaps and URL lists through the flow: each page fetched politely, kept, accounted."""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from webserver import Site

from flows.pipeline import news_etl
from tasks import warehouse as views
from tasks.settings import Settings
from tasks.web import FetchSettings
from tasks.web.fetch import default_user_agent

DAY1, DAY2 = date(2025, 3, 10), date(2025, 3, 11)
# Fast and still polite: every limit is there, only shorter (the timeout still long enough
# for a loopback answer on a loaded machine).
FAST = Settings(
    fetch=FetchSettings(
        timeout_seconds=1.5,
        retries=2,
        backoff_seconds=0.01,
        max_backoff_seconds=0.05,
        host_delay_seconds=0.0,
        max_page_bytes=2_000_000,
    )
)


def _article(seed: str, title: str) -> str:
    """A news page around a seed article's text."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in seed.split("\n\n") if p.strip())
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{html.escape(title)}</h1>{paragraphs}"
        "</article><footer>Contact us</footer></body></html>"
    )


def _rss(site: Site, paths: list[str]) -> str:
    """An RSS feed naming the paths, newest first."""
    items = "".join(
        f"<item><title>Story {i}</title><link>{site.url(p)}</link>"
        f"<guid>story-{i}</guid><pubDate>Mon, 10 Mar 2025 0{i % 10}:00:00 GMT</pubDate></item>"
        for i, p in enumerate(paths)
    )
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Loopback News</title>"
        f"<link>{site.base}/</link>{items}</channel></rss>"
    )


def _serve(site: Site, seed_texts: list[str]) -> dict[str, str]:
    """The site of the test: pages, failures, a feed; the reason each listed page must end in."""
    site.robots("User-agent: *\nDisallow: /private/\n")
    expected: dict[str, str] = {}
    for i, text in enumerate(seed_texts[:3]):
        site.page(f"/news/{i}", _article(text, f"Story {i}"), etag=f'"v1-{i}"')
        expected[f"/news/{i}"] = "article"
    site.sequence(
        "/flaky", [(503, b"busy"), (503, b"busy"), (200, _article(seed_texts[3], "Flaky").encode())]
    )
    expected["/flaky"] = "article"
    site.page("/private/secret", _article(seed_texts[4], "Secret"))
    expected["/private/secret"] = "robots_disallowed"
    site.page("/gone", "gone", status=410)
    expected["/gone"] = "http_status_410"
    site.hang("/hangs")
    expected["/hangs"] = "timeout"
    site.large("/huge", 50_000_000)
    expected["/huge"] = "too_large"
    site.page("/image.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, content_type="image/png")
    expected["/image.png"] = "not_html"
    site.page("/feed.xml", _rss(site, list(expected)), content_type="application/rss+xml")
    return expected


def _table(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query over the warehouse's views."""
    con = views.connect(warehouse)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _outcomes(warehouse: Path, day: date) -> dict[str, str]:
    """Each URL's end on a run date: `article`, or its reject's reason."""
    rows = _table(
        warehouse,
        f"SELECT source_uri, 'article' FROM articles WHERE run_date = DATE '{day}' "
        f"UNION ALL SELECT source_uri, reason FROM rejects WHERE run_date = DATE '{day}'",
    )
    return dict(rows)


def test_a_feed_is_fetched_politely_and_every_page_accounted_for(
    web: Site, seed_texts: list[str], tmp_path: Path
) -> None:
    expected = _serve(web, seed_texts)
    warehouse = tmp_path / "wh"
    summary = news_etl(web.url("/feed.xml"), warehouse, DAY1, FAST)
    assert _outcomes(warehouse, DAY1) == {web.url(p): r for p, r in expected.items()}
    assert summary.inputs == len(expected)
    asked = [r.path for r in web.requests]
    assert "/private/secret" not in asked  # robots.txt is obeyed: never requested
    assert asked.count("/flaky") == 3  # two 503s, then the page
    assert asked.count("/gone") == 1  # a 410 is the page's answer: not retried
    assert {r.headers.get("user-agent") for r in web.requests} == {default_user_agent()}
    # The articles say how they came: the feed's title, date and id, the fetch's time and status.
    rows = _table(
        warehouse,
        "SELECT source_uri, input_kind, http_status, fetched_at IS NOT NULL, title, input_id,"
        " published_at FROM articles ORDER BY source_uri",
    )
    assert {r[1:4] for r in rows} == {("feed", 200, True)}
    first = next(r for r in rows if r[0] == web.url("/news/0"))
    assert first[4:6] == ("Story 0", "story-0")
    assert first[6].isoformat().startswith("2025-03-10T00:00")
    # Every page fetched is in `fetches`, and each article's page is kept as a WARC record.
    fetched = _table(
        warehouse,
        "SELECT url, outcome, http_status, archive, archive_offset FROM fetches ORDER BY url",
    )
    assert {r[0]: r[1] for r in fetched} == {web.url(p): r for p, r in expected.items()}
    kept = [r for r in fetched if r[1] == "article"]
    assert all(r[3] and r[4] is not None for r in kept)
    archive = warehouse / kept[0][3]
    with archive.open("rb") as fh:
        uris = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh)]
    assert sorted(uris) == sorted(r[0] for r in kept)


def test_the_next_run_fetches_only_what_changed(
    web: Site, seed_texts: list[str], tmp_path: Path
) -> None:
    pages = [f"/news/{i}" for i in range(3)]
    for i, path in enumerate(pages):
        web.page(path, _article(seed_texts[i], f"Story {i}"), etag=f'"v1-{i}"')
    web.page("/feed.xml", _rss(web, pages), content_type="application/rss+xml")
    warehouse = tmp_path / "wh"
    news_etl(web.url("/feed.xml"), warehouse, DAY1, FAST)
    assert set(_outcomes(warehouse, DAY1).values()) == {"article"}
    # One page changes; the next day's run asks for each conditionally.
    web.page(pages[1], _article(seed_texts[3], "Story 1, updated"), etag='"v2-1"')
    web.requests.clear()
    news_etl(web.url("/feed.xml"), warehouse, DAY2, FAST)
    assert _outcomes(warehouse, DAY2) == {
        web.url(pages[0]): "not_modified",
        web.url(pages[1]): "article",
        web.url(pages[2]): "not_modified",
    }
    sent = {r.path: r.headers.get("if-none-match") for r in web.requests if r.path in pages}
    assert sent == {pages[0]: '"v1-0"', pages[1]: '"v1-1"', pages[2]: '"v1-2"'}
    # A rerun of the first date reads the pages it kept, fetching none of them: same rows.
    query = f"SELECT article_id, body FROM articles WHERE run_date = DATE '{DAY1}' ORDER BY 1"
    before = _table(warehouse, query)
    web.requests.clear()
    news_etl(web.url("/feed.xml"), warehouse, DAY1, FAST)
    assert _table(warehouse, query) == before
    assert not [r.path for r in web.requests if r.path in pages]


def test_a_sitemap_index_is_walked_once_and_capped(
    web: Site, seed_texts: list[str], tmp_path: Path
) -> None:
    for i in range(4):
        web.page(f"/a/{i}", _article(seed_texts[i], f"Story {i}"))
    urlset = "".join(f"<url><loc>{web.url(f'/a/{i}')}</loc></url>" for i in range(4))
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    web.page("/s1.xml", f"<urlset xmlns='{ns}'>{urlset}</urlset>", content_type="application/xml")
    # The index names a good sitemap, itself (a loop) and a missing one.
    children = "".join(
        f"<sitemap><loc>{web.url(p)}</loc></sitemap>"
        for p in ("/s1.xml", "/index.xml", "/none.xml")
    )
    web.page("/index.xml", f"<sitemapindex xmlns='{ns}'>{children}</sitemapindex>",
             content_type="application/xml")  # fmt: skip
    warehouse = tmp_path / "wh"
    settings = Settings(fetch=FAST.fetch, ingest=FAST.ingest.__class__(max_listed_pages=3))
    summary = news_etl(web.url("/index.xml"), warehouse, DAY1, settings)
    outcomes = _outcomes(warehouse, DAY1)
    assert outcomes == {
        web.url("/a/0"): "article",
        web.url("/a/1"): "article",
        web.url("/a/2"): "article",
        web.url("/none.xml"): "http_status_404",
    }
    assert [p for p in (r.path for r in web.requests) if p == "/index.xml"] == ["/index.xml"]
    assert any(w.startswith("sitemap_loop:") for w in summary.warnings)
    assert any(w.startswith("pages_capped:") for w in summary.warnings)
    assert summary.inputs == len(outcomes)


def test_a_listing_that_is_no_listing_is_one_reject(web: Site, tmp_path: Path) -> None:
    web.page("/page.html", "<!doctype html><html><body><p>Just a page.</p></body></html>")
    warehouse = tmp_path / "wh"
    news_etl(web.url("/page.html"), warehouse, DAY1, FAST)
    assert _outcomes(warehouse, DAY1) == {web.url("/page.html"): "not_a_feed"}


def test_a_local_url_list_is_read_and_its_pages_fetched(
    web: Site, seed_texts: list[str], tmp_path: Path
) -> None:
    web.page("/x", _article(seed_texts[0], "X"))
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# today's pages\n{web.url('/x')}\n{web.url('/missing')}\n")
    warehouse = tmp_path / "wh"
    news_etl(str(listing), warehouse, DAY1, FAST)
    assert _outcomes(warehouse, DAY1) == {
        web.url("/x"): "article",
        web.url("/missing"): "http_status_404",
    }
    kinds = _table(warehouse, "SELECT DISTINCT input_kind FROM articles")
    assert kinds == [("url_list",)]


def test_the_command_line_takes_a_feed_url_as_written(
    web: Site, seed_texts: list[str], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    web.page("/n/1", _article(seed_texts[0], "One"))
    web.page("/feed.xml", _rss(web, ["/n/1"]), content_type="application/rss+xml")
    warehouse = tmp_path / "wh"
    out = CliRunner().invoke(app, ["run", "--input", web.url("/feed.xml"), "--warehouse",
                                   str(warehouse), "--date", str(DAY1), "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert _outcomes(warehouse, DAY1) == {web.url("/n/1"): "article"}
