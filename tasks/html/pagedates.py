"""Date rules: datelines by the headline, date markup, metadata, the URL, then htmldate."""

from __future__ import annotations

import copy
import re

from htmldate import find_date
from lxml.html import HtmlElement  # type: ignore[import-untyped]  # lxml ships no stubs

from tasks.core.records import DateCandidate
from tasks.html.headline import Page, is_kicker
from tasks.html.tree import (
    MetadataSettings,
    article_scope,
    contains,
    element_text,
    head_lines,
    in_noise,
    is_furniture,
    meta_values,
    vocab,
)
from tasks.text.dates import MONTH_NAMES, DateKind, parse_date_line, parse_datetime

PUBLISHED_META = vocab(
    "article:published_time og:published_time datepublished pubdate publishdate publish-date "
    "date dc.date dc.date.issued dc.date.created dcterms.date dcterms.created dcterms.issued "
    "sailthru.date parsely-pub-date citation_date citation_publication_date published_time"
)
MODIFIED_META = vocab(
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
    rf"(?:\b(?:updated|last updated|modified|aktualisiert|actualizado|mis à jour)\s*+(?::\s*+)?)?"
    rf"(?:\d{{1,2}}\.\s?\d{{1,2}}\.\s?\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}(?:\.|st|nd|rd|th|er)?\s(?:de\s)?(?:{MONTH_NAMES})\.?,?\s(?:de\s)?\d{{4}}"
    rf"|(?:{MONTH_NAMES})\.?\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}})(?![\d:])",
    re.I,
)


def page_dates(page: Page, url: str | None, settings: MetadataSettings) -> list[DateCandidate]:
    """Publication, then modification date candidates, most trustworthy first."""
    # Visible dates by the headline lead: where they and the metadata disagree, readers see
    # the visible one (metadata often holds a re-indexing date or a UTC-shifted day).
    tree, h1 = page.tree, page.h1
    found = _dateline_dates(h1, settings) + _marked_dates(tree, h1, settings)
    found += _metadata_dates(page, settings) + _url_dates(url)
    if not any(c.kind == "published" for c in found):
        found += _htmldate_dates(page, url, settings)
    return sorted(found, key=lambda c: c.kind != "published")  # stable: order kept per kind


def _metadata_dates(page: Page, settings: MetadataSettings) -> list[DateCandidate]:
    """Dates from JSON-LD and <meta> tags."""
    tree = page.tree
    raw = [(o[f], kind) for o in page.ld for f, kind in LD_DATE_FIELDS if isinstance(o.get(f), str)]
    raw += [(v, "published") for v in meta_values(tree, *PUBLISHED_META)]
    raw += [(v, "modified") for v in meta_values(tree, *MODIFIED_META)]
    parsed = [(parse_datetime(v, settings.date_line_max_chars), kind) for v, kind in raw]
    return [DateCandidate(value, "html_metadata", kind) for value, kind in parsed if value]


def _marked_dates(
    tree: HtmlElement, h1: HtmlElement | None, settings: MetadataSettings
) -> list[DateCandidate]:
    """The first <time> or date-classed element of the headline's article (page if none)."""
    # Further away from the headline, dates belong to lists of other articles.
    for el in article_scope(tree, h1, settings).iter():
        if not isinstance(el.tag, str) or el.tag in {"meta", "script", "style", "body", "html"}:
            continue
        marks = f"{el.get('class', '')} {el.get('id', '')} {el.get('itemprop', '')}"
        if (el.tag == "time" or DATE_MARK.search(marks)) and not in_noise(el, h1):
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
    if len(text := element_text(el)) > settings.byline_max_chars:
        return []
    found = _dates_in_line(text, settings)
    return [
        DateCandidate(
            c.value, c.source, "modified" if "modified" in (c.kind, kind) else "published"
        )
        for c in found
    ]


def _htmldate_dates(page: Page, url: str | None, settings: MetadataSettings) -> list[DateCandidate]:
    """htmldate's markup-only guess (no free-text search), for pages our rules find nothing in."""
    # htmldate prunes the tree it reads, so it gets a copy, without the page header, sidebars
    # and lists of other articles whose dates it would take.
    clone = copy.deepcopy(page.tree)
    h1 = _same_node(page.tree, clone, page.h1)
    for el in list(clone.iter()):
        if (
            isinstance(el.tag, str)
            and el.tag != "html"
            and is_furniture(el)
            and not contains(el, h1)
        ):
            el.drop_tree()
    value = find_date(clone, url=url, extensive_search=False, original_date=True)
    parsed = parse_datetime(value or "", settings.date_line_max_chars)
    return [DateCandidate(parsed, "htmldate", "published")] if parsed else []


def _same_node(
    tree: HtmlElement, clone: HtmlElement, node: HtmlElement | None
) -> HtmlElement | None:
    """The node of a deep copy at the place of a node of the original (document order)."""
    if node is None:
        return None
    at = next(i for i, el in enumerate(tree.iter()) if el is node)
    return next(el for i, el in enumerate(clone.iter()) if i == at)


def _url_dates(url: str | None) -> list[DateCandidate]:
    """A /YYYY/MM/DD/ or YYYY-MM-DD date in the URL path."""
    if (match := URL_DATE.search(url or "")) is None:
        return []
    iso_day = "-".join(f"{int(g):02d}" for g in match.groups())
    value = parse_datetime(iso_day, len(iso_day))  # ISO: fromisoformat reads it, no cap bites
    return [DateCandidate(value, "url", "published")] if value else []


def _dateline_dates(h1: HtmlElement | None, settings: MetadataSettings) -> list[DateCandidate]:
    """Dates written in or next to the headline, in its header block."""
    if h1 is None:
        return []
    # A headline mentions events ("Ergebnisse, 19.5.2007"): only its kicker or an opening
    # date ("23.01.2022 - Wierer ...") is a dateline.
    kickers = [element_text(k) for k in h1.iterdescendants() if is_kicker(k)]
    own = [c for k in kickers for c in _dates_in_line(k, settings)]
    own += _dates_in_line(element_text(h1), settings, prose=True)
    return own + [c for ln in head_lines(h1, settings) for c in _dates_in_line(ln, settings)]


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
