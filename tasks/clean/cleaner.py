"""Clean stage: strip boilerplate from raw inputs and gather title, date and outlet candidates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from lxml.html import HtmlElement  # type: ignore[import-untyped]  # lxml ships no stubs

from tasks.clean.blocks import (
    BlockSettings,
    anchored_block,
    earlier_block,
    line_weights,
    main_block,
    mark_listings,
    reads_as_prose,
    trim,
)
from tasks.clean.rules import byline_author, font_size_neighbours, ui_rule
from tasks.clean.template import TemplateSettings, remove_templates
from tasks.core import safety
from tasks.core.records import CleanDocument, DateCandidate, RawDocument, Reject, RemovedLine
from tasks.core.safety import RejectError
from tasks.html.metadata import MetadataSettings, page_author, page_dates, page_title, read_page
from tasks.html.page import (
    HtmlExtract,
    HtmlSettings,
    extract_main_text,
    html_removed_lines,
    parse_html,
    visible_lines,
)
from tasks.text.dates import DateKind, date_in_line, parse_date_line, parse_datetime, utc_or_none
from tasks.text.keys import count_words, match_key
from tasks.text.marks import CLAUSE_END, PERIOD_BREAK, PROSE_END, TITLE_BAD_END

STAGE = "clean"


@dataclass(frozen=True)
class CleanSettings:
    """Thresholds of the boilerplate rules and of the HTML extraction."""

    # Headlines have a few words; 1-2 word lines at the top are locations, section names or
    # UI ("Port Louis", "World"), so they never become the title.
    title_min_words: int = 3
    # A longer line without a final period is a run-on lede or a caption, not a headline.
    title_max_words: int = 30
    # Non-blank lines searched for a page header, title and dateline: real heads are a handful
    # of lines, and a cap keeps a document of short lines (a list, a poem) from being read as one.
    head_max_lines: int = 15
    # A line ending with a period and at least this many words is prose: the head ends there.
    # Six words is more than any UI label and less than almost any body sentence.
    body_sentence_min_words: int = 6
    # Hard-wrapped prose: a line of this many characters or more, without a closing period,
    # followed by another line of the same block is wrapped mid-sentence (editors wrap at
    # 70-80 columns; a headline stands on its own line).
    wrap_min_chars: int = 50
    # Wrapped lines are never longer than the wrap width (at most ~100 columns); a longer line
    # is a whole paragraph, so a headline followed by one is not a wrapped pair.
    wrap_max_chars: int = 100
    # A text is hard-wrapped when at most this share of its long lines exceed the wrap
    # width: a few long lines are URLs or tables, a fifth or more are whole paragraphs.
    wrap_max_over_share: float = 0.2
    # Before the title, unrecognised lines this short are page-header fragments (locations,
    # kickers, site names); longer ones are kept in case they are text.
    page_header_max_words: int = 6
    # Plain text: an unrecognised line between the headline and the first paragraph is kept
    # (a standfirst, a subheading) when it has this many words; shorter ones there are
    # category links, counters and labels.
    head_kept_min_words: int = 4
    # HTML: a heading above the article is the headline when at least this share of the two
    # word sets is common (Jaccard) with the page title: "Sweden drops Assange rape
    # investigation" vs "Julian Assange: Sweden drops rape investigation" share 5 of 7.
    headline_min_overlap: float = 0.5
    # HTML: after the article's last sentence, a paragraph whose text is (nearly) all link
    # is a teaser of another story. Inside the article, link-only lines (a list of sources)
    # are content, so only the tail is read.
    html_link_density_max: float = 0.9
    # Plain text: a part of the page title this short, beside the headline, is the site name.
    site_name_max_words: int = 5
    # Interface strings are short; a prose sentence mentioning "advertisement" or "comment"
    # is longer, so UI rules never look at lines with more words than this.
    ui_line_max_words: int = 12
    # "Read more: <linked headline>", "Tags: a, b, c", copyright notices carry a payload and
    # run longer than a bare label.
    labelled_line_max_words: int = 25
    # The longest date line ("Last updated: Wednesday, September 20, 2023 at 10:32 a.m. EDT")
    # has ~60 characters; a longer line is a sentence that mentions a date.
    date_line_max_chars: int = 80
    # HTML extraction through trafilatura.
    html: HtmlSettings = field(default_factory=HtmlSettings)
    # When a paragraph recurring across an outlet's pages is its template.
    template: TemplateSettings = field(default_factory=TemplateSettings)
    # HTML title, author and date rules.
    metadata: MetadataSettings = field(default_factory=MetadataSettings)
    # Weights of the main-text block search over plain-text lines.
    blocks: BlockSettings = field(default_factory=BlockSettings)
    # A document still being cleaned after this many seconds is a `timeout` reject, so one
    # hostile input cannot hold up its batch. Of the 2,543 dev pages and texts the slowest
    # (a 0.9 MB page) cleans in 0.5 s, the 99th percentile in 0.16 s: 30 s leaves room for
    # pages many times larger on a loaded machine and still ends a runaway document soon.
    max_seconds_per_document: float = 30.0


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def clean_documents(
    docs: Sequence[RawDocument], settings: CleanSettings
) -> tuple[list[CleanDocument], list[Reject]]:
    """Clean a batch: every input becomes a CleanDocument or a Reject, in input order.

    Each document runs under the stage's time budget; its error or overrun is its own reject.
    """
    cleaned, rejects = safety.split_results(
        safety.each_document(
            docs,
            lambda doc: _clean_one(doc, settings),
            lambda doc: doc.source_uri,
            STAGE,
            settings.max_seconds_per_document,
        )
    )
    return remove_templates(cleaned, settings.template), rejects


def _clean_one(doc: RawDocument, settings: CleanSettings) -> CleanDocument:
    """Dispatch one document to the cleaner of its content type."""
    if not doc.content.strip():
        raise RejectError("empty_input", "no content")
    if doc.content_type == "html":
        return _clean_html(doc, settings)
    if doc.content_type == "text":
        return _clean_text(doc, settings)
    raise RejectError("unsupported_content_type", f"content_type {doc.content_type!r}")


# --------------------------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------------------------

LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(content: str) -> list[str]:
    """Split decoded input into lines the way line numbers count them (\\n, \\r\\n or \\r)."""
    return LINE_BREAK.split(content)


def _clean_text(doc: RawDocument, settings: CleanSettings) -> CleanDocument:
    """Clean a plain-text input with the line rules."""
    lines = split_lines(doc.content)
    report = classify_lines(lines, _present(doc.title), settings)
    title, title_source = choose_title(
        (doc.title, "input_field"), (report.title, report.title_source)
    )
    paragraphs = join_paragraphs(lines, set(report.reasons), settings)
    if not paragraphs:
        raise RejectError("empty_after_cleaning", f"all {len(report.reasons)} lines removed")
    removed = tuple(
        RemovedLine(i + 1, lines[i].strip(), reason) for i, reason in sorted(report.reasons.items())
    )
    given, warnings = _input_dates(doc, settings)
    dates = [*given, *report.dates]
    return CleanDocument(
        source_uri=doc.source_uri,
        content_type=doc.content_type,
        encoding=doc.encoding,
        body="\n\n".join(paragraphs),
        removed=removed,
        title=title,
        title_source=title_source,
        dates=tuple(dates),
        outlet=_outlet(doc.outlet, report.site_name, doc.url),
        url=doc.url,
        author=doc.author or report.author,
        source_hash=doc.source_hash,
        input_id=doc.input_id,
        input_kind=doc.input_kind,
        fetched_at=doc.fetched_at,
        http_status=doc.http_status,
        warnings=(*doc.warnings, *warnings),
    )


def _present(*titles: str | None) -> list[str]:
    """The titles that are given and not blank."""
    return [t for t in titles if t and t.strip()]


def choose_title(*options: tuple[str | None, str | None]) -> tuple[str | None, str | None]:
    """The first non-blank (title, source) pair, in priority order; (None, None) if none."""
    for title, source in options:
        if title and title.strip():
            return " ".join(title.split()), source
    return None, None


def join_paragraphs(lines: Sequence[str], dropped: set[int], settings: CleanSettings) -> list[str]:
    """Kept lines as paragraphs; a line joins the previous one only when hard-wrapped."""
    paragraphs: list[str] = []
    previous: str | None = None  # the previous kept line of the current block
    for i, line in enumerate(lines):
        text = line.strip()
        if not text:
            previous = None  # a blank line always ends a paragraph
            continue
        if i in dropped:
            continue  # removed lines are transparent: a wrapped sentence around an ad rejoins
        if previous is not None and continues(previous, text, settings):
            paragraphs[-1] = f"{paragraphs[-1]} {text}"
        else:
            paragraphs.append(text)
        previous = text
    return paragraphs


def continues(previous: str, line: str, settings: CleanSettings) -> bool:
    """Tell whether a line continues the one above it mid-sentence (hard-wrapped text)."""
    if CLAUSE_END.search(previous):
        return False
    if line[0].islower():
        return True
    return (
        settings.wrap_min_chars <= len(previous) <= settings.wrap_max_chars
        and len(line) <= settings.wrap_max_chars
    )


def is_hard_wrapped(text: Sequence[str], settings: CleanSettings) -> bool:
    """Tell whether a text wraps its paragraphs at a fixed width (an email, a wire feed).

    Such a text has almost no line longer than the wrap width. A page's text with a line per
    paragraph has many, and its short lines in a row are a list (menu items, headlines).
    """
    long = [t for t in text if len(t) >= settings.wrap_min_chars]
    over = sum(len(t) > settings.wrap_max_chars for t in long)
    return not long or over <= settings.wrap_max_over_share * len(long)


def wrapped_chains(text: Sequence[str], wrapped: set[int]) -> list[list[int]]:
    """The wrapped lines grouped into paragraphs (runs of consecutive wrapped lines)."""
    chains: list[list[int]] = []
    for i in sorted(wrapped):
        if chains and chains[-1][-1] == i - 1 and text[i - 1]:
            chains[-1].append(i)
        else:
            chains.append([i])
    return chains


def _chain_is_prose(text: Sequence[str], chain: list[int], settings: CleanSettings) -> bool:
    """Tell whether a wrapped paragraph, joined, reads as running text."""
    return reads_as_prose(" ".join(text[i] for i in chain), settings.blocks)


def wrapped_lines(text: Sequence[str], settings: CleanSettings) -> set[int]:
    """Indices of the lines of hard-wrapped paragraphs (both ends of every wrapped pair)."""
    wrapped: set[int] = set()
    for i in range(1, len(text)):
        if text[i] and text[i - 1] and continues(text[i - 1], text[i], settings):
            wrapped.update((i - 1, i))
    return wrapped


# --------------------------------------------------------------------------------------------
# Line classification: boilerplate rules, head (page header, title, dateline), tail
# --------------------------------------------------------------------------------------------


@dataclass
class LineReport:
    """What the line rules decided for one document."""

    reasons: dict[int, str] = field(default_factory=dict)  # 0-based line index -> removal reason
    dates: list[DateCandidate] = field(default_factory=list)
    title: str | None = None
    title_source: str | None = None
    author: str | None = None
    site_name: str | None = None  # the page title's site-name part, when the text shows one


def classify_lines(
    lines: Sequence[str],
    known_titles: Sequence[str],
    settings: CleanSettings,
    *,
    paragraphs: bool = False,
) -> LineReport:
    """Decide which lines are boilerplate, which is the title and which carry dates.

    With known titles (from the input or the page metadata) the title line is looked up,
    not guessed; the report's title is only a title found in the text itself. With
    `paragraphs` every line is a whole paragraph (extracted HTML), so none is hard-wrapped.
    """
    text = [line.replace("\ufeff", "").strip() for line in lines]
    report = LineReport()
    rules = {
        i: r
        for i in range(len(text))
        if text[i]
        and (r := ui_rule(text[i], settings.ui_line_max_words, settings.labelled_line_max_words))
    }
    font_size_neighbours(text, rules)
    wrapped = set() if paragraphs else wrapped_lines(text, settings)
    body = [
        i
        for i, t in enumerate(text)
        if t and i not in rules and (i in wrapped or _is_body_line(t, settings))
    ]
    report.reasons.update(rules)
    if paragraphs:
        # Extracted HTML is trafilatura's main text already: only its head and tail are read.
        start = body[0] if body else len(text)
        head = [i for i in range(start) if text[i]][: settings.head_max_lines]
        end = body[-1] + 1 if body else len(text)
    else:
        start, end, anchor = _main_span(text, rules, wrapped, body, settings)
        head = [i for i in range(start) if text[i]][-settings.head_max_lines :]
        if anchor is not None:
            # The repeated headline is the title; the head runs from it to the main block.
            head = [i for i in range(anchor, start) if text[i]]
            known_titles = [*known_titles, text[anchor]]
            if not report.title:
                report.title, report.title_source = text[anchor], "first_line"
            report.site_name = site_name(next(t for t in text if t), text[anchor], settings)
    title_at = _classify_head(text, head, rules, known_titles, settings, report)
    _classify_tail(text, [i for i in range(end, len(text)) if text[i]], rules, settings, report)
    if not paragraphs:
        # Unrecognised head lines under the title (or in a head without one) are a standfirst
        # or a subheading: kept. Everything else outside the main block is page furniture.
        kept = {
            i
            for i in head
            if (title_at is None or i > title_at)
            and count_words(text[i]) >= settings.head_kept_min_words
        }
        for i in (*range(start), *range(end, len(text))):
            if text[i] and i not in report.reasons and i not in kept:
                report.reasons[i] = "before_main_text" if i < start else "after_main_text"
    return report


def _main_span(
    text: Sequence[str],
    rules: dict[int, str],
    wrapped: set[int],
    body: Sequence[int],
    settings: CleanSettings,
) -> tuple[int, int, int | None]:
    """The [start, end) lines of the main text (the best-scoring run of prose lines), and the
    line of the headline it follows, when the page repeats its title there."""
    if not body:
        return len(text), len(text), None
    prose = wrapped
    if not is_hard_wrapped(text, settings):
        # With a line per paragraph, lines that only look wrapped are mostly lists (menus,
        # headlines): they count as prose only when, joined, they read as a sentence.
        chains = wrapped_chains(text, wrapped)
        prose = {i for chain in chains if _chain_is_prose(text, chain, settings) for i in chain}
    weights = line_weights(text, rules, prose, settings.blocks)
    max_chars = settings.date_line_max_chars
    dated = [
        i for i, w in enumerate(weights) if w <= 0 and date_in_line(text[i], max_chars) is not None
    ]
    mark_listings(weights, dated, settings.blocks)
    anchored = anchored_block(weights, headline_repeats(text, settings.blocks.max_anchors))
    span = main_block(weights)
    if anchored is not None and span is not None:
        # Under the headline unless that run is a fraction of the page's best one: then the
        # repeat is a "next article" teaser and the article is elsewhere.
        share = sum(weights[slice(*anchored[1])]) / sum(weights[slice(*span)])
        if share >= settings.blocks.anchor_min_share:
            return (*trim(weights, anchored[1]), anchored[0])
    if span is None:
        return body[0], body[-1] + 1, None
    return (*trim(weights, earlier_block(weights, span, settings.blocks)), None)


# Read from the first space of a run only, each run once (spaces, marks and spaces never
# give back what they took): a line of 200,000 spaces would otherwise be re-read from each.
TITLE_SEPARATOR = re.compile(r"(?!(?<=\s)\s)(?:\s++[|\-–—:»›•·⋆/]++\s++|\s*+[|»›•⋆]\s*+)")


def headline_repeats(text: Sequence[str], max_anchors: int) -> list[int]:
    """Lines repeating the first line, or its longest part between site-name separators.

    A page's text starts with its <title> ("Headline - Site"); the article starts under the
    line that repeats the headline. The longest part is the headline, the others the site
    name or section, which the page repeats in its header and footer.
    """
    lines = [i for i, t in enumerate(text) if t]
    if len(lines) < 2:
        return []
    first = text[lines[0]]
    headline = max(TITLE_SEPARATOR.split(first), key=count_words)
    parts = {match_key(first)}
    if count_words(headline) >= 2:
        parts.add(match_key(headline))
    parts.discard("")
    repeats = [i for i in lines[1:] if match_key(text[i]) in parts]
    return repeats[:max_anchors]


def site_name(first_line: str, headline: str, settings: CleanSettings) -> str | None:
    """The site-name part of a page title ("Headline - Site"), given the headline it holds."""
    parts = [p.strip() for p in TITLE_SEPARATOR.split(first_line) if p.strip()]
    if len(parts) < 2 or match_key(headline) == match_key(first_line):
        return None
    return next(
        (
            p
            for p in (parts[-1], parts[0])
            if match_key(p) != match_key(headline)
            and 1 <= count_words(p) <= settings.site_name_max_words
        ),
        None,
    )


def _is_body_line(line: str, settings: CleanSettings) -> bool:
    """Tell whether a line is prose: too long for a headline, or a sentence ending with a period."""
    words = count_words(line)
    if words > settings.title_max_words:
        return True
    return words >= settings.body_sentence_min_words and bool(PROSE_END.search(line))


def _classify_head(
    text: Sequence[str],
    head: Sequence[int],
    rules: dict[int, str],
    known_titles: Sequence[str],
    settings: CleanSettings,
    report: LineReport,
) -> int | None:
    """Find the title among the head lines, sort the others; the title's line index, if any."""
    free = [i for i in head if i not in rules]
    title_at = _take_title_prefix(text, free, settings, report)
    if title_at is None and known_titles:
        title_at = _find_known_title(text, free, known_titles, settings)
    elif title_at is None:
        title_at = _find_title(text, free, settings, report)
    if title_at is not None:
        report.reasons[title_at] = "title"
    weather_header = any(rules.get(i) == "weather" for i in head)
    for i in free:
        if i == title_at:
            continue
        before_title = title_at is not None and i < title_at
        _classify_head_line(text[i], i, before_title, weather_header, settings, report)
    return title_at


