"""Quotes: direct quotes with speaker, verb and partiality, on the real spaCy parse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks import clean, ingest, normalize
from tasks.entities import EntitySettings, canonicalize, extract_mentions
from tasks.quotes import QuoteSettings, extract_quotes, find_spans
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
    assert all(article.body[q.start_char : q.end_char] == q.text for q in found)
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
    assert [body[s.start : s.end] for s in find_spans(body, SETTINGS.min_words)] == [
        "nous sommes prêts à partir"
    ]


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


@pytest.mark.parametrize(
    ("seed", "start", "speaker", "verb"),
    [
        ("000", "During meeting at #UNGA78", "Ararat Mirzoyan", "said"),
        ("000", "No pretext can justify", "French Foreign Ministry", "said"),
        ("000", "in the strongest terms", "France’s foreign ministry", "condemned"),
        ("002", "illegal, unjustifiable, and unacceptable", "Catherine Colonna", "told"),
        ("002", "I would like to emphasize", "Catherine Colonna", "added"),
        ("002", "use of heavy weapons", "Catherine Colonna", "opposed"),
        ("002", "to cease military actions", "Antony J. Blinken", "pleaded"),
        ("002", "We had actually good news", "the official", "said"),
        ("002", "We were hopeful", "the official", "added"),
        ("002", "ethnic cleansing", "Bob Menendez", "charged"),
        ("002", "We must provide immediate support", "Bob Menendez", "said"),
        ("003", "illegal, unjustifiable and unacceptable", "Catherine Colonna", "told"),
        ("003", "I would like to emphasize", "Catherine Colonna", "said"),
        ("003", "to cease military actions", "Antony J. Blinken", "urged"),
        ("003", "We had actually good news", "the official", "said"),
        ("004", "It will hold Azerbaijan", "the ministry", "stated"),
        ("004", "It is in close consultation", "the ministry", "added"),
        ("004", "illegal, unjustifiable and unacceptable", "Catherine Colonna", "told"),
        ("004", "To stop anti-terrorist measures", "the Azerbaijani Presidency", "added"),
    ],
)
def test_seed_quotes_and_speakers(
    seed_quotes: dict[str, list[Quote]], seed: str, start: str, speaker: str, verb: str
) -> None:
    [quote] = [q for q in seed_quotes[seed] if q.text.startswith(start)]
    assert (quote.speaker, quote.verb) == (speaker, verb)


def test_partial_flags_on_seeds(seed_quotes: dict[str, list[Quote]]) -> None:
    partial = {q.text for qs in seed_quotes.values() for q in qs if q.is_partial}
    assert "ethnic cleansing" in partial and "utterly condemned" in partial
    assert not any(t.startswith("We had actually good news") for t in partial)
