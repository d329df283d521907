"""HTML pages for the clean stage: parsing, visible lines, and trafilatura's main text."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import trafilatura
from lxml.html import HtmlElement  # type: ignore[import-untyped]  # lxml ships no stubs
from trafilatura.utils import load_html

from tasks.core.records import RemovedLine
from tasks.core.safety import RejectError
from tasks.html.tree import BLOCK_TAGS, CELL_TAGS
from tasks.text.dates import parse_datetime
from tasks.text.keys import match_key

# trafilatura logs a warning for every icon link without text once links are kept: noise.
logging.getLogger("trafilatura.xml").setLevel(logging.ERROR)


@dataclass(frozen=True)
class HtmlSettings:
    """How trafilatura is asked for a page's main text, and how its lines are matched."""

    # A visible line at least this long counts as body text when it is contained in the
    # body (trafilatura may split or merge lines differently); shorter lines must match a body
    # paragraph whole so a menu item "Home" is not hidden inside "homeland".
    substring_min_chars: int = 30
    # htmldate's extensive search reads dates from free page text and then picks page-header
    # dates ("Friday, July 19, 2024" beside the weather) as publication: metadata only.
    extensive_date_search: bool = False
    # Reader comments are not article text.
    include_comments: bool = False
    # Tables in news pages are usually data the article discusses (results, tallies).
    include_tables: bool = True
    # htmldate caps dates at today's wall-clock date by default, which would make the output
    # depend on when the run happens; normalize drops future dates against the run's
    # reference time instead, so the cap here is only a sanity bound.
    max_date: str = "2099-12-31"


TAG = re.compile(r"<\s*[a-zA-Z!?/]")
# fmt: off
SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "head", "title", "svg", "iframe", "object",
    "embed", "canvas", "select", "math",
})
# fmt: on
# libxml2 refuses to nest elements deeper than this (its default, without huge_tree).
PARSER_MAX_DEPTH = 255
# Source line breaks inside HTML text are plain spaces; only blocks start visible lines.
WHITESPACE = re.compile(r"\s+")
# trafilatura's output tree: containers whose children are the paragraphs.
EXTRACT_CONTAINERS = frozenset({"body", "doc", "main", "div", "list", "quote", "table", "figure"})


@dataclass(frozen=True)
class HtmlExtract:
    """What trafilatura found in a page: paragraphs and metadata."""

    paragraphs: list[str]
    leading_heads: int  # headings before the first paragraph of text: headline and standfirst
    link_density: list[float]  # per paragraph: share of its characters inside links
    title: str | None
    author: str | None
    sitename: str | None
    url: str | None
    published: datetime | None


# A character reference to a code point XML cannot hold (U+FFFE, U+FFFF, C0 controls): libxml2
# keeps it as a broken node, and trafilatura then found no main text in the whole page.
CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")
XML_INVALID = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffe\uffff]")


def xml_safe(content: str) -> str:
    """A page with each reference to, or raw copy of, a character XML cannot hold as U+FFFD."""

    def fix(match: re.Match[str]) -> str:
        code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
        try:
            char = chr(code)
        except (ValueError, OverflowError):
            return "\ufffd"
        bad = XML_INVALID.match(char) or 0xD800 <= code <= 0xDFFF
        return "\ufffd" if bad else match.group(0)

    return XML_INVALID.sub("\ufffd", CHAR_REF.sub(fix, content))


def parse_html(content: str) -> HtmlElement:
    """Parse a page; a bare fragment is wrapped in a document first, as trafilatura expects."""
    if not TAG.search(content):
        raise RejectError("malformed_html", "no HTML tag in content")
    content = xml_safe(content)
    tree = load_html(content)
    if tree is None:
        tree = load_html(f"<html><body>{content}</body></html>")
    if tree is None:
        raise RejectError("malformed_html", "lxml could not build a tree")
    return tree


def visible_lines(tree: HtmlElement) -> list[str]:
    """The page's visible text as non-empty lines, one per block (line numbers count these)."""
    parts: list[str] = []
    _render(tree, parts)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return [line for line in lines if line]


def _render(element: HtmlElement, out: list[str]) -> None:
    """Append an element's visible text to out, with a line break around block elements."""
    tag = element.tag.lower() if isinstance(element.tag, str) else None  # comments: not str
    if tag is not None and tag not in SKIP_TAGS:
        block = tag in BLOCK_TAGS or tag == "br"
        if block:
            out.append("\n")
        elif tag in CELL_TAGS:
            out.append(" ")  # cells of a row share its line, as in the extracted text
        if element.text:
            out.append(WHITESPACE.sub(" ", element.text))
        for child in element:
            _render(child, out)
        if block:
            out.append("\n")
    if element.tail:
        out.append(WHITESPACE.sub(" ", element.tail))


