"""Settings and HTML tree helpers shared by the headline, byline and date rules."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement  # type: ignore[import-untyped]  # lxml ships no stubs

from tasks.text.keys import clean_text


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


def vocab(words: str, sep: str | None = None) -> tuple[str, ...]:
    """The items of a word list written as one string, to keep vocabularies compact."""
    return tuple(words.split(sep))


# Regions whose dates and names belong to other pages, the site or readers, as the first or
# last part of a class/id word ("comment-author", "related-posts", "site-sidebar").
NOISE_TOKENS = frozenset(
    vocab(
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
HIDDEN_TOKENS = frozenset(vocab("screen sr visually visuallyhidden assistive hidden"))
# Elements that start a line of their own on a rendered page.
# fmt: off
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main",
    "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead",
    "tr", "ul", "button", "label", "option",
})
# fmt: on
# Table cells share their row's line on the page.
CELL_TAGS = frozenset({"td", "th"})
# A header's lines are read one fact at a time: a cell, a line break or a <time> ends one
# ("By Jane Doe<br>March 3, 2021", "<td>Jane Doe</td><td>March 3</td>").
HEADER_BREAK_TAGS = BLOCK_TAGS | CELL_TAGS | {"br", "time"}
# The parts of a class word ("td-post-author").
CLASS_PART_SEPARATOR = re.compile(r"[_-]+")


def element_text(el: HtmlElement) -> str:
    """The text of an element, whitespace collapsed."""
    return clean_text(el.text_content())


def class_words(el: HtmlElement) -> list[str]:
    """The element's class and id words, lowercased."""
    return f"{el.get('class', '')} {el.get('id', '')}".lower().split()


def class_tokens(el: HtmlElement) -> set[str]:
    """The parts of the element's class and id words, split on - and _."""
    return {p for word in class_words(el) for p in CLASS_PART_SEPARATOR.split(word)}


def is_noise_block(el: HtmlElement) -> bool:
    """True for navigation, sidebars, comments and related lists, by a class word's ends."""
    # "comment-author" is a comment; a middle part rarely names a block ("header-footer-group").
    for word in class_words(el):
        parts = [p for p in CLASS_PART_SEPARATOR.split(word) if p] or [""]
        if parts[0] in NOISE_TOKENS or parts[-1] in NOISE_TOKENS - FIRST_ONLY_TOKENS:
            return True
    return el.tag in NOISE_TAGS


def in_noise(el: HtmlElement, keep: HtmlElement | None = None) -> bool:
    """True when the element sits in a noise block or the page's own header/footer."""
    # Blocks also holding `keep` (the headline) are the article's, whatever their class:
    # Blogger wraps each post in a "widget".
    for anc in el.iterancestors():
        if anc.tag in {"body", "html"} or (keep is not None and contains(anc, keep)):
            break  # page-wide classes ("has-comments") say nothing about one block
        if is_furniture(anc):
            return True
    return False


def is_furniture(el: HtmlElement) -> bool:
    """True for a noise block, or a header/footer of the page rather than of an article."""
    if is_noise_block(el):
        return True
    page_part = el.tag in {"header", "footer"} or any(map(PAGE_PART.match, class_words(el)))
    return page_part and not any(a.tag in {"article", "main"} for a in el.iterancestors())


def contains(parent: HtmlElement, child: HtmlElement | None) -> bool:
    """True when child is parent or lies inside it."""
    if child is None:
        return False
    return child is parent or any(a is parent for a in child.iterancestors())


def block_lines(el: HtmlElement) -> list[HtmlElement | str]:
    """The element's text split at block boundaries; h1 and noise blocks kept as markers."""
    out: list[HtmlElement | str] = []
    buf: list[str] = [el.text or ""]

    def flush() -> None:
        if line := clean_text("".join(buf)):
            out.append(line)
        buf.clear()

    def walk(node: HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else "script"
        if tag == "h1" or is_noise_block(node) or tag in {"script", "style", "noscript"}:
            flush()
            out.extend([node] if tag == "h1" else [])
        else:
            flush() if tag in HEADER_BREAK_TAGS else None
            buf.append(node.text or "")
            for child in node:
                walk(child)
            flush() if tag in HEADER_BREAK_TAGS else None
        buf.append(node.tail or "")

    for child in el:
        walk(child)
    flush()
    return out


def visible_text(
    el: HtmlElement, skip: Callable[[HtmlElement], bool] | None = None, spaced: bool = True
) -> str:
    """An element's text without skipped children (screen-reader-only text by default)."""
    skip = skip or (lambda node: bool(class_tokens(node) & HIDDEN_TOKENS))
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


def meta_values(tree: HtmlElement, *names: str) -> list[str]:
    """Contents of <meta> tags whose name/property/itemprop is one of names, in names order."""
    found: dict[str, list[str]] = {n: [] for n in names}
    for meta in tree.iter("meta"):
        content = clean_text(meta.get("content") or "")
        for attr in ("property", "name", "itemprop"):
            if (name := (meta.get(attr) or "").lower()) in found and content:
                found[name].append(content)
    return [v for n in names for v in found[n]]


def json_ld(tree: HtmlElement) -> list[dict[str, Any]]:
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


def head_lines(h1: HtmlElement | None, settings: MetadataSettings) -> list[str]:
    """Text lines right after, then right before the headline, in its header block."""
    if h1 is None:
        return []
    anc = h1
    for _ in range(settings.dateline_levels):
        if (parent := anc.getparent()) is None or parent.tag in {"body", "html"}:
            break
        anc = parent
    lines = block_lines(anc)
    at = next((i for i, ln in enumerate(lines) if ln is h1), 0)
    after = lines[at + 1 : at + 1 + settings.dateline_lines_after]
    before = lines[max(0, at - settings.dateline_lines_before) : at]
    return [ln for ln in after + before if isinstance(ln, str)]


def article_scope(
    tree: HtmlElement, h1: HtmlElement | None, settings: MetadataSettings
) -> HtmlElement:
    """The headline's <article>, else its ancestor article_levels up; the page without one."""
    scope = tree if h1 is None else h1
    for _ in range(settings.article_levels if h1 is not None else 0):
        parent = scope.getparent()
        if parent is None or parent.tag in {"body", "html"}:
            break
        scope = parent
        if scope.tag == "article":
            break
    return scope