def _take_title_prefix(
    text: Sequence[str],
    free: Sequence[int],
    settings: CleanSettings,
    report: LineReport,
) -> int | None:
    """Read a leading "date 2023-09-19 <title>" line: a date candidate, then the title."""
    if not free or free[0] != next((i for i, t in enumerate(text) if t), -1):
        return None
    match = TITLE_PREFIX.match(text[free[0]])
    if not match or not _is_title_shaped(match["title"], settings):
        return None
    value = parse_datetime(match["date"], settings.date_line_max_chars)
    if value is not None:
        report.dates.append(DateCandidate(value, "title_prefix", "published"))
    report.title, report.title_source = match["title"].strip(), "title_prefix"
    return free[0]


TITLE_PREFIX = re.compile(
    r"^\s*+(?:(?:date|published|posted)\s*+(?::\s*+)?)?"
    r"(?P<date>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?)"
    r"\s+(?P<title>\S.*)$",
    re.IGNORECASE,
)


def _find_known_title(
    text: Sequence[str], free: Sequence[int], known_titles: Sequence[str], settings: CleanSettings
) -> int | None:
    """The head line repeating a known title, whole or as part of it ("X" vs "X | Site")."""
    wanted = [key for title in known_titles if (key := match_key(title))]
    for i in free:
        key = match_key(text[i])
        if not key:
            continue
        if key in wanted:
            return i
        if _is_title_shaped(text[i], settings) and any(key in w or w in key for w in wanted):
            return i
    return None