def tree_depth(tree: HtmlElement) -> int:
    """The deepest nesting of elements in a tree."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in element)
    return deepest


def extract_main_text(
    tree: HtmlElement, url: str | None, settings: HtmlSettings, date_max_chars: int
) -> HtmlExtract:
    """Run trafilatura for the main text and metadata; no main text is an extraction failure."""
    try:
        document = _run_trafilatura(tree, url, settings)
    except Exception as err:  # trafilatura and its fallbacks raise on odd trees
        raise RejectError("extraction_failed", f"trafilatura: {type(err).__name__}: {err}") from err
    body = getattr(document, "body", None)
    blocks = list(_extract_paragraphs(body)) if body is not None else []
    paragraphs = [text for _tag, text, _links in blocks]
    if document is None or not paragraphs:
        depth = tree_depth(tree)
        if depth >= PARSER_MAX_DEPTH:
            # libxml2 stops building the tree at this depth, so the text below it is lost.
            raise RejectError("html_too_deep", f"elements nested {depth} deep; text below is lost")
        raise RejectError("extraction_failed", "trafilatura found no main text")
    return HtmlExtract(
        paragraphs=paragraphs,
        leading_heads=next((n for n, (tag, _, _) in enumerate(blocks) if tag != "head"), 0),
        link_density=[links for _tag, _text, links in blocks],
        title=_meta_text(document, "title"),
        author=_meta_text(document, "author"),
        sitename=_meta_text(document, "sitename"),
        url=_meta_text(document, "url"),
        published=parse_datetime(_meta_text(document, "date") or "", date_max_chars),
    )


def _run_trafilatura(tree: HtmlElement, url: str | None, settings: HtmlSettings) -> object:
    """trafilatura's extraction with metadata; dates from machine-readable markup only."""
    return trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=settings.include_comments,
        include_tables=settings.include_tables,
        include_links=True,  # for each paragraph's link density
        date_extraction_params={
            "original_date": True,
            "extensive_search": settings.extensive_date_search,
            "max_date": settings.max_date,
            "outputformat": "%Y-%m-%dT%H:%M:%S%z",
        },
    )


def _meta_text(document: object, name: str) -> str | None:
    """A metadata string of a trafilatura Document, None when missing or blank."""
    value = getattr(document, name, None)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _extract_paragraphs(element: HtmlElement) -> Iterable[tuple[str, str, float]]:
    """(tag, text, link density) of the paragraphs of trafilatura's tree (leaf blocks, list
    items, table rows)."""
    if element.text and element.text.strip():
        yield "", " ".join(element.text.split()), 0.0
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in EXTRACT_CONTAINERS and len(child):
            yield from _extract_paragraphs(child)
        elif text := _block_text(child, tag):
            yield tag, text, _link_density(child, text)
        if child.tail and child.tail.strip():
            yield "", " ".join(child.tail.split()), 0.0


def _link_density(element: HtmlElement, text: str) -> float:
    """Share of a paragraph's non-space characters that are link text."""
    linked = sum(len("".join("".join(ref.itertext()).split())) for ref in element.iter("ref"))
    return min(linked / max(len(text.replace(" ", "")), 1), 1.0)


def _block_text(element: HtmlElement, tag: str) -> str:
    """One paragraph: a table row's cells joined with " | ", else the element's text."""
    if tag == "row":
        return " | ".join(t for cell in element if (t := inline_text(cell)))
    return inline_text(element)


def inline_text(element: HtmlElement) -> str:
    """An element's text on one line; trafilatura's <lb/> line breaks become spaces."""
    for lb in element.iter("lb"):
        lb.tail = " " + (lb.tail or "")
    for ref in element.iter("ref"):
        # trafilatura strips the space after a link ("<a>MacBook Pro</a> was" comes out as
        # "MacBook Prowas"); a word right after a link's last word had one.
        text = "".join(ref.itertext())
        if ref.tail and ref.tail[:1].isalnum() and text[-1:].isalnum():
            ref.tail = " " + ref.tail
    return " ".join("".join(element.itertext()).split())


def html_removed_lines(
    visible: Sequence[str],
    body: Sequence[str],
    reason_of: dict[str, str],
    settings: HtmlSettings,
) -> tuple[RemovedLine, ...]:
    """Visible lines that are not in the body, each with the rule that dropped it."""
    kept = {match_key(p) for p in body}
    blob = " ".join(match_key(p) for p in body)
    removed: list[RemovedLine] = []
    for line_no, line in enumerate(visible, start=1):
        key = match_key(line)
        if not key or key in kept:
            continue
        if len(key) >= settings.substring_min_chars and key in blob:
            continue
        removed.append(RemovedLine(line_no, line, reason_of.get(key, "html_boilerplate")))
    return tuple(removed)
