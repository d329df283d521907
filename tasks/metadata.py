"""Title, author and date extraction from a parsed HTML page, preferring what a reader sees."""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from htmldate import find_date
from lxml.html import HtmlElement  # type: ignore[import-untyped]  # lxml ships no stubs

from tasks.dates import MONTH_NAMES, DateKind, parse_date_line, parse_datetime
from tasks.records import DateCandidate


@dataclass(frozen=True)
class MetadataSettings:
    """Thresholds of the title, author and date rules."""

    # Longer h1s are teasers or whole intros, not headlines.
    title_max_chars: int = 300
    # Share of words (Dice) a heading must share with og:title/<title> to be the headline:
    # half tolerates a kicker or a site suffix on either side.
    title_match_min: float = 0.5
    # A person's name has 1-6 words; longer strings are sentences or outlet blurbs.
    author_max_words: int = 6
    # "By Jane Doe and John Roe | March 3, 2021 | 5 min read"; longer texts are author bios.
    byline_max_words: int = 14
    # Bylines and datelines are short; in longer (prose) lines only an opening date counts,
    # as prose dates are events ("Wir suchen zum 1. April 2016 ...").
    byline_max_chars: int = 100
    # A prose line's dateline opens it: "Pressemitteilung vom 25. Januar 2022 | Berlin –" has
    # at most a few words before the date ("Am 8. November 2021 findet ..." is an event).
    dateline_prefix_words: int = 3
    # "Last updated: Wednesday, September 20, 2023 at 10:32 a.m. EDT" is ~60 characters.
    date_line_max_chars: int = 80
    # Ancestors of the headline whose lines are read for a byline/dateline: its header block
    # (h1 wrapper, header, article head row); higher up the page's other blocks start.
    dateline_levels: int = 4
    # Lines read after the headline (kicker, teaser, byline, date, share-bar labels) and before
    # it (a date printed above the h1); the body's first paragraphs end the header anyway.
    dateline_lines_after: int = 12
    dateline_lines_before: int = 3
    # Without an <article> around the headline, a date element is looked for this many levels
    # up: the article body, not the page's lists of other articles.
    article_levels: int = 6


def _vocab(words: str, sep: str | None = None) -> tuple[str, ...]:
    """The items of a word list written as one string, to keep vocabularies compact."""
    return tuple(words.split(sep))


# Regions whose dates and names belong to other pages, the site or readers, as the first or
# last part of a class/id word ("comment-author", "related-posts", "site-sidebar").
NOISE_TOKENS = frozenset(
    _vocab(
        "nav navbar navigation menu sidebar comment comments related widget widgets weather "
        "breadcrumb breadcrumbs latest popular recommended newsletter ticker promo trending"
    )
)
# Page builders wrap every block in "<builder>-widget"; only a word starting so is a widget.
FIRST_ONLY_TOKENS = frozenset({"widget", "widgets"})
# The page's header/footer ("site-header", "footer"); "entry-header" is the article's own.
PAGE_PART = re.compile(r"^(?:(?:site|page|global|main)[_-]?)?(?:header|footer|masthead|topbar)$")
NOISE_TAGS = frozenset({"nav", "aside", "form"})
# Classes of text meant for screen readers only ("Post author", "Author").
HIDDEN_TOKENS = frozenset(_vocab("screen sr visually visuallyhidden assistive hidden"))
BLOCK_TAGS = frozenset(
    _vocab(
        "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd br tr td th table section article header "
        "footer aside nav figure figcaption blockquote time address main form"
    )
)
# <title>, og:title and the h1 of one headline differ in quote marks and dashes.
FOLD = str.maketrans({c: '"' for c in "„“”«»"} | {c: "'" for c in "‚‘’‹›"} | {"–": "-", "—": "-"})


def clean_text(text: str) -> str:
    """Whitespace collapsed, soft hyphens and zero-width spaces removed."""
    return " ".join(text.replace("\u00ad", "").replace("\u200b", "").split())


def _key(text: str) -> str:
    """A comparison key: NFKC, folded quotes and dashes, lowercase words only."""
    folded = unicodedata.normalize("NFKC", clean_text(text)).translate(FOLD).lower()
    return " ".join(re.findall(r"\w+", folded))