def _find_title(
    text: Sequence[str], free: Sequence[int], settings: CleanSettings, report: LineReport
) -> int | None:
    """Guess the title line: the longest headline-shaped head line."""
    candidates = [
        i
        for i in free
        if _is_title_shaped(text[i], settings)
        and head_date(text[i], settings) is None
        and byline_author(text[i]) is None
    ]
    if not candidates:
        return None
    # The longest: headlines are longer than the location and section fragments around them.
    best = max(candidates, key=lambda i: (count_words(text[i]), -i))
    report.title, report.title_source = text[best], "first_line"
    return best


def _is_title_shaped(line: str, settings: CleanSettings) -> bool:
    """Tell whether a line looks like a headline: a few words, capitalised, no closing period."""
    words = count_words(line)
    if not settings.title_min_words <= words <= settings.title_max_words:
        return False
    first = next((c for c in line if c.isalnum()), "")
    if not first or first.islower():
        return False
    return not TITLE_BAD_END.search(line) and not PERIOD_BREAK.search(line)


def head_date(line: str, settings: CleanSettings) -> tuple[datetime, DateKind] | None:
    """The date of a head line that is a date, or a date bar ("Reuters May 2, 2019 9:24 PM")."""
    dated = parse_date_line(line, settings.date_line_max_chars)
    if dated is None and not reads_as_prose(line, settings.blocks):
        # A byline or a source with the date, a reading time after it; a sentence holding a
        # date is a standfirst, and its date may be any day.
        dated = date_in_line(line, settings.date_line_max_chars)
    return dated


