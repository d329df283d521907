"""Listings: feeds, sitemaps and URL lists become the pages they name, or a specific reject."""

from __future__ import annotations

import gzip
import time
import tracemalloc

import pytest

from tasks.core.safety import RejectError
from tasks.ingest import listing
from tasks.ingest.listing import ListedPage, Listing, parse_listing, sniff

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"

RSS2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>The Daily Example</title>
  <link>https://news.example.com/</link>
  <item>
    <title>Council approves budget</title>
    <link>https://news.example.com/2024/budget#comments</link>
    <guid isPermaLink="false">budget-2024</guid>
    <pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate>
    <dc:creator>Ann Reporter</dc:creator>
  </item>
  <item>
    <title>Storm closes roads</title>
    <link>/2024/storm</link>
  </item>
  <item>
    <title>A linkless note</title>
    <guid isPermaLink="false">note-3</guid>
  </item>
</channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom Times</title>
  <id>urn:atom-times</id>
  <updated>2024-02-02T00:00:00Z</updated>
  <entry>
    <id>urn:atom-times:1</id>
    <title>First story</title>
    <link rel="enclosure" href="https://cdn.example.org/first.mp3"/>
    <link rel="alternate" href="https://atom.example.org/first"/>
    <published>2024-02-01T08:00:00Z</published>
    <updated>2024-02-01T12:30:00Z</updated>
    <author><name>Bob Writer</name></author>
  </entry>
  <entry>
    <id>urn:atom-times:2</id>
    <title>Second story</title>
    <link href="https://atom.example.org/second"/>
    <updated>2024-02-02T09:00:00Z</updated>
  </entry>
</feed>
"""

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example.net/">
    <title>RDF Weekly</title>
    <link>https://rdf.example.net/</link>
    <items><rdf:Seq><rdf:li resource="https://rdf.example.net/one"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://rdf.example.net/one">
    <title>Item one</title>
    <link>https://rdf.example.net/one</link>
    <dc:date>2024-03-03T03:00:00Z</dc:date>
    <dc:creator>Cleo</dc:creator>
  </item>
</rdf:RDF>
"""

NEWS_SITEMAP = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}" xmlns:image="{IMAGE_NS}">
  <url>
    <loc> https://paper.example.com/world/talks </loc>
    <lastmod>2024-04-05T10:00:00+00:00</lastmod>
    <news:news>
      <news:publication>
        <news:name>The Example Paper</news:name>
        <news:language>en</news:language>
      </news:publication>
      <news:publication_date>2024-04-04T09:00:00+00:00</news:publication_date>
      <news:title>Talks resume &amp; stall</news:title>
    </news:news>
    <image:image><image:loc>https://paper.example.com/img/talks.jpg</image:loc></image:image>
  </url>
  <url>
    <loc>/local/fair#top</loc>
    <lastmod>2024-04-06</lastmod>
  </url>
  <url><loc>https://paper.example.com/world/talks</loc></url>
  <url><loc>mailto:desk@paper.example.com</loc></url>
  <url><lastmod>2024-04-07</lastmod></url>
</urlset>
""".encode()

SITEMAP_INDEX = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="{SITEMAP_NS}">
  <sitemap><loc>https://paper.example.com/sitemap-2024-01.xml</loc>
    <lastmod>2024-01-31</lastmod></sitemap>
  <sitemap><loc>sitemap-2024-02.xml.gz</loc></sitemap>
  <sitemap><loc>https://paper.example.com/sitemap-2024-01.xml</loc></sitemap>
</sitemapindex>
""".encode()

PLAIN_SITEMAP = f"""<urlset xmlns="{SITEMAP_NS}">
<url><loc>https://a.example/1</loc><lastmod>2024-01-01</lastmod></url>
<url><loc>https://a.example/2</loc></url>
</urlset>""".encode()

HTML_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><title>News home</title>
<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>
<body><h1>Headlines</h1><a href="https://news.example.com/a">A story</a></body></html>
"""

ARTICLE_TEXT = b"""Council approves budget

The city council approved the budget on Monday after a long debate.
Read more at https://news.example.com/2024/budget and tell us what you think.
"""

URL_LIST = b"""# pages to fetch, 2024-05-01
https://a.example/one

  https://a.example/two#section