def _text(el: HtmlElement) -> str:
    """The text of an element, whitespace collapsed."""
    return clean_text(el.text_content())


def _classes(el: HtmlElement) -> list[str]:
    """The element's class and id words, lowercased."""
    return f"{el.get('class', '')} {el.get('id', '')}".lower().split()


def _tokens(el: HtmlElement) -> set[str]:
    """The parts of the element's class and id words, split on - and _."""
    return {p for word in _classes(el) for p in re.split(r"[_-]+", word)}


def _is_noise_block(el: HtmlElement) -> bool:
    """True for navigation, sidebars, comments and related lists, by a class word's ends."""
    # "comment-author" is a comment; a middle part rarely names a block ("header-footer-group").
    for word in _classes(el):
        parts = [p for p in re.split(r"[_-]+", word) if p] or [""]
        if parts[0] in NOISE_TOKENS or parts[-1] in NOISE_TOKENS - FIRST_ONLY_TOKENS:
            return True
    return el.tag in NOISE_TAGS


def _in_noise(el: HtmlElement, keep: HtmlElement | None = None) -> bool:
    """True when the element sits in a noise block or the page's own header/footer."""
    # Blocks also holding `keep` (the headline) are the article's, whatever their class:
    # Blogger wraps each post in a "widget".
    for anc in el.iterancestors():
        if anc.tag in {"body", "html"} or (keep is not None and _contains(anc, keep)):
            break  # page-wide classes ("has-comments") say nothing about one block
        if _is_furniture(anc):
            return True
    return False


def _is_furniture(el: HtmlElement) -> bool:
    """True for a noise block, or a header/footer of the page rather than of an article."""
    if _is_noise_block(el):
        return True
    page_part = el.tag in {"header", "footer"} or any(map(PAGE_PART.match, _classes(el)))
    return page_part and not any(a.tag in {"article", "main"} for a in el.iterancestors())


def _contains(parent: HtmlElement, child: HtmlElement | None) -> bool:
    """True when child is parent or lies inside it."""
    if child is None:
        return False
    return child is parent or any(a is parent for a in child.iterancestors())