def _classify_head_line(
    line: str,
    i: int,
    before_title: bool,
    weather_header: bool,
    settings: CleanSettings,
    report: LineReport,
) -> None:
    """Classify a head line no UI rule matched: page-header date, dateline, byline, fragment."""
    dated = head_date(line, settings)
    if dated is not None:
        value, kind = dated
        if before_title or weather_header:
            # Dates beside the weather or above the title are the page's "today", not publication.
            report.reasons[i] = "page_header"
            report.dates.append(DateCandidate(value, "page_header", "page"))
        else:
            report.reasons[i] = "dateline"
            report.dates.append(DateCandidate(value, "dateline", kind))
        return
    author = byline_author(line)
    if author is not None:
        report.reasons[i] = "byline"
        report.author = report.author or author
        return
    if before_title and count_words(line) <= settings.page_header_max_words:
        report.reasons[i] = "page_header"


def _classify_tail(
    text: Sequence[str],
    tail: Sequence[int],
    rules: dict[int, str],
    settings: CleanSettings,
    report: LineReport,
) -> None:
    """After the last prose line: datelines, and the link titles listed under a related heading."""
    in_links = False
    for i in tail:
        rule = rules.get(i)
        if rule is not None:
            in_links = in_links or rule in LINK_HEADINGS
            continue
        dated = parse_date_line(text[i], settings.date_line_max_chars)
        if dated is not None:
            report.reasons[i] = "dateline"
            report.dates.append(DateCandidate(dated[0], "dateline", dated[1]))
        elif in_links and not PROSE_END.search(text[i]):
            report.reasons[i] = "related_links"


