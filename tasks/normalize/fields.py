"""Normalize stage: canonical text, publication date, language and ids for every clean document."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import ftfy
import py3langid

from tasks.core import safety
from tasks.core.records import Article, CleanDocument, DateCandidate, Reject, short_hash
from tasks.core.safety import RejectError
from tasks.text.dates import as_utc, utc_or_none
from tasks.text.keys import count_words

STAGE = "normalize"
UNDETERMINED = "und"
UNSUPPORTED_LANGUAGE = "unsupported_language"


@dataclass(frozen=True)
class NormalizeSettings:
    """Acceptance thresholds, date trust order and language handling."""

    # Fewer words is a teaser, a caption or a failed extraction, not an article. Short briefs
    # run 40+ words and the shortest seed body ~300, so 20 rejects only debris.
    min_words: int = 20
    # Languages the NER/quote stages can analyse (en_core_web_sm is English); articles in
    # other languages are still stored, with nlp_skip_reason set.
    nlp_languages: tuple[str, ...] = ("en",)
    # Below this many letters py3langid's guess is noise (a caption, a list of names), so the
    # language is "und".
    language_min_letters: int = 40
    # The first few thousand characters settle the language; scanning a long body costs time
    # without changing the answer.
    language_sample_chars: int = 2000
    # Most trusted first: the feed's own field, a date prefixed to the title, the date line
    # printed by the headline, the page's machine-readable metadata, a date in the URL,
    # htmldate's guess from the markup, a date line inside the extracted HTML text.
    # Where the visible date and the metadata disagree, the metadata usually holds a
    # re-indexing date or a UTC-shifted day, so the date readers see comes first. Sources not
    # listed (page_header) never give the publication date. The HTTP `Last-Modified` header
    # (`http_header`) is only ever a modification date, and the least trusted: a server sets
    # it when it renders the page.
    date_source_priority: tuple[str, ...] = (
        "input_field",
        "title_prefix",
        "dateline",
        "html_metadata",
        "url",
        "htmldate",
        "body_dateline",
        "http_header",
    )
    # Hex characters kept from sha256 for ids: 64 bits keep collisions negligible for many
    # millions of articles while staying readable in queries.
    id_hex_chars: int = 16
    # A document still being normalized after this many seconds is a `timeout` reject. Of the
    # 2,541 dev articles the slowest normalizes in 0.03 s (the first also loads the language
    # model: 0.6 s); ftfy and the language guess are linear in the text. 10 s is far above
    # any real article and still ends a runaway one soon; less than the clean stage's 30 s,
    # as there is no HTML to parse here.
    max_seconds_per_document: float = 10.0


def normalize_documents(
    docs: Sequence[CleanDocument], settings: NormalizeSettings, reference_time: datetime
) -> tuple[list[Article], list[Reject]]:
    """Normalize a batch: every input becomes an Article or a Reject, in input order.

    Each document runs under the stage's time budget; its error or overrun is its own reject.
    """
    now = as_utc(reference_time)
    return safety.split_results(
        safety.each_document(
            docs,
            lambda doc: _normalize_one(doc, settings, now),
            lambda doc: doc.source_uri,
            STAGE,
            settings.max_seconds_per_document,
        )
    )


def _normalize_one(doc: CleanDocument, settings: NormalizeSettings, now: datetime) -> Article:
    """Build the Article of one clean document; RejectError when it is empty or too short."""
    body = normalize_text(doc.body)
    if not body:
        raise RejectError("empty_after_cleaning", "no text left after normalization")
    word_count = count_words(body)
    if word_count < settings.min_words:
        raise RejectError("too_short", f"{word_count} words < min_words {settings.min_words}")
    dates, date_warnings = utc_dates(doc.dates)
    published = choose_date(dates, "published", settings.date_source_priority, now)
    modified = choose_date(dates, "modified", settings.date_source_priority, now)
    language = detect_language(body, settings)
    title = normalize_inline(doc.title)
    return Article(
        article_id=short_hash(f"{doc.source_uri}\x00{body}", settings.id_hex_chars),
        content_hash=short_hash(body, settings.id_hex_chars),
        source_uri=doc.source_uri,
        url=doc.url,
        outlet=doc.outlet,
        title=title,
        title_source=doc.title_source if title else None,
        standfirst=normalize_inline(doc.standfirst),
        author=normalize_inline(doc.author),
        published_at=as_utc(published.value) if published else None,
        published_date=published.value.date() if published else None,
        published_at_source=published.source if published else None,
        modified_at=as_utc(modified.value) if modified else None,
        modified_at_source=modified.source if modified else None,
        language=language,
        nlp_skip_reason=None if language in settings.nlp_languages else UNSUPPORTED_LANGUAGE,
        body=body,
        word_count=word_count,
        content_type=doc.content_type,
        encoding=doc.encoding,
        removed=doc.removed,
        source_hash=doc.source_hash,
        input_id=doc.input_id,
        input_kind=doc.input_kind,
        fetched_at=doc.fetched_at,
        http_status=doc.http_status,
        warnings=(*doc.warnings, *date_warnings),
    )


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------

# Curly quotes and apostrophes stay as written (the quotes stage reads both straight and
# curly marks); only width conversion is off so CJK punctuation is not rewritten to ASCII.
FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False)
LINE_SEPARATORS = re.compile(r"\r\n|[\r\v\f\x85\u2028\u2029]")
# NBSP, the typographic spaces, narrow NBSP, medium math space, ideographic space, tab.
ODD_SPACES = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# Zero-width space, word joiner, BOM and soft hyphen: invisible, and they split words.
INVISIBLE = re.compile(r"[\u200b\u2060\ufeff\u00ad]")
SPACE_RUN = re.compile(r" {2,}")
# German/Polish „...“ stays as written (it is the language's own mark, the quotes stage reads
# it, and readers search for it); the rare reversed ‟ and CJK-style marks become “ ”, and a
# double prime (″) not after a digit is a straight quote typed oddly.
QUOTE_MARKS = str.maketrans("‟〝〞〟＂", '““””"')
DOUBLE_PRIME = re.compile(r"(?<!\d)″")
# Typewriter double quotes: two apostrophes ('') or backticks (``), as wire and archive
# texts (the New York Times corpus) write them; a run of three or more is something else.
TYPED_DOUBLE_QUOTE = re.compile(r"(?<!['`])(?:''|``)(?!['`])")
# In a line that types its quotes as '', three apostrophes are a single and a double mark
# together: a nested quote closing with its quote (the word 'old-school,''') or opening
# with it. Elsewhere they are something else (wiki markup's bold).
TYPED_CLOSE_BOTH = re.compile(r"(?<=\S)'''(?=[\s.,;:!?)]|$)")
TYPED_OPEN_BOTH = re.compile(r"(?:(?<=\s)|^)'''(?=\w)")


def normalize_text(text: str) -> str:
    """Canonical body text: repaired, NFC, plain spaces, paragraphs split by one blank line."""
    lines = (_normalize_line(line) for line in _canonical(text).split("\n"))
    return "\n\n".join(line for line in lines if line)


def normalize_inline(text: str | None) -> str | None:
    """Canonical one-line text (titles, authors); None when nothing is left."""
    if text is None:
        return None
    return _normalize_line(_canonical(text).replace("\n", " ")) or None


def _canonical(text: str) -> str:
    """Repair mojibake, compose to NFC, unify line breaks, spaces and quote marks."""
    fixed = unicodedata.normalize("NFC", ftfy.fix_text(text, FTFY_CONFIG))
    fixed = LINE_SEPARATORS.sub("\n", fixed)
    fixed = INVISIBLE.sub("", ODD_SPACES.sub(" ", fixed))
    return normalize_quotes(fixed)


def normalize_quotes(text: str) -> str:
    """Map exotic double quote marks to “ ” (or "), keeping straight, curly, „ and « » marks."""
    text = DOUBLE_PRIME.sub('"', text.translate(QUOTE_MARKS))
    if "'''" in text:
        text = "\n".join(_typed_both(line) for line in text.split("\n"))
    return TYPED_DOUBLE_QUOTE.sub('"', text)


def _typed_both(line: str) -> str:
    """A line's triple apostrophes as a single and a double mark, when it types quotes as ''."""
    if "'''" not in line or not TYPED_DOUBLE_QUOTE.search(line):
        return line
    return TYPED_OPEN_BOTH.sub("\"'", TYPED_CLOSE_BOTH.sub("'\"", line))


def _normalize_line(line: str) -> str:
    """One line with space runs collapsed and its ends stripped."""
    return SPACE_RUN.sub(" ", line).strip()


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


BAD_DATE = "bad_date"


def utc_dates(dates: Sequence[DateCandidate]) -> tuple[list[DateCandidate], list[str]]:
    """The candidates that have a UTC time, and a `bad_date` warning for each other one.

    An offset can carry a time past year 1 or 9999 in UTC ("0001-01-01T00:00:00+05:00" in
    a page's metadata): such a candidate is dropped, never the article.
    """
    usable: list[DateCandidate] = []
    warnings: list[str] = []
    for candidate in dates:
        if utc_or_none(candidate.value) is None:
            warnings.append(f"{BAD_DATE}: {candidate.source} {candidate.value.isoformat()}")
        else:
            usable.append(candidate)
    return usable, warnings


def choose_date(
    dates: Sequence[DateCandidate],
    kind: str,
    priority: Sequence[str],
    now: datetime,
) -> DateCandidate | None:
    """The most trusted candidate of a kind that is not in the future; None if there is none.

    Candidates from sources outside `priority` (page_header) and of other kinds never count;
    a date after the run's reference time is an error of the page or of the parser, and one
    without a UTC time (see utc_dates) is no date.
    """
    rank = {source: i for i, source in enumerate(priority)}
    usable = [
        d
        for d in dates
        if d.kind == kind
        and d.source in rank
        and (value := utc_or_none(d.value)) is not None
        and value <= now
    ]
    if not usable:
        return None
    # min() keeps the first of equal rank, so the order of the candidates breaks ties.
    return min(usable, key=lambda d: rank[d.source])


# --------------------------------------------------------------------------------------------
# Language
# --------------------------------------------------------------------------------------------


def detect_language(body: str, settings: NormalizeSettings) -> str:
    """ISO 639-1 code of the body's language, or "und" when there is too little text to tell."""
    sample = body[: settings.language_sample_chars]
    if sum(c.isalpha() for c in sample) < settings.language_min_letters:
        return UNDETERMINED
    language, _score = py3langid.classify(sample)
    return str(language)
