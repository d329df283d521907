"""Listings of pages to fetch: RSS/Atom feeds, XML sitemaps and plain lists of URLs.

Pure functions over bytes: nothing here opens a file or the network.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no stubs

from tasks.core.safety import RejectError
from tasks.ingest.read import GZIP_MAGIC

ListingKind = Literal["feed", "sitemap", "sitemap_index", "url_list"]

# A listing's kind shows in its first element or first lines; an XML prolog (declaration,
# stylesheet, comments, a DOCTYPE) that runs past this is no honest listing.
SNIFF_BYTES = 8192
# The sitemap protocol caps a sitemap at 50 MB uncompressed; a `.xml.gz` that expands past
# that is a gzip bomb, not a sitemap.
MAX_DECOMPRESSED_BYTES = 50_000_000
HTTP_SCHEMES = frozenset({"http", "https"})
# Whitespace and control characters cannot be inside a URL: such a "URL" is prose or junk.
NOT_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")
# Most listed URLs are plainly absolute http(s) with a host name: they skip urllib's slower
# (and here needless) split and join. Anything else takes the general way.
PLAIN_HTTP_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][^\x00-\x20\x7f]*)?", re.I
)
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
BOM = "\ufeff"
# Atom 1.0 and the Atom 0.3 drafts feedparser also reads: a `<feed>` in any other namespace
# (or none) is some other vocabulary's.
ATOM_NAMESPACES = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
# RSS 1.0 and its RSS 0.90 ancestor are RDF documents; other RDF is not a feed.
RDF_FEED_NAMESPACES = ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")
SITEMAP_ROOTS: dict[str, ListingKind] = {"urlset": "sitemap", "sitemapindex": "sitemap_index"}
# The element each sitemap entry is, by the kind of sitemap.
SITEMAP_ENTRIES: dict[ListingKind, str] = {"sitemap": "url", "sitemap_index": "sitemap"}
# What may follow a tag's name in a start tag: entries past max_pages are counted by their
# start tags instead of parsed, so a sitemap of a million URLs is capped in a fraction of a
# second (bytes.count, allocating nothing).
TAG_NAME_ENDS = (b">", b"/", b" ", b"\t", b"\n", b"\r")
# Google News sitemaps use this namespace (some sites write it with https or a trailing
# slash); image and video extensions have namespaces of their own and are left alone.
NEWS_NAMESPACE_MARK = "google.com/schemas/sitemap-news/"
# Entities and external DTDs are never read: a billion-laughs document or one that names
# a local file must not expand. A DOCTYPE is refused before parsing; these are the backstop.
XML_SAFETY: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "recover": False,
    "load_dtd": False,
}
# A URL list may hold stray lines (a heading, a note), but a text whose lines are mostly
# not URLs is an article or some other file, not a list of pages.
MIN_URL_LINE_SHARE = 0.5
# A listing of a million bad entries would otherwise carry a million notes.
MAX_SKIPPED_NOTES = 1000
MAX_NOTE_VALUE_CHARS = 120


@dataclass(frozen=True)
class ListedPage:
    """A page a feed, sitemap or URL list names, with what the listing says of it."""

    # Absolute http(s), without its fragment; resolved against the listing's URL if relative.
    url: str
    # The feed entry's title, or a news sitemap's news:title.
    title: str | None = None
    # As written: a feed entry's published date (else its updated date), a news sitemap's
    # news:publication_date. A sitemap's lastmod is no publication date: it is modified_at.
    published_at: str | None = None
    # A sitemap's lastmod, or a feed entry's updated date when it differs from published_at.
    modified_at: str | None = None
    author: str | None = None
    # The feed entry's id (RSS guid).
    entry_id: str | None = None
    # The feed's title, or a news sitemap's news:publication/news:name.
    outlet: str | None = None


@dataclass(frozen=True)
class Listing:
    """What one feed, sitemap or URL list holds."""

    kind: ListingKind
    # In document order; of pages with the same URL only the first is kept.
    pages: tuple[ListedPage, ...]
    # The child sitemaps of a sitemap index, absolute URLs.
    sitemaps: tuple[str, ...] = ()
    # Why entries were left out: "line 7: not an http(s) URL: 'foo'", "entry 3: no link".
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Root:
    """The root element of an XML document, as its start tag is written, and its DOCTYPE."""

    name: str
    start_tag: str
    doctype: str | None


class _Collector:
    """Pages in document order, the first of each URL, up to max_pages; later ones counted."""

    def __init__(self, max_pages: int, noun: str) -> None:
        self.max_pages = max_pages
        self.noun = noun
        self.pages: list[ListedPage] = []
        self.urls: set[str] = set()
        self.notes: list[str] = []
        self.unnoted = 0
        self.past_max = 0

    @property
    def full(self) -> bool:
        """Whether max_pages pages are kept already."""
        return len(self.pages) >= self.max_pages

    def add(self, page: ListedPage) -> None:
        """Keep a page unless its URL is kept already; past max_pages, only count it."""
        if page.url in self.urls:
            return
        if self.full:
            # Not remembered: a set of a million URLs is the memory the cap is there to save.
            self.past_max += 1
            return
        self.urls.add(page.url)
        self.pages.append(page)

    def skip(self, where: str, why: str, value: str | None = None) -> None:
        """Note why an entry was left out."""
        if len(self.notes) >= MAX_SKIPPED_NOTES:
            self.unnoted += 1
            return
        shown = "" if value is None else f": {value[:MAX_NOTE_VALUE_CHARS]!r}"
        self.notes.append(f"{where}: {why}{shown}")

    def skipped(self) -> tuple[str, ...]:
        """The notes, with a count of those not written out and of pages past max_pages."""
        notes = list(self.notes)
        if self.unnoted:
            notes.append(f"{self.unnoted} more entries skipped")
        if self.past_max:
            notes.append(f"{self.past_max} more {self.noun} past max_pages {self.max_pages}")
        return tuple(notes)


def sniff(data: bytes) -> ListingKind | None:
    """Which kind of listing the bytes are, or None (an article, an HTML page, anything else)."""
    if data.startswith(GZIP_MAGIC):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                head = stream.read(SNIFF_BYTES + 1)
        except (OSError, EOFError, zlib.error):
            return None
    else:
        head = data[: SNIFF_BYTES + 1]
    complete = len(head) <= SNIFF_BYTES
    text = _head_text(head[:SNIFF_BYTES])
    if text.lstrip().startswith("<"):
        root = _root(text)
        return None if root is None else _xml_kind(root)
    return "url_list" if _all_urls(text, complete) else None


def parse_listing(data: bytes, base_url: str | None = None, max_pages: int = 100_000) -> Listing:
    """Parse a feed, sitemap, sitemap index or URL list; RejectError when it is none of them.

    Gzipped data is decompressed first. Relative links of feeds and sitemaps are resolved
    against `base_url` (the listing's own URL). A URL list may hold lines that are no URL
    (each is skipped with its line number) so long as most of its lines are URLs.
    """
    if max_pages < 1:
        raise ValueError(f"max_pages must be at least 1, not {max_pages}")
    if data.startswith(GZIP_MAGIC):
        data = _gunzip(data)
    text = _head_text(data[:SNIFF_BYTES])
    if text.lstrip().startswith("<"):
        listing = _parse_xml(data, text, base_url, max_pages)
    else:
        listing = _parse_url_list(data, max_pages)
    if not listing.pages and not listing.sitemaps:
        first = (
            f"; {len(listing.skipped)} skipped, first {listing.skipped[0]}"
            if listing.skipped
            else ""
        )
        raise RejectError("empty_listing", f"a {listing.kind} that names no page{first}")
    return listing


def _gunzip(data: bytes) -> bytes:
    """The decompressed bytes of gzip data (every member), refusing to expand past the cap."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(MAX_DECOMPRESSED_BYTES + 1)
    except (OSError, EOFError, zlib.error) as err:
        raise RejectError("corrupt_gzip", str(err) or type(err).__name__) from err
    if len(out) > MAX_DECOMPRESSED_BYTES:
        raise RejectError("decompressed_too_large", f"expands past {MAX_DECOMPRESSED_BYTES} bytes")
    return out


def _head_text(head: bytes) -> str:
    """The first bytes as text, enough to find a root element or the first lines."""
    if head.startswith(UTF16_BOMS):
        return head.decode("utf-16", errors="ignore")
    # The head may end inside a character; a replaced one does no harm to the sniffing.
    return head.decode("utf-8", errors="replace").removeprefix(BOM)


def _root(text: str) -> _Root | None:
    """The root element past the XML prolog; None if the head holds none (or is no XML)."""
    pos, doctype = 0, None
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            pos = -1 if end < 0 else end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
            pos = -1 if end < 0 else end + 3
        elif text[pos : pos + 9].upper() == "<!DOCTYPE":
            end = _doctype_end(text, pos)
            if end > 0:
                doctype = text[pos:end]
            pos = end
        elif text.startswith("<", pos):
            return _start_tag(text, pos, doctype)
        else:
            return None
        if pos < 0:
            return None


def _doctype_end(text: str, start: int) -> int:
    """Where a DOCTYPE that begins at `start` ends, past an internal subset; -1 if not here."""
    close, subset = text.find(">", start), text.find("[", start)
    if 0 <= subset < close or (close < 0 <= subset):
        subset_end = text.find("]", subset)
        close = -1 if subset_end < 0 else text.find(">", subset_end)
    return -1 if close < 0 else close + 1


def _start_tag(text: str, start: int, doctype: str | None) -> _Root | None:
    """The root element whose start tag begins at `start`."""
    end = start + 1
    while end < len(text) and not text[end].isspace() and text[end] not in "/>":
        end += 1
    name = text[start + 1 : end]
    if not name:
        return None
    close = text.find(">", end)
    return _Root(name, text[start : len(text) if close < 0 else close + 1], doctype)


def _xml_kind(root: _Root) -> ListingKind | None:
    """The kind of listing an XML document with this root is; None for HTML or other XML."""
    if _is_html(root):
        return None
    local = root.name.rpartition(":")[2]
    if local == "rss":
        return "feed"
    if local == "feed" and any(ns in root.start_tag for ns in ATOM_NAMESPACES):
        return "feed"
    if local == "RDF" and any(ns in root.start_tag for ns in RDF_FEED_NAMESPACES):
        return "feed"
    return SITEMAP_ROOTS.get(local)


def _is_html(root: _Root) -> bool:
    """Whether the document is an HTML page: `<!doctype html>` or an `<html>` root."""
    doctype = (root.doctype or "")[len("<!DOCTYPE") :].lstrip().lower()
    return doctype.startswith("html") or root.name.lower() == "html"


def _all_urls(text: str, complete: bool) -> bool:
    """Whether every line but blanks and `#` comments is one http(s) URL, and one at least."""
    lines = text.splitlines()
    if not complete and lines:
        lines.pop()  # the head may have cut the last line short
    urls = 0
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            _page_url(stripped, None)
        except ValueError:
            return False
        urls += 1
    return urls > 0


def _page_url(raw: str, base_url: str | None) -> str:
    """The http(s) URL a listing names, resolved and without its fragment; ValueError if none."""
    text = raw.strip()
    if PLAIN_HTTP_URL.fullmatch(text):
        return text.partition("#")[0]
    if not text or NOT_URL_CHARS.search(text):
        raise ValueError("not an http(s) URL")
    if base_url:
        text = urljoin(base_url, text)
    parts = urlsplit(text)
    if not parts.scheme:
        raise ValueError("relative URL and no http(s) base_url")
    if parts.scheme.lower() not in HTTP_SCHEMES or not parts.hostname:
        raise ValueError("not an http(s) URL")
    return text.partition("#")[0]


def _parse_xml(data: bytes, head: str, base_url: str | None, max_pages: int) -> Listing:
    """Parse a feed or sitemap, by its root element."""
    root = _root(head)
    if root is None:
        raise RejectError("not_a_feed", f"no root element in the first {SNIFF_BYTES} bytes")
    kind = _xml_kind(root)
    if kind is None:
        if _is_html(root):
            raise RejectError("not_a_feed", "an HTML page, not a feed or sitemap")
        raise RejectError("not_a_feed", f"root element <{root.name}> is no feed or sitemap")
    if kind == "feed":
        # feedparser drops most entity declarations, not all: none is let through.
        if root.doctype is not None and "<!ENTITY" in root.doctype.upper():
            raise RejectError("malformed_feed", "entity declarations in the DOCTYPE")
        return _parse_feed(data, base_url, max_pages)
    # No sitemap needs a DTD; one is an attempt to expand entities or read files.
    if root.doctype is not None:
        raise RejectError("malformed_sitemap", "a DOCTYPE (DTD or entity declarations)")
    return _parse_sitemap(data, kind, base_url, max_pages)


def _parse_feed(data: bytes, base_url: str | None, max_pages: int) -> Listing:
    """The pages an RSS or Atom feed's entries link to."""
    # A stream, never bytes: feedparser opens a bytes or str argument as a path if it can.
    parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False)
    entries: list[Any] = parsed.get("entries") or []
    if not entries and parsed.get("bozo"):
        raise RejectError("malformed_feed", str(parsed.get("bozo_exception")) or "not well-formed")
    outlet = _clean(parsed.get("feed", {}).get("title"))
    found = _Collector(max_pages, "pages")
    for number, entry in enumerate(entries, 1):
        link = _entry_link(entry)
        if link is None:
            found.skip(f"entry {number}", "no link")
            continue
        try:
            url = _page_url(link, base_url)
        except ValueError as err:
            found.skip(f"entry {number}", str(err), link)
            continue
        # dict.get: FeedParserDict answers a missing `updated` with `published` (and a warning).
        published = _clean(dict.get(entry, "published"))
        updated = _clean(dict.get(entry, "updated"))
        found.add(
            ListedPage(
                url=url,
                title=_clean(entry.get("title")),
                published_at=published or updated,
                modified_at=updated if published and updated != published else None,
                author=_clean(entry.get("author")),
                entry_id=_clean(entry.get("id")),
                outlet=outlet,
            )
        )
    return Listing("feed", tuple(found.pages), skipped=found.skipped())