LINK_HEADINGS = frozenset({"related_links", "section_label"})


BAD_DATE_FIELD = "bad_date_field"
# A warning quotes the bad value; a field holding a whole document would bloat the table.
WARNING_VALUE_MAX_CHARS = 200


def _input_dates(
    doc: RawDocument, settings: CleanSettings
) -> tuple[list[DateCandidate], list[str]]:
    """The publication date the input gives (JSONL `published_at`), and warnings.

    A value that does not parse, or that has no UTC equivalent ("0001-01-01T00:00:00+05:00"
    is in year 0 in UTC), costs the article that date, never the article: it is dropped with
    a `bad_date_field` warning.
    """
    served = _http_modified(doc.http_last_modified)
    if not doc.published_at or not doc.published_at.strip():
        return served, []
    value = parse_datetime(doc.published_at, settings.date_line_max_chars)
    if value is None or utc_or_none(value) is None:
        shown = safety.safe_text(doc.published_at[:WARNING_VALUE_MAX_CHARS])
        return served, [f"{BAD_DATE_FIELD}: {shown}"]
    return [DateCandidate(value, "input_field", "published"), *served], []


def _http_modified(header: str | None) -> list[DateCandidate]:
    """The page's `Last-Modified` header as a modification date; a bad header is no date.

    A server sets it when it renders the page, not when the story was published: it is only
    ever a last-resort `modified_at`.
    """
    if not header:
        return []
    try:
        value = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return []
    value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return [DateCandidate(value, "http_header", "modified")]


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def _clean_html(doc: RawDocument, settings: CleanSettings) -> CleanDocument:
    """Extract a page's main text with trafilatura, then apply the line rules to it."""
    tree = parse_html(doc.content)
    visible = visible_lines(tree)
    # Metadata first: trafilatura prunes the tree it is given.
    headline, author, page_dated = _page_metadata(tree, doc.url, settings)
    extract = extract_main_text(tree, doc.url, settings.html, settings.date_line_max_chars)
    report = classify_lines(
        extract.paragraphs, _present(doc.title, extract.title), settings, paragraphs=True
    )
    title, title_source = choose_title(
        (doc.title, "input_field"),
        (headline, "html_headline"),
        (extract.title, "html_metadata"),
        (report.title, report.title_source),
    )
    _classify_html_paragraphs(extract, title, settings, report)
    body = [p for i, p in enumerate(extract.paragraphs) if i not in report.reasons]
    if not body:
        raise RejectError("empty_after_cleaning", "no paragraph left after removing boilerplate")
    standfirst = " ".join(
        p for i, p in enumerate(extract.paragraphs) if report.reasons.get(i) == "standfirst"
    )
    reason_of = {match_key(extract.paragraphs[i]): r for i, r in sorted(report.reasons.items())}
    for known in _present(title, extract.title):
        reason_of.setdefault(match_key(known), "title")
    removed = html_removed_lines(visible, body, reason_of, settings.html)
    # A date line inside the extracted text ranks below the page's own dates (see normalize).
    body_dates = [replace(d, source="body_dateline") for d in report.dates]
    given, warnings = _input_dates(doc, settings)
    dates = [*given, *page_dated, *body_dates]
    if extract.published is not None and not any(d.kind == "published" for d in dates):
        # htmldate through trafilatura: the last resort
        dates.append(DateCandidate(extract.published, "htmldate", "published"))
    return CleanDocument(
        source_uri=doc.source_uri,
        content_type=doc.content_type,
        encoding=doc.encoding,
        body="\n\n".join(body),
        removed=removed,
        title=title,
        title_source=title_source,
        dates=tuple(dates),
        outlet=_outlet(doc.outlet, extract.sitename, doc.url or extract.url),
        url=doc.url or extract.url,
        author=doc.author or author or extract.author or report.author,
        standfirst=standfirst or None,
        source_hash=doc.source_hash,
        input_id=doc.input_id,
        input_kind=doc.input_kind,
        fetched_at=doc.fetched_at,
        http_status=doc.http_status,
        warnings=(*doc.warnings, *warnings),
    )


