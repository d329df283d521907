"""Quotes: direct quotes with speaker, verb and partiality, on the real spaCy parse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks import clean, ingest, normalize
from tasks.entities import EntitySettings, canonicalize, extract_mentions
from tasks.quotes import QuoteSettings, extract_quotes
from tasks.quotespans import find_quotes
from tasks.records import Article, Quote

SETTINGS = QuoteSettings()


def quotes_of(articles: list[Article]) -> list[Quote]:
    """Run the entity and quote stages as the flow does."""
    mentions, parsed = extract_mentions(articles, EntitySettings())
    linked, entities = canonicalize(mentions, EntitySettings())
    return extract_quotes(articles, parsed, linked, entities, SETTINGS)


def one(
    make_article: Callable[..., Article], body: str
) -> list[tuple[str, str | None, str | None, bool]]:
    """(text, speaker, verb, is_partial) of each quote of one body."""
    article = make_article(body)
    found = quotes_of([article])
    for q in found:
        assert q.text == " ".join(article.body[s.start_char : s.end_char] for s in q.spans)
    return [(q.text, q.speaker, q.verb, q.is_partial) for q in found]


def test_quote_then_name_said(make_article: Callable[..., Article]) -> None:
    got = one(
        make_article,
        "Angela Merkel visited Paris. “We will not give up on this plan,” Merkel said on Monday.",
    )
    assert got == [("We will not give up on this plan", "Angela Merkel", "said", False)]


def test_said_then_colon_quote_with_straight_marks(make_article: Callable[..., Article]) -> None:
    got = one(make_article, 'Mayor John Tory said: "The city is ready for the storm tonight."')
    assert got == [("The city is ready for the storm tonight.", "John Tory", "said", False)]


def test_inverted_said_organisation(make_article: Callable[..., Article]) -> None:
    got = one(
        make_article,
        "“The talks were useful and frank,” said the Foreign Ministry of Japan in a statement.",
    )
    assert got[0][0] == "The talks were useful and frank" and got[0][2] == "said"
    assert got[0][1] is not None and "Ministry" in got[0][1]


def test_pronoun_follows_previous_speaker(make_article: Callable[..., Article]) -> None:
    body = (
        "Senator Jane Doe spoke to reporters. “This bill will pass this week,” Doe said. "
        "“We have the votes in both chambers,” she added."
    )
    got = one(make_article, body)
    assert [(g[1], g[2]) for g in got] == [("Jane Doe", "said"), ("Jane Doe", "added")]


def test_partial_quote_takes_the_governing_subject(make_article: Callable[..., Article]) -> None:
    got = one(
        make_article,
        "President Joe Biden urged Congress “to act quickly on the aid package” in a speech on Tuesday.",
    )
    assert got == [("to act quickly on the aid package", "Joe Biden", "urged", True)]


def test_anonymous_source_is_kept_as_written(make_article: Callable[..., Article]) -> None:
    got = one(make_article, "“We had good news yesterday,” a senior official said.")
    assert got == [("We had good news yesterday", "a senior official", "said", False)]


def test_guillemets_unclosed_and_one_word_quotes() -> None:
    body = "Il a dit «nous sommes prêts à partir» hier. A “scare quote here. She called it “unimpeded” access."
    found = find_quotes(body, SETTINGS.min_words, SETTINGS.split_gap_words)
    assert [body[q.start : q.end] for q in found] == ["nous sommes prêts à partir"]


def test_unattributed_quote_has_no_speaker(make_article: Callable[..., Article]) -> None:
    got = one(
        make_article,
        "The report ended abruptly. “No comment was available at the time of writing.”",
    )
    assert got == [("No comment was available at the time of writing.", None, None, False)]


def test_skipped_article_gives_no_quotes(make_article: Callable[..., Article]) -> None:
    article = make_article("“Wir schaffen das,” sagte sie.", nlp_skip_reason="unsupported_language")
    assert quotes_of([article]) == []


@pytest.fixture(scope="module")
def seed_quotes(seeds_dir: Path) -> dict[str, list[Quote]]:
    """Quotes of the seeds, through the real ingest, clean and normalize stages."""
    raw, _ = ingest.read_inputs(ingest.discover(seeds_dir), seeds_dir, ingest.IngestSettings())
    cleaned, _ = clean.clean_documents(raw, clean.CleanSettings())
    articles, _ = normalize.normalize_documents(
        cleaned, normalize.NormalizeSettings(), datetime(2025, 1, 1, tzinfo=UTC)
    )
    uri = {a.article_id: a.source_uri[:3] for a in articles}
    found: dict[str, list[Quote]] = {}
    for q in quotes_of(articles):
        found.setdefault(uri[q.article_id], []).append(q)
    return found


# Every quote of the seeds, in body order: (seed, first 28 characters, speaker, speaker type,
# verb, is_partial, parts). 001 is an excerpt of 000; 002 and 003 report the same statements.
SEED_QUOTES = [
    ("000", "Secretary of State Antony J.", "Matthew Miller", "person", "said", False, 1),
    ("000", "The United States is deeply ", "Antony J. Blinken", "person", "said", False, 1),
    ("000", "Secretary of State Antony J.", "Matthew Miller", "person", "said", False, 1),
    ("000", "During meeting at #UNGA78 wi", "Ararat Mirzoyan", "person", "said", False, 1),
    (
        "000",
        "in the strongest terms",
        "France’s foreign ministry",
        "organization",
        "condemned",
        True,
        1,
    ),
    (
        "000",
        "No pretext can justify such ",
        "French Foreign Ministry",
        "organization",
        "said",
        False,
        1,
    ),
    (
        "000",
        "France calls on Azerbaijan t",
        "French Foreign Ministry",
        "organization",
        "said",
        False,
        1,
    ),
    (
        "000",
        "France requests the emergenc",
        "French Foreign Ministry",
        "organization",
        "said",
        False,
        1,
    ),
    (
        "001",
        "in the strongest terms",
        "France’s foreign ministry",
        "organization",
        "condemned",
        True,
        1,
    ),
    (
        "001",
        "No pretext can justify such ",
        "French Foreign Ministry",
        "organization",
        "said",
        False,
        1,
    ),
    (
        "001",
        "France calls on Azerbaijan t",
        "French Foreign Ministry",
        "organization",
        "said",
        False,
        1,
    ),
    (
        "001",
        "France requests the emergenc",
        "French Foreign Ministry",
        "organization",
        "said",
        False,
        1,
    ),
    ("002", "illegal, unjustifiable, and ", "Catherine Colonna", "person", "told", True, 1),
    ("002", "I would like to emphasize th", "Catherine Colonna", "person", "added", False, 1),
    ("002", "use of heavy weapons includi", "Catherine Colonna", "person", "opposed", True, 1),
    ("002", "to cease military actions in", "Antony J. Blinken", "person", "pleaded", True, 1),
    ("002", "We had actually good news ye", "a senior US official", "anonymous", "said", False, 1),
    ("002", "We were hopeful that we were", "a senior US official", "anonymous", "added", False, 1),
    ("002", "ethnic cleansing", "Bob Menendez", "person", "charged", True, 1),
    ("002", "We must provide immediate su", "Bob Menendez", "person", "said", False, 1),
    ("003", "illegal, unjustifiable and u", "Catherine Colonna", "person", "told", True, 1),
    ("003", "I would like to emphasize th", "Catherine Colonna", "person", "said", False, 1),
    ("003", "use of heavy weapons includi", "Catherine Colonna", "person", "condemned", True, 1),
    ("003", "to cease military actions in", "Antony J. Blinken", "person", "urged", True, 1),
    ("003", "We had actually good news ye", "a senior US official", "anonymous", "said", False, 1),
    ("003", "We were hopeful that we were", "a senior US official", "anonymous", "said", False, 2),
    ("004", "utterly condemned", "France", "organization", None, True, 1),
    ("004", "solely responsible", "France", "organization", "condemned", True, 1),
    (
        "004",
        "France utterly condemns Azer",
        "French Foreign Ministry",
        "organization",
        "said",
        False,
        1,
    ),
    (
        "004",
        "It will hold Azerbaijan sole",
        "French Foreign Ministry",
        "organization",
        "stated",
        False,
        1,
    ),
    (
        "004",
        "It is in close consultation ",
        "French Foreign Ministry",
        "organization",
        "added",
        False,
        1,
    ),
    ("004", "illegal, unjustifiable and u", "Catherine Colonna", "person", "told", True, 1),
    (
        "004",
        "To stop anti-terrorist measu",
        "the Azerbaijani Presidency",
        "organization",
        "added",
        False,
        1,
    ),
]


def test_every_seed_quote_with_its_speaker(seed_quotes: dict[str, list[Quote]]) -> None:
    got = [
        (seed, q.text[:28], q.speaker, q.speaker_type, q.verb, q.is_partial, len(q.spans))
        for seed, found in sorted(seed_quotes.items())
        for q in sorted(found, key=lambda q: q.start_char)
    ]
    assert got == SEED_QUOTES


def test_partial_flags_on_seeds(seed_quotes: dict[str, list[Quote]]) -> None:
    partial = {q.text for qs in seed_quotes.values() for q in qs if q.is_partial}
    assert "ethnic cleansing" in partial and "utterly condemned" in partial
    assert not any(t.startswith("We had actually good news") for t in partial)