def _entry_link(entry: Any) -> str | None:
    """A feed entry's link: its `link`, else its first alternate link."""
    link = _clean(entry.get("link"))
    if link is not None:
        return link
    for candidate in entry.get("links") or []:
        if candidate.get("rel", "alternate") == "alternate" and _clean(candidate.get("href")):
            return _clean(candidate.get("href"))
    return None


def _clean(value: object) -> str | None:
    """A field's text, stripped; None when absent, empty or not text."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _parse_sitemap(data: bytes, kind: ListingKind, base_url: str | None, max_pages: int) -> Listing:
    """The pages of a urlset, or the child sitemaps of a sitemap index, read as a stream."""
    entry_name = SITEMAP_ENTRIES[kind]
    found = _Collector(max_pages, "pages" if kind == "sitemap" else "sitemaps")
    handled, root = 0, None
    etree.clear_error_log()  # the log is per thread, not per parse: `_syntax_error` reads it
    events = etree.iterparse(
        io.BytesIO(data), events=("end",), tag=f"{{*}}{entry_name}", **XML_SAFETY
    )
    try:
        for _, element in events:
            parent = element.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # not an entry of the root: some extension's element of that name
            root = parent
            if found.full:
                # The rest is only counted: parsing it would take seconds for nothing kept.
                tag = f"<{element.prefix}:{entry_name}" if element.prefix else f"<{entry_name}"
                found.past_max = max(1, _count_start_tags(data, tag.encode()) - handled)
                break
            handled += 1
            _sitemap_entry(element, handled, entry_name, base_url, found)
            # Only the entry in hand stays in memory: a big sitemap never becomes a big tree.
            element.clear()
            while element.getprevious() is not None:
                del parent[0]
        # The parser names its root only once it has read the whole document.
        root_name = etree.QName(events.root if root is None else root).localname
    except etree.XMLSyntaxError as err:
        raise RejectError("malformed_sitemap", _syntax_error(err)) from err
    if SITEMAP_ROOTS.get(root_name) != kind:
        raise RejectError("malformed_sitemap", f"root element <{root_name}>, not a {kind}")
    if kind == "sitemap_index":
        sitemaps = tuple(page.url for page in found.pages)
        return Listing(kind, (), sitemaps=sitemaps, skipped=found.skipped())
    return Listing(kind, tuple(found.pages), skipped=found.skipped())


def _count_start_tags(data: bytes, tag: bytes) -> int:
    """How many times a start tag (`<url`, `<sm:url`) is in the data."""
    return sum(data.count(tag + end) for end in TAG_NAME_ENDS)


def _syntax_error(err: Any) -> str:
    """Where and why an XML document is not well-formed."""
    # iterparse's own message can be a bland "no element found". Its log holds earlier
    # parses' errors too, but the parser stops at its first, so the last one is the cause.
    last = err.error_log.last_error
    if last is None:
        return str(err) or type(err).__name__
    return f"{last.message} (line {last.line}, column {last.column})"


def _sitemap_entry(
    element: Any, number: int, entry_name: str, base_url: str | None, found: _Collector
) -> None:
    """Add the page (or child sitemap) one `<url>` (or `<sitemap>`) entry names."""
    # Tags compared as "{namespace}name" strings: a QName per child would double the time.
    namespace = element.tag[: -len(entry_name)]
    loc_tag, lastmod_tag = f"{namespace}loc", f"{namespace}lastmod"
    fields: dict[str, str | None] = {}
    for child in element:
        tag = child.tag
        if tag == loc_tag:
            fields["loc"] = _clean(child.text)
        elif tag == lastmod_tag:
            fields["lastmod"] = _clean(child.text)
        elif isinstance(tag, str) and tag.endswith("}news") and NEWS_NAMESPACE_MARK in tag:
            fields.update(_news_fields(child, tag[: -len("news")]))
    where = f"{entry_name} {number}"
    loc = fields.get("loc")
    if loc is None:
        found.skip(where, "no <loc>")
        return
    try:
        url = _page_url(loc, base_url)
    except ValueError as err:
        found.skip(where, str(err), loc)
        return
    found.add(
        ListedPage(
            url=url,
            title=fields.get("title"),
            published_at=fields.get("publication_date"),
            modified_at=fields.get("lastmod"),
            outlet=fields.get("name"),
        )
    )


def _news_fields(news: Any, namespace: str) -> dict[str, str | None]:
    """A Google News sitemap entry's title, publication date and publication name."""
    fields = {
        field: _clean(news.findtext(namespace + field)) for field in ("title", "publication_date")
    }
    fields["name"] = _clean(news.findtext(f"{namespace}publication/{namespace}name"))
    return fields


def _parse_url_list(data: bytes, max_pages: int) -> Listing:
    """The pages of a text of one URL a line, `#` comments and blank lines allowed."""
    text = _head_text(data) if data.startswith(UTF16_BOMS) else data.decode("utf-8", "replace")
    found = _Collector(max_pages, "pages")
    urls = others = 0
    for number, line in enumerate(text.removeprefix(BOM).splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            url = _page_url(stripped, None)
        except ValueError as err:
            others += 1
            found.skip(f"line {number}", str(err), stripped)
            continue
        urls += 1
        found.add(ListedPage(url))
    if urls == 0 or urls <= MIN_URL_LINE_SHARE * (urls + others):
        raise RejectError(
            "not_a_feed", f"not a feed, sitemap or URL list ({urls} of {urls + others} lines URLs)"
        )
    return Listing("url_list", tuple(found.pages), skipped=found.skipped())