javascript:alert(1)
https://a.example/one
# another comment
not a url at all
http://b.example/three
"""

LAUGHS = "".join(
    f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
)  # each level ten times the one before: lol9 is a billion "lol"s


def _billion_laughs(root: str) -> bytes:
    """A document whose root is `root` and whose body is the billion-laughs entity."""
    return f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY lol0 "lol">{LAUGHS}]>{_root_element(root)}'.encode()


def _root_element(root: str) -> str:
    """A root element holding the entity that expands to a billion strings."""
    if root == "urlset":
        return (
            f'<urlset xmlns="{SITEMAP_NS}"><url><loc>https://x.example/&lol9;</loc></url></urlset>'
        )
    return '<rss version="2.0"><channel><title>&lol9;</title><item><link>https://x.example/</link></item></channel></rss>'


def _reject(data: bytes, base_url: str | None = None) -> RejectError:
    """The RejectError parse_listing raises on the data."""
    with pytest.raises(RejectError) as caught:
        parse_listing(data, base_url)
    return caught.value


def test_rss2_feed_resolves_relative_links_and_skips_linkless_items() -> None:
    got = parse_listing(RSS2, base_url="https://news.example.com/feeds/main.xml")
    assert got == Listing(
        kind="feed",
        pages=(
            ListedPage(
                url="https://news.example.com/2024/budget",
                title="Council approves budget",
                published_at="Mon, 01 Jan 2024 10:00:00 GMT",
                author="Ann Reporter",
                entry_id="budget-2024",
                outlet="The Daily Example",
            ),
            ListedPage(
                url="https://news.example.com/2024/storm",
                title="Storm closes roads",
                outlet="The Daily Example",
            ),
        ),
        skipped=("entry 3: no link",),
    )


def test_relative_feed_link_without_base_url_is_skipped() -> None:
    got = parse_listing(RSS2)
    assert [p.url for p in got.pages] == ["https://news.example.com/2024/budget"]
    assert got.skipped == (
        "entry 2: relative URL and no http(s) base_url: '/2024/storm'",
        "entry 3: no link",
    )


def test_atom_feed_takes_alternate_link_and_separates_updated() -> None:
    got = parse_listing(ATOM)
    assert got.kind == "feed"
    assert got.pages == (
        ListedPage(
            url="https://atom.example.org/first",
            title="First story",
            published_at="2024-02-01T08:00:00Z",
            modified_at="2024-02-01T12:30:00Z",
            author="Bob Writer",
            entry_id="urn:atom-times:1",
            outlet="Atom Times",
        ),
        # Only an updated date: it is the best publication date the feed gives.
        ListedPage(
            url="https://atom.example.org/second",
            title="Second story",
            published_at="2024-02-02T09:00:00Z",
            entry_id="urn:atom-times:2",
            outlet="Atom Times",
        ),
    )
    assert got.skipped == ()


def test_rss1_feed() -> None:
    got = parse_listing(RSS1)
    assert got.kind == "feed"
    assert got.pages == (
        ListedPage(
            url="https://rdf.example.net/one",
            title="Item one",
            published_at="2024-03-03T03:00:00Z",
            author="Cleo",
            entry_id="https://rdf.example.net/one",
            outlet="RDF Weekly",
        ),
    )


def test_feed_past_max_pages_is_capped_with_a_note() -> None:
    items = "".join(f"<item><link>https://f.example/{n}</link></item>" for n in range(5))
    feed = f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>'.encode()
    got = parse_listing(feed, max_pages=2)
    assert [p.url for p in got.pages] == ["https://f.example/0", "https://f.example/1"]
    assert got.skipped == ("3 more pages past max_pages 2",)


def test_netscape_doctype_feed_is_read() -> None:
    feed = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel>'
        b"<title>Old</title><item><title>T</title><link>https://old.example/t</link></item>"
        b"</channel></rss>"
    )
    assert parse_listing(feed).pages == (
        ListedPage(url="https://old.example/t", title="T", outlet="Old"),
    )


def test_news_sitemap_fields_and_extensions() -> None:
    got = parse_listing(NEWS_SITEMAP, base_url="https://paper.example.com/sitemap-news.xml")
    assert got == Listing(
        kind="sitemap",
        pages=(
            ListedPage(
                url="https://paper.example.com/world/talks",
                title="Talks resume & stall",
                published_at="2024-04-04T09:00:00+00:00",
                modified_at="2024-04-05T10:00:00+00:00",
                outlet="The Example Paper",
            ),
            # lastmod is when the page changed, not when it was published.
            ListedPage(url="https://paper.example.com/local/fair", modified_at="2024-04-06"),
        ),
        skipped=(
            "url 4: not an http(s) URL: 'mailto:desk@paper.example.com'",
            "url 5: no <loc>",
        ),
    )


def test_prefixed_sitemap_past_max_pages_counts_the_rest() -> None:
    entries = "".join(f"<sm:url><sm:loc>https://p.example/{n}</sm:loc></sm:url>" for n in range(5))
    data = f'<sm:urlset xmlns:sm="{SITEMAP_NS}">{entries}</sm:urlset>'.encode()
    assert sniff(data) == "sitemap"
    got = parse_listing(data, max_pages=2)
    assert [p.url for p in got.pages] == ["https://p.example/0", "https://p.example/1"]
    assert got.skipped == ("3 more pages past max_pages 2",)


def test_sitemap_index_lists_child_sitemaps() -> None:
    got = parse_listing(SITEMAP_INDEX, base_url="https://paper.example.com/sitemap.xml")
    assert got == Listing(
        kind="sitemap_index",
        pages=(),
        sitemaps=(
            "https://paper.example.com/sitemap-2024-01.xml",
            "https://paper.example.com/sitemap-2024-02.xml.gz",
        ),
    )


def test_gzipped_sitemap_reads_like_the_plain_one() -> None:
    packed = gzip.compress(PLAIN_SITEMAP)
    assert sniff(packed) == "sitemap"
    got = parse_listing(packed)
    assert got == parse_listing(PLAIN_SITEMAP)
    assert [p.url for p in got.pages] == ["https://a.example/1", "https://a.example/2"]


def test_million_url_sitemap_is_capped_quickly_and_in_little_memory() -> None:
    total = 1_000_000
    entries = b"".join(
        b"<url><loc>https://big.example/news/2024/05/01/story-%d.html</loc></url>\n" % n
        for n in range(total)
    )
    data = b'<?xml version="1.0"?>\n<urlset xmlns="' + SITEMAP_NS.encode() + b'">\n'
    data += entries + b"</urlset>\n"
    del entries
    tracemalloc.start()
    start = time.perf_counter()
    try:
        got = parse_listing(data, max_pages=1000)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(got.pages) == 1000
    assert got.pages[0].url == "https://big.example/news/2024/05/01/story-0.html"
    assert got.pages[-1].url == "https://big.example/news/2024/05/01/story-999.html"
    assert got.skipped == ("999000 more pages past max_pages 1000",)
    # Keeping every URL (or a set of them) would hold well over 100 MB of Python objects.
    assert peak < 20_000_000
    # Under a second here; a parse of the whole document entry by entry takes several.
    assert seconds < 5


def test_html_page_given_as_feed_is_not_a_feed() -> None:
    err = _reject(HTML_PAGE, base_url="https://news.example.com/feed.xml")
    assert (err.reason, err.detail) == ("not_a_feed", "an HTML page, not a feed or sitemap")


@pytest.mark.parametrize("data", [ARTICLE_TEXT, b"<note><to>Tove</to></note>", b"\x00\x01\x02"])
def test_anything_else_is_not_a_feed(data: bytes) -> None:
    assert _reject(data).reason == "not_a_feed"


@pytest.mark.parametrize(
    ("root", "reason"), [("urlset", "malformed_sitemap"), ("rss", "malformed_feed")]
)
def test_billion_laughs_is_rejected_unexpanded(root: str, reason: str) -> None:
    start = time.perf_counter()
    err = _reject(_billion_laughs(root))
    assert err.reason == reason
    assert "lollollol" not in err.detail
    assert time.perf_counter() - start < 1


def test_sitemap_parser_itself_expands_no_entity() -> None:
    # Behind the DOCTYPE refusal, the parser's own options are the backstop.
    with pytest.raises(RejectError) as caught:
        listing._parse_sitemap(_billion_laughs("urlset"), "sitemap", None, 10)
    assert caught.value.reason == "malformed_sitemap"
    assert "amplification" in caught.value.detail
    secret = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b"<urlset><url><loc>https://e.example/&x;</loc></url></urlset>"
    )
    got = listing._parse_sitemap(secret, "sitemap", None, 10)
    assert [p.url for p in got.pages] == ["https://e.example/"]


def test_external_entity_in_a_sitemap_is_rejected() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="' + SITEMAP_NS.encode() + b'"><url><loc>https://e.example/&x;</loc>'
        b"</url></urlset>"
    )
    assert _reject(data).reason == "malformed_sitemap"


def test_undeclared_entity_in_a_sitemap_is_malformed() -> None:
    data = f'<urlset xmlns="{SITEMAP_NS}"><url><loc>https://e.example/&x;</loc></url></urlset>'
    err = _reject(data.encode())
    assert err.reason == "malformed_sitemap"
    assert "Entity 'x' not defined" in err.detail


def test_malformed_sitemap() -> None:
    data = f'<urlset xmlns="{SITEMAP_NS}"><url><loc>https://e.example/1</loc></urlset>'
    err = _reject(data.encode())
    assert err.reason == "malformed_sitemap"
    assert "mismatch" in err.detail.lower()


def test_malformed_feed_without_entries() -> None:
    err = _reject(b'<rss version="2.0"><channel><title>Cut short')
    assert err.reason == "malformed_feed"


def test_empty_urlset_is_an_empty_listing() -> None:
    err = _reject(f'<urlset xmlns="{SITEMAP_NS}">\n</urlset>'.encode())
    assert (err.reason, err.detail) == ("empty_listing", "a sitemap that names no page")


def test_listing_of_only_bad_entries_is_empty() -> None:
    data = f'<urlset xmlns="{SITEMAP_NS}"><url><loc>ftp://e.example/f</loc></url></urlset>'
    err = _reject(data.encode())
    assert err.reason == "empty_listing"
    assert "url 1: not an http(s) URL: 'ftp://e.example/f'" in err.detail


def test_url_list_with_comments_blanks_and_bad_lines() -> None:
    assert parse_listing(URL_LIST) == Listing(
        kind="url_list",
        pages=(
            ListedPage("https://a.example/one"),
            ListedPage("https://a.example/two"),
            ListedPage("http://b.example/three"),
        ),
        skipped=(
            "line 5: not an http(s) URL: 'javascript:alert(1)'",
            "line 8: not an http(s) URL: 'not a url at all'",
        ),
    )


def test_url_list_lines_are_not_resolved_against_base_url() -> None:
    got = parse_listing(
        b"https://a.example/1\n/relative\nhttps://a.example/2\n", "https://a.example/"
    )
    assert [p.url for p in got.pages] == ["https://a.example/1", "https://a.example/2"]
    assert got.skipped == ("line 2: relative URL and no http(s) base_url: '/relative'",)


def test_skipped_notes_are_capped() -> None:
    bad = "".join(f"<url><loc>mailto:n{n}@e.example</loc></url>" for n in range(1005))
    data = f'<urlset xmlns="{SITEMAP_NS}"><url><loc>https://e.example/</loc></url>{bad}</urlset>'
    got = parse_listing(data.encode())
    assert len(got.skipped) == listing.MAX_SKIPPED_NOTES + 1
    assert got.skipped[-1] == "5 more entries skipped"


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(
        f'<urlset xmlns="{SITEMAP_NS}">'.encode() + b" " * (listing.MAX_DECOMPRESSED_BYTES + 10)
    )
    assert len(bomb) < listing.MAX_DECOMPRESSED_BYTES // 100
    assert sniff(bomb) == "sitemap"  # only the head is decompressed to sniff
    assert _reject(bomb).reason == "decompressed_too_large"


def test_truncated_gzip_is_corrupt() -> None:
    packed = gzip.compress(PLAIN_SITEMAP)
    assert _reject(packed[: len(packed) // 2]).reason == "corrupt_gzip"
    assert sniff(packed[:12]) is None


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (RSS2, "feed"),
        (ATOM, "feed"),
        (RSS1, "feed"),
        (b"\xef\xbb\xbf  <!-- made by hand -->\n" + PLAIN_SITEMAP, "sitemap"),
        (NEWS_SITEMAP, "sitemap"),
        (SITEMAP_INDEX, "sitemap_index"),
        (gzip.compress(SITEMAP_INDEX), "sitemap_index"),
        (ATOM.decode().encode("utf-16"), "feed"),
        (b"# list\n\nhttps://a.example/1\nhttp://b.example/2\n", "url_list"),
        (URL_LIST, None),  # a bad line: parse_listing reads it, sniff does not vouch for it
        (HTML_PAGE, None),
        (b"<html><body><rss>not a feed</rss></body></html>", None),
        (b"<feed><entry>no Atom namespace</entry></feed>", None),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', None),
        (ARTICLE_TEXT, None),
        (b"# only comments\n\n", None),
        (b"", None),
    ],
)
def test_sniff(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


def test_sniff_ignores_a_url_list_line_cut_by_the_head() -> None:
    line = b"https://long.example/" + b"a" * 100 + b"\n"
    data = line * (listing.SNIFF_BYTES // len(line) + 5)
    assert sniff(data) == "url_list"
    assert sniff(data + b"no url here\n") == "url_list"  # past the head: not looked at
    assert sniff(b"no url here\n" + data) is None