def _same_headline(line: str, title: str | None, settings: CleanSettings) -> bool:
    """Tell whether a heading is the title reworded: most of its words are the title's."""
    words, known = set(match_key(line).split()), set(match_key(title or "").split())
    if not words or not known:
        return False
    return len(words & known) / len(words | known) >= settings.headline_min_overlap


def _classify_html_paragraphs(
    extract: HtmlExtract, title: str | None, settings: CleanSettings, report: LineReport
) -> None:
    """Rules only extracted HTML allows: link-only teasers at the end, a reworded headline."""
    last_prose = max(
        (i for i, p in enumerate(extract.paragraphs) if _is_body_line(p, settings)), default=-1
    )
    for i, density in enumerate(extract.link_density):
        if i > last_prose and density >= settings.html_link_density_max:
            report.reasons.setdefault(i, "link_list")
    # Headings above the first paragraph: the headline, when one shares most words with the
    # page's title (sites word them differently), then the standfirst (dek), which pages set
    # apart from the text and which is kept in its own column.
    for i in range(extract.leading_heads):
        headline = i == 0 and _same_headline(extract.paragraphs[0], title, settings)
        report.reasons.setdefault(i, "title" if headline else "standfirst")


def _page_metadata(
    tree: HtmlElement, url: str | None, settings: CleanSettings
) -> tuple[str | None, str | None, list[DateCandidate]]:
    """The page's headline, author and dates; none of them when the markup defeats the rules."""
    try:
        page = read_page(tree, settings.metadata)
        return (
            page_title(page),
            page_author(page, settings.metadata),
            page_dates(page, url, settings.metadata),
        )
    except Exception:  # odd markup must cost the metadata, never the article's text
        return None, None, []


# --------------------------------------------------------------------------------------------
# Outlet
# --------------------------------------------------------------------------------------------


def _outlet(given: str | None, sitename: str | None, url: str | None) -> str | None:
    """The outlet: given by the input, else the page's site name, else the URL host."""
    for name in (given, sitename):
        if name and name.strip():
            return name.strip()
    return url_host(url)


def url_host(url: str | None) -> str | None:
    """The host of a URL without a leading "www.", or None."""
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None