def _lines(el: HtmlElement) -> list[HtmlElement | str]:
    """The element's text split at block boundaries; h1 and noise blocks kept as markers."""
    out: list[HtmlElement | str] = []
    buf: list[str] = [el.text or ""]

    def flush() -> None:
        if line := clean_text("".join(buf)):
            out.append(line)
        buf.clear()

    def walk(node: HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else "script"
        if tag == "h1" or _is_noise_block(node) or tag in {"script", "style", "noscript"}:
            flush()
            out.extend([node] if tag == "h1" else [])
        else:
            flush() if tag in BLOCK_TAGS else None
            buf.append(node.text or "")
            for child in node:
                walk(child)
            flush() if tag in BLOCK_TAGS else None
        buf.append(node.tail or "")

    for child in el:
        walk(child)
    flush()
    return out


def _visible_text(
    el: HtmlElement, skip: Callable[[HtmlElement], bool] | None = None, spaced: bool = True
) -> str:
    """An element's text without skipped children (screen-reader-only text by default)."""
    skip = skip or (lambda node: bool(_tokens(node) & HIDDEN_TOKENS))
    parts: list[str] = []

    def walk(node: HtmlElement) -> None:
        if node is el or not skip(node):
            parts.append(node.text or "")
            for child in node:
                walk(child)
        else:
            parts.append(" ")
        if node is not el:
            parts.append((" " if spaced else "") + (node.tail or ""))

    walk(el)
    return clean_text("".join(parts))


def _meta(tree: HtmlElement, *names: str) -> list[str]:
    """Contents of <meta> tags whose name/property/itemprop is one of names, in names order."""
    found: dict[str, list[str]] = {n: [] for n in names}
    for meta in tree.iter("meta"):
        content = clean_text(meta.get("content") or "")
        for attr in ("property", "name", "itemprop"):
            if (name := (meta.get(attr) or "").lower()) in found and content:
                found[name].append(content)
    return [v for n in names for v in found[n]]


def _json_ld(tree: HtmlElement) -> list[dict[str, Any]]:
    """The JSON-LD objects describing a page or article; WebPage nodes last (fallback)."""
    objects: list[dict[str, Any]] = []
    for script in tree.xpath('//script[contains(@type, "ld+json")]'):
        try:
            objects.extend(_walk_ld(json.loads(script.text or "", strict=False)))
        except ValueError:
            continue
    typed = [o for o in objects if ARTICLE_TYPES.search(str(o.get("@type", "")))]
    return sorted(typed, key=lambda o: "webpage" in str(o.get("@type", "")).lower())


ARTICLE_TYPES = re.compile(r"article|posting|report|news|blog|webpage|creativework", re.I)


def _walk_ld(data: Any) -> Iterator[dict[str, Any]]:
    """Every object of a JSON-LD document, following lists, @graph and mainEntity."""
    if isinstance(data, list):
        for item in data:
            yield from _walk_ld(item)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            yield from _walk_ld(data.get(key))


# --------------------------------------------------------------------------------------------
# Title
# --------------------------------------------------------------------------------------------

# Separators between headline and site name in <title>, strongest first.
TITLE_SEPARATORS = _vocab(" | ; – ; — ; - ; :: ; // ; » ; « ; · ; • ; / ; : ", ";")
# Headings naming the site or labelling widgets for screen readers, never the story.
NOT_HEADLINE_TOKENS = frozenset(
    _vocab("site logo brand branding visuallyhidden aural assistive screen sr widget hidden")
)
# Children of a headline that are its kicker or a date/category line ("Dachzeile").
KICKER_TOKENS = frozenset(
    _vocab(
        "kicker roofline dachzeile topline overline eyebrow label h1small topic titleheader "
        "spitzmarke date category"
    )
)
# Second-level labels under which a domain's own name is one label further left (bbc.co.uk).
SECOND_LEVEL = frozenset(_vocab("co com org net gov ac"))
# A link to the site's front page ("/", "https://host/", an archived ".../http://host/").
HOME_LINK = re.compile(r"^/$|^\.?/?index\.\w+$|(?:^|//)[\w.-]+\.[a-z]{2,}/?(?:index\.\w+)?$")


def page_title(tree: HtmlElement, settings: MetadataSettings) -> str | None:
    """The headline a reader sees: the matching <h1>, else a metadata title without site name."""
    heading = headline_element(tree, settings)
    if heading is not None:
        return headline_text(heading)
    site = _site_names(tree)
    for title, is_title_tag in _meta_titles(tree):
        if stripped := strip_site_name(title, site, is_title_tag).strip(" »«|-–—:/·•"):
            return stripped
    return None


def _meta_titles(tree: HtmlElement) -> list[tuple[str, bool]]:
    """og:title, JSON-LD headline, then <title> (flagged True: it always ends in the site)."""
    titles = [(t, False) for t in _meta(tree, "og:title", "twitter:title", "dc.title")]
    titles += [(clean_text(str(o["headline"])), False) for o in _json_ld(tree) if o.get("headline")]
    titles += [(_text(t), True) for t in tree.iter("title")][:1]
    return [(t, flag) for t, flag in titles if t]


def _site_names(tree: HtmlElement, title_edges: bool = False) -> set[str]:
    """Keys of the outlet's names: og:site_name, publisher, logo, domain, <title> edges."""
    # The first and last parts of <title> are where sites put their name; only author
    # checks use them, since for titles they would strip the headline itself.
    names = _meta(tree, "og:site_name", "application-name", "twitter:site", "og:url")
    names += [link.get("href") or "" for link in tree.xpath('//link[@rel="canonical"]')]
    names += [
        str(o["publisher"].get("name"))
        for o in _json_ld(tree)
        if isinstance(o.get("publisher"), dict)
    ]
    names += [_text(h) for h in tree.iter("h1") if _is_site_heading(h)]
    keys = {_key(n.lstrip("@")) for n in names if isinstance(n, str) and "://" not in n}
    for name in names:  # "www.bmas.de", "https://edition.cnn.com/x" name the site too
        if host := re.match(r"(?:https?://)?([\w.-]+\.[a-z]{2,})(?:/|$)", str(name).lower()):
            labels = host.group(1).split(".")
            second_level = len(labels) > 2 and labels[-2] in SECOND_LEVEL
            keys.add(_key(labels[-3] if second_level else labels[-2]))
    for title in [_text(t) for t in tree.iter("title")][:1] if title_edges else []:
        parts = next((title.split(s) for s in TITLE_SEPARATORS if s in title), [])
        keys |= {_key(parts[0]), _key(parts[-1])} if parts else set()
    return keys - {""}


def headline_element(tree: HtmlElement, settings: MetadataSettings) -> HtmlElement | None:
    """The h1 repeating a metadata title, else the only h1, else a matching title-classed h2."""
    # Old blog themes put the site name in the h1 and the post title in an h2/h3.
    titles = [_key(t).split() for t, _ in _meta_titles(tree)]
    titled = [
        h
        for h in tree.iter("h2", "h3")
        if re.search("title|headline|heading", h.get("class") or "", re.I)
    ]
    candidates = [
        h
        for h in list(tree.iter("h1")) + titled
        if 1 < len(_text(h)) <= settings.title_max_chars and not _is_site_heading(h)
    ]
    h1s = [h for h in candidates if h.tag == "h1"]
    if (best := _best_match(h1s, titles, settings)) is not None:
        return best
    if len(clean := [h for h in h1s if not _in_noise(h)]) == 1:
        return clean[0]
    return _best_match([h for h in candidates if h.tag != "h1"], titles, settings)


def _best_match(
    headings: list[HtmlElement], titles: list[list[str]], settings: MetadataSettings
) -> HtmlElement | None:
    """The (first) heading sharing most words with a metadata title, if it shares enough."""
    scored = [
        (max((_dice(h, t) for t in titles), default=0.0), -i, h) for i, h in enumerate(headings)
    ]
    score, _, best = max(scored, key=lambda s: s[:2], default=(0.0, 0, None))
    return best if score >= settings.title_match_min else None


def _dice(heading: HtmlElement, title: list[str]) -> float:
    """Dice overlap of a heading's words with a title's words (0..1)."""
    words = _key(headline_text(heading)).split()
    common = sum((Counter(words) & Counter(title)).values())
    return 2 * common / (len(words) + len(title)) if words and title else 0.0


def _is_site_heading(h: HtmlElement) -> bool:
    """True for a heading that is the site's logo/name or a screen-reader/widget label."""
    if _tokens(h) & NOT_HEADLINE_TOKENS:
        return True
    return any(
        a.get("rel") == "home" or HOME_LINK.search(a.get("href") or "x") for a in h.iter("a")
    )


def headline_text(h: HtmlElement) -> str:
    """A heading's text without its kicker, hidden separator or date/category line."""
    marked = [c for c in h.iterdescendants() if "headline" in _tokens(c) and _text(c)]
    if len(marked) == 1:
        return _text(marked[0])
    return _visible_text(h, skip=_is_kicker, spaced=False) or _text(h)


def _is_kicker(node: HtmlElement) -> bool:
    """True for a heading child that is a kicker, a hidden separator or small print."""
    return (
        node.tag in {"small", "time", "script", "style"}
        or node.get("aria-hidden") == "true"
        or bool(_tokens(node) & KICKER_TOKENS)
    )


def strip_site_name(title: str, site: set[str], is_title_tag: bool) -> str:
    """A title without its " | Site" / "Site - " part, cut at its strongest separator."""
    # A <title> loses its last part even when the site name is unknown: sites put it there.
    for sep in TITLE_SEPARATORS:
        if len(parts := title.split(sep)) < 2:
            continue
        if _is_site_part(parts[-1], site) or (is_title_tag and not _is_site_part(parts[0], site)):
            return sep.join(parts[:-1])
        if _is_site_part(parts[0], site):
            return sep.join(parts[1:])
    return title


def _is_site_part(part: str, site: set[str]) -> bool:
    """True when a title part is the outlet: a known site name or a domain."""
    return _key(part) in site or bool(re.fullmatch(r"[\w.-]+\.[a-z]{2,}", part.strip().lower()))


# --------------------------------------------------------------------------------------------
# Author
# --------------------------------------------------------------------------------------------

# Phrases before a byline name ("By", "Von", "Posted by", "Zeige alle Beiträge von").
AUTHOR_PREFIX = re.compile(
    r"^(?:.{0,40}?\b(?:posts?|beiträge|artikel|articles?)\s+(?:by|von|de|par|por)\s+"
    r"|(?:(?:written|posted|published|veröffentlicht|erstellt|geschrieben|verfasst|publicado|"
    r"publié|ein\s+beitrag|text|texto|story)\s+)?"
    r"(?:by|von|par|por|de|text|texto|autor(?:in)?|author|auteur|redaktion)\s*[:\-]?\s+)",
    re.I,
)
# A date, role or bullet-separated field after the name ("Jane Doe | 3 March", "X (dpa)").
AUTHOR_TAIL = re.compile(
    r"\s*(?:[|•·–—(]|\s-\s|\b(?:am|on|updated|veröffentlicht|published)\b|\d{1,2}[./]\d).*$",
    re.I,
)
# Job titles before a name ("FOCUS-Online-Experte Robin Tschöpe").
ROLE_WORD = re.compile(
    r"\S*(?:experte|expertin|redakteur|korrespondent|reporter|editor|journalist|columnist|"
    r"kolumnist)\S*$",
    re.I,
)
# Words that label a byline without naming anyone ("Von", "Auteur", "Veröffentlicht").
LABEL_ONLY = frozenset(
    _vocab(
        "by von par por de text texto autor autorin author auteur posted published veröffentlicht "
        "erstellt geschrieben written no author"
    )
)
# Co-author separators; ", PhD" stays with its name.
NAME_SPLIT = re.compile(r"\s*(?:;|\band\b|\bund\b|&|\bet\b|\by\b|,(?!\s*(?:PhD|MD|Jr|Sr)\b))\s*")
# A byline label inside a short line: "By Jane", "ByJ.R. Stone", "05.02.2020 - Redaktion: X".
BYLINE_LABEL = re.compile(
    r"(?:^|[|•·–—:-]\s*)\W*(?:by|von|par|por|auteur|autor(?:in|en)?|authors?|redaktion|text)"
    r"(?:\s*:\s*|\s+|(?=(?-i:[A-ZÄÖÜ]))|$)",
    re.I,
)
# Class/id words of byline elements ("author vcard", "td-post-author-name", "itemPoster").
AUTHOR_MARK = re.compile(r"author|byline|autor|poster|creator|verfasser", re.I)
# Author bio boxes and pictures sit in author-classed blocks but hold no byline.
NOT_BYLINE_MARK = re.compile(r"avatar|bio|desc|img|image|photo|box|about", re.I)
# A web address names a site, never a person ("Deutsche Welle (www.dw.com)", "24horas.cl").
DOMAIN = re.compile(r"www\.|\w\.[a-z]{2,3}\b")


def page_author(tree: HtmlElement, settings: MetadataSettings) -> str | None:
    """The article's author(s) joined with "; "; outlet names only when no person is named."""
    site = _site_names(tree, title_edges=True)
    fallback: list[str] = []
    for raw in _author_sources(tree, headline_element(tree, settings), settings):
        names = _clean_names(raw, settings)
        # The raw value can show an outlet its cleaned name hides ("X (www.dw.com)").
        outlets = {n for v in raw if DOMAIN.search(v) for n in _clean_names([v], settings)}
        if persons := [n for n in names if n not in outlets and not _is_outlet(n, site)]:
            return "; ".join(persons)
        fallback = fallback or names
    return "; ".join(fallback) or None


def _is_outlet(name: str, site: set[str]) -> bool:
    """True for the outlet or an agency: a site name either way round, an acronym, a domain."""
    # "EFC Bayrische Bembel" on "EFC Bayrische Bembel Regensburg"; "CNN" on edition.cnn.com.
    key = f" {_key(name)} "
    if key.strip() and any(s and (f" {s} " in key or key in f" {s} ") for s in site):
        return True
    return bool(re.fullmatch(r"[A-Z]{2,5}", name) or DOMAIN.search(name))


def _author_sources(
    tree: HtmlElement, h1: HtmlElement | None, settings: MetadataSettings
) -> Iterator[list[str]]:
    """Raw author strings per source, most trustworthy first."""
    for obj in _json_ld(tree):
        yield _ld_names(obj.get("author"))
    names = "author article:author dc.creator parsely-author sailthru.author byl citation_author"
    yield [m for m in _meta(tree, *names.split()) if "://" not in m]
    yield _first_group(tree.xpath('//*[@itemprop="author"]'), h1)
    yield _first_group(tree.xpath('//a[@rel="author"]'), h1)
    yield _marked_bylines(tree, h1, settings)[:1]
    yield _byline_lines(tree, h1, settings)


def _ld_names(value: Any) -> list[str]:
    """Names from a JSON-LD author value: a string, a Person, or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _ld_names(value.get("name"))
    return [n for item in value for n in _ld_names(item)] if isinstance(value, list) else []


def _first_group(elements: list[HtmlElement], h1: HtmlElement | None) -> list[str]:
    """Names of the first element outside noise and its co-authors in the same block."""
    kept = [e for e in elements if not _in_noise(e, h1)]
    block = kept[0].getparent() if kept else None
    out = []
    for el in [e for e in kept if e.getparent() is block]:
        named = el.xpath('.//*[@itemprop="name"]')[:1]  # schema.org Person markup
        out.append(
            clean_text(named[0].get("content") or _visible_text(named[0]))
            if named
            else _visible_text(el)
        )
    return out


def _marked_bylines(
    tree: HtmlElement, h1: HtmlElement | None, settings: MetadataSettings
) -> list[str]:
    """Texts of the innermost author/byline-classed elements outside noise."""
    out: list[str] = []
    for el in tree.iter():
        if not _is_author_marked(el) or _in_noise(el, h1):
            continue
        if any(map(_is_author_marked, el.iterdescendants())):
            continue  # the inner element holds the name alone
        for node in (el, el.getparent()):  # the parent when el holds only a label ("Von")
            text = _visible_text(node)
            too_long = len(AUTHOR_TAIL.sub("", text).split()) > settings.byline_max_words
            if too_long or len(text.split()) > 2 * settings.byline_max_words:
                break
            if _clean_names([text], settings):
                out.append(text)
                break
    return out


def _is_author_marked(el: HtmlElement) -> bool:
    """True for a text element whose class/id says author or byline (not a bio or avatar)."""
    if not isinstance(el.tag, str) or el.tag in {"meta", "link", "script", "img", "svg", "body"}:
        return False
    marks = f"{el.get('class', '')} {el.get('id', '')}"
    return bool(AUTHOR_MARK.search(marks)) and not NOT_BYLINE_MARK.search(marks)


def _byline_lines(
    tree: HtmlElement, h1: HtmlElement | None, settings: MetadataSettings
) -> list[str]:
    """What follows a byline label ("By", "Von", "Auteur :") in short lines by the headline."""
    lines = [ln for ln in _head_lines(h1, settings) if len(ln) <= settings.byline_max_chars]
    out = []
    for i, line in enumerate(lines):
        for match in BYLINE_LABEL.finditer(line):
            # A label alone on its line ("Por") names the author on the next one.
            out.append(line[match.end() :].strip() or "".join(lines[i + 1 : i + 2]))
    return [text for text in out if text]


def _clean_names(raw: list[str], settings: MetadataSettings) -> list[str]:
    """Person names from raw author strings: labels, handles, roles and trailing dates dropped."""
    names: list[str] = []
    for value in raw:
        value = AUTHOR_PREFIX.sub("", re.sub(r"\s@\w+", "", clean_text(value)))
        value = AUTHOR_TAIL.sub("", value).strip(" ,;:|-")
        if len(value.split()) > settings.byline_max_words:
            continue  # an author bio ("Über Kathrin: Hallo, ich bin ..."), not a byline
        for name in NAME_SPLIT.split(value):
            words = name.strip(" ,;:|-").split()
            while len(words) > 2 and ROLE_WORD.match(words[0]):
                words = words[1:]
            name = " ".join(words)
            if _name_shaped(name, settings) and name.lower() not in map(str.lower, names):
                names.append(name)
    return names


def _name_shaped(name: str, settings: MetadataSettings) -> bool:
    """True for 1-6 words with letters, no e-mail or bare label; digits only in a user name."""
    words = name.split()
    return (
        0 < len(words) <= settings.author_max_words
        and any(c.isalpha() for c in name)
        and "@" not in name
        and (len(words) == 1 or not any(c.isdigit() for c in name))  # "freeman1984"
        and not set(name.lower().replace(":", " ").split()) <= LABEL_ONLY
    )


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

PUBLISHED_META = _vocab(
    "article:published_time og:published_time datepublished pubdate publishdate publish-date "
    "date dc.date dc.date.issued dc.date.created dcterms.date dcterms.created dcterms.issued "
    "sailthru.date parsely-pub-date citation_date citation_publication_date published_time"
)
MODIFIED_META = _vocab(
    "article:modified_time og:updated_time datemodified dc.date.modified dcterms.modified "
    "last-modified"
)
LD_DATE_FIELDS: tuple[tuple[str, DateKind], ...] = (
    ("datePublished", "published"),
    ("dateCreated", "published"),
    ("dateModified", "modified"),
)
# Class/id/itemprop words of elements holding the article's date.
DATE_MARK = re.compile(r"date|datum|time|publish|posted|fecha|zeit|meta|info", re.I)
MODIFIED_MARK = re.compile(r"modif|updated|aktualisiert|actualiza", re.I)
URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|[^\d]|$)")
# A date inside a longer line: "29.10.2021", "1. November 2023", "March 3, 2021", ISO.
DATE_IN_TEXT = re.compile(
    rf"(?:\b(?:updated|last updated|modified|aktualisiert|actualizado|mis à jour)\s*:?\s*)?"
    rf"(?:\d{{1,2}}\.\s?\d{{1,2}}\.\s?\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}(?:\.|st|nd|rd|th|er)?\s(?:de\s)?(?:{MONTH_NAMES})\.?,?\s(?:de\s)?\d{{4}}"
    rf"|(?:{MONTH_NAMES})\.?\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}})(?![\d:])",
    re.I,
)


def page_dates(
    tree: HtmlElement, url: str | None, settings: MetadataSettings
) -> list[DateCandidate]:
    """Publication, then modification date candidates, most trustworthy first."""
    # Visible dates by the headline lead: where they and the metadata disagree, readers see
    # the visible one (metadata often holds a re-indexing date or a UTC-shifted day).
    h1 = headline_element(tree, settings)
    found = _dateline_dates(h1, settings) + _marked_dates(tree, h1, settings)
    found += _metadata_dates(tree, settings) + _url_dates(url)
    if not any(c.kind == "published" for c in found):
        found += _htmldate_dates(tree, url, settings)
    return sorted(found, key=lambda c: c.kind != "published")  # stable: order kept per kind


def _metadata_dates(tree: HtmlElement, settings: MetadataSettings) -> list[DateCandidate]:
    """Dates from JSON-LD and <meta> tags."""
    raw = [
        (o[f], kind)
        for o in _json_ld(tree)
        for f, kind in LD_DATE_FIELDS
        if isinstance(o.get(f), str)
    ]
    raw += [(v, "published") for v in _meta(tree, *PUBLISHED_META)]
    raw += [(v, "modified") for v in _meta(tree, *MODIFIED_META)]
    parsed = [(parse_datetime(v, settings.date_line_max_chars), kind) for v, kind in raw]
    return [DateCandidate(value, "html_metadata", kind) for value, kind in parsed if value]


def _marked_dates(
    tree: HtmlElement, h1: HtmlElement | None, settings: MetadataSettings
) -> list[DateCandidate]:
    """The first <time> or date-classed element of the headline's article (page if none)."""
    # Further away from the headline, dates belong to lists of other articles.
    scope = tree if h1 is None else h1
    for _ in range(settings.article_levels if h1 is not None else 0):
        parent = scope.getparent()
        if parent is None or parent.tag in {"body", "html"}:
            break
        scope = parent
        if scope.tag == "article":
            break
    for el in scope.iter():
        if not isinstance(el.tag, str) or el.tag in {"meta", "script", "style", "body", "html"}:
            continue
        marks = f"{el.get('class', '')} {el.get('id', '')} {el.get('itemprop', '')}"
        if (el.tag == "time" or DATE_MARK.search(marks)) and not _in_noise(el, h1):
            kind: DateKind = "modified" if MODIFIED_MARK.search(marks) else "published"
            if found := _element_dates(el, kind, settings):
                return found
    return []


def _element_dates(
    el: HtmlElement, kind: DateKind, settings: MetadataSettings
) -> list[DateCandidate]:
    """A date element's machine value (datetime/content/title), else its visible text."""
    for attr in ("datetime", "content", "title"):
        if parsed := parse_datetime(el.get(attr) or "", settings.date_line_max_chars):
            return [DateCandidate(parsed, "html_metadata", kind)]
    if len(text := _text(el)) > settings.byline_max_chars:
        return []
    found = _dates_in_line(text, settings)
    return [
        DateCandidate(
            c.value, c.source, "modified" if "modified" in (c.kind, kind) else "published"
        )
        for c in found
    ]


def _htmldate_dates(
    tree: HtmlElement, url: str | None, settings: MetadataSettings
) -> list[DateCandidate]:
    """htmldate's markup-only guess (no free-text search), for pages our rules find nothing in."""
    # htmldate prunes the tree it reads, so it gets a copy, without the page header, sidebars
    # and lists of other articles whose dates it would take.
    clone = copy.deepcopy(tree)
    h1 = headline_element(clone, settings)
    for el in list(clone.iter()):
        if (
            isinstance(el.tag, str)
            and el.tag != "html"
            and _is_furniture(el)
            and not _contains(el, h1)
        ):
            el.drop_tree()
    value = find_date(clone, url=url, extensive_search=False, original_date=True)
    parsed = parse_datetime(value or "", settings.date_line_max_chars)
    return [DateCandidate(parsed, "htmldate", "published")] if parsed else []


def _url_dates(url: str | None) -> list[DateCandidate]:
    """A /YYYY/MM/DD/ or YYYY-MM-DD date in the URL path."""
    if (match := URL_DATE.search(url or "")) is None:
        return []
    iso_day = "-".join(f"{int(g):02d}" for g in match.groups())
    value = parse_datetime(iso_day, len(iso_day))  # ISO: fromisoformat reads it, no cap bites
    return [DateCandidate(value, "url", "published")] if value else []


def _head_lines(h1: HtmlElement | None, settings: MetadataSettings) -> list[str]:
    """Text lines right after, then right before the headline, in its header block."""
    if h1 is None:
        return []
    anc = h1
    for _ in range(settings.dateline_levels):
        if (parent := anc.getparent()) is None or parent.tag in {"body", "html"}:
            break
        anc = parent
    lines = _lines(anc)
    at = next((i for i, ln in enumerate(lines) if ln is h1), 0)
    after = lines[at + 1 : at + 1 + settings.dateline_lines_after]
    before = lines[max(0, at - settings.dateline_lines_before) : at]
    return [ln for ln in after + before if isinstance(ln, str)]


def _dateline_dates(h1: HtmlElement | None, settings: MetadataSettings) -> list[DateCandidate]:
    """Dates written in or next to the headline, in its header block."""
    if h1 is None:
        return []
    # A headline mentions events ("Ergebnisse, 19.5.2007"): only its kicker or an opening
    # date ("23.01.2022 - Wierer ...") is a dateline.
    kickers = [_text(k) for k in h1.iterdescendants() if _is_kicker(k)]
    own = [c for k in kickers for c in _dates_in_line(k, settings)]
    own += _dates_in_line(_text(h1), settings, prose=True)
    return own + [c for ln in _head_lines(h1, settings) for c in _dates_in_line(ln, settings)]


def _dates_in_line(
    line: str, settings: MetadataSettings, prose: bool = False
) -> list[DateCandidate]:
    """Dates in a byline/dateline; in prose only one opening it ("01.02.2022 „Der ...")."""
    if whole := parse_date_line(line, settings.date_line_max_chars):
        return [DateCandidate(whole[0], "dateline", whole[1])]
    prose = prose or len(line) > settings.byline_max_chars
    out = []
    for match in DATE_IN_TEXT.finditer(line):
        if prose and not _opens_line(line, match, settings):
            break
        if parsed := parse_date_line(match.group(0), settings.date_line_max_chars):
            out.append(DateCandidate(parsed[0], "dateline", parsed[1]))
    return out


def _opens_line(line: str, match: re.Match[str], settings: MetadataSettings) -> bool:
    """True when a date in a prose line is its dateline: a few words in, then a separator."""
    before, after = line[: match.start()], line[match.end() :].lstrip()
    return len(before.split()) <= settings.dateline_prefix_words and (
        not after or after[0] in '|–—-:•·„"»«/'
    )
