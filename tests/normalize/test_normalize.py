"""Tests of the normalize stage: text canonical form, date choice, language, ids, rejects."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from factories import clean_document

from tasks import ingest
from tasks.clean.cleaner import CleanSettings, clean_documents
from tasks.core.records import (
    Article,
    CleanDocument,
    DateCandidate,
    RawDocument,
    Reject,
    RemovedLine,
)
from tasks.normalize import fields as normalize
from tasks.normalize.fields import NormalizeSettings, normalize_documents, normalize_text

SEEDS = Path(__file__).parents[2] / "seeds"
SETTINGS = NormalizeSettings()
NOW = datetime(2024, 8, 1, 12, tzinfo=UTC)

ENGLISH = (
    "France called on Tuesday for an urgent meeting of the United Nations Security Council "
    "after Azerbaijan launched a military operation in Nagorno-Karabakh, the foreign "
    "ministry said in a statement."
)
FRENCH = (
    "La France a demandé mardi une réunion urgente du Conseil de sécurité des Nations unies "
    "après le lancement par l'Azerbaïdjan d'une opération militaire au Haut-Karabakh, a "
    "indiqué le ministère des Affaires étrangères dans un communiqué."
)


def clean_doc(body: str = ENGLISH, **fields: object) -> CleanDocument:
    """A clean document with the given body and fields."""
    return clean_document(body=body, **fields)


def article(doc: CleanDocument, settings: NormalizeSettings = SETTINGS) -> Article:
    """Normalize a document that must become an article."""
    articles, rejects = normalize_documents([doc], settings, NOW)
    assert rejects == []
    return articles[0]


def rejected(doc: CleanDocument) -> Reject:
    """Normalize a document that must be rejected."""
    articles, rejects = normalize_documents([doc], SETTINGS, NOW)
    assert articles == []
    return rejects[0]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def test_mojibake_is_repaired_in_body_and_title() -> None:
    doc = clean_doc(f"Azerbaijanâ€™s offensive. {ENGLISH}", title="Azerbaijanâ€™s move")
    result = article(doc)
    assert result.body.startswith("Azerbaijan’s offensive. France called")
    assert result.title == "Azerbaijan’s move"


def test_spaces_lines_and_paragraphs_are_canonical() -> None:
    raw = (
        "  First\u00a0 paragraph\u2009here.  \n\n\n"
        "\t Second \u200bparagraph.\r\nThird line\u2028Fourth  "
    )
    assert normalize_text(raw) == (
        "First paragraph here.\n\nSecond paragraph.\n\nThird line\n\nFourth"
    )


def test_text_is_composed_to_nfc() -> None:
    assert normalize_text("Cafe\u0301 cre\u0300me") == "Café crème"


def test_straight_and_curly_quotes_are_kept() -> None:
    text = 'He said "no" and “never”, then ‘maybe’ and l’avis « oui ».'
    assert normalize_text(text) == text


def test_exotic_double_quotes_become_curly_pairs_and_low_quotes_stay() -> None:
    assert normalize_text("Er sagte „nein“ und ‟ja” – 12″ wide, ″so″.") == (
        'Er sagte „nein“ und “ja” – 12″ wide, "so".'
    )


def test_typewriter_double_quotes_become_straight_quotes() -> None:
    text = "''We may see wage growth,'' he said of ``the report'' on rock 'n' roll."
    assert normalize_text(text) == (
        '"We may see wage growth," he said of "the report" on rock \'n\' roll.'
    )
    assert normalize_text("a '''b''' c") == "a '''b''' c"  # not a pair of typed quotes


def test_three_apostrophes_close_a_nested_and_a_typed_quote() -> None:
    text = "''I would use the word 'old-school,''' said Gregory W. Slayton."
    assert normalize_text(text) == "\"I would use the word 'old-school,'\" said Gregory W. Slayton."


def test_title_is_one_normalized_line() -> None:
    result = article(clean_doc(title="  Storm\u00a0hits\n coast  ", title_source="first_line"))
    assert (result.title, result.title_source) == ("Storm hits coast", "first_line")


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

ALL_DATES = (
    DateCandidate(utc(2024, 7, 19), "page_header", "page"),
    DateCandidate(utc(2023, 9, 20), "dateline", "published"),
    DateCandidate(utc(2023, 9, 19, 6), "title_prefix", "published"),
    DateCandidate(utc(2023, 9, 19, 8), "html_metadata", "published"),
    DateCandidate(utc(2023, 9, 19, 9), "input_field", "published"),
    DateCandidate(utc(2023, 9, 18), "url", "published"),
)


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ({"input_field", "html_metadata", "title_prefix", "dateline", "url"}, "input_field"),
        ({"html_metadata", "title_prefix", "dateline", "url"}, "title_prefix"),
        ({"html_metadata", "dateline", "url"}, "dateline"),  # the date readers see
        ({"html_metadata", "url"}, "html_metadata"),
        ({"url"}, "url"),
    ],
)
def test_publication_date_follows_source_priority(sources: set[str], expected: str) -> None:
    dates = tuple(d for d in ALL_DATES if d.source in sources or d.kind == "page")
    result = article(clean_doc(dates=dates))
    (chosen,) = [d for d in ALL_DATES if d.source == expected]
    assert (result.published_at, result.published_at_source) == (chosen.value, expected)


def test_page_date_is_never_the_publication_date() -> None:
    result = article(clean_doc(dates=(DateCandidate(utc(2024, 7, 19), "page_header", "page"),)))
    assert (result.published_at, result.published_at_source) == (None, None)


def test_future_date_is_ignored() -> None:
    dates = (
        DateCandidate(utc(2030, 1, 1), "input_field", "published"),
        DateCandidate(utc(2023, 9, 20), "dateline", "published"),
    )
    result = article(clean_doc(dates=dates))
    assert (result.published_at, result.published_at_source) == (utc(2023, 9, 20), "dateline")


def test_modified_date_is_kept_apart_and_converted_to_utc() -> None:
    plus_two = datetime.fromisoformat("2023-09-20T10:30:00+02:00")
    result = article(clean_doc(dates=(DateCandidate(plus_two, "html_metadata", "modified"),)))
    assert (result.published_at, result.modified_at) == (None, utc(2023, 9, 20, 8, 30))
    assert result.modified_at is not None and result.modified_at.tzinfo == UTC
    assert result.modified_at_source == "html_metadata"


def test_published_date_is_the_outlets_own_day() -> None:
    # 22:30 in Bogotá on 3 May is 03:30 UTC on 4 May: the day readers saw is 3 May.
    evening = datetime.fromisoformat("2022-05-03T22:30:00-05:00")
    result = article(clean_doc(dates=(DateCandidate(evening, "html_metadata", "published"),)))
    assert result.published_at == utc(2022, 5, 4, 3, 30)
    assert result.published_date is not None
    assert result.published_date.isoformat() == "2022-05-03"


def test_date_without_a_utc_time_is_dropped_with_a_warning() -> None:
    # Year 1 at +05:00 is year 0 in UTC: no datetime holds it, so it cannot be compared.
    too_early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    too_late = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
    dates = (
        DateCandidate(too_early, "html_metadata", "published"),
        DateCandidate(too_late, "html_metadata", "modified"),
        DateCandidate(utc(2023, 9, 20), "url", "published"),
    )
    result = article(clean_doc(dates=dates, warnings=("invalid_utf8: 4 bytes replaced",)))
    assert (result.published_at, result.published_at_source) == (utc(2023, 9, 20), "url")
    assert result.modified_at is None
    assert result.warnings == (
        "invalid_utf8: 4 bytes replaced",
        "bad_date: html_metadata 0001-01-01T00:00:00+05:00",
        "bad_date: html_metadata 9999-12-31T23:59:00-05:00",
    )


@pytest.mark.parametrize(
    "published_at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "garbage"]
)
def test_bad_jsonl_date_gives_an_article_without_it(tmp_path: Path, published_at: str) -> None:
    line = {"text": ENGLISH, "published_at": published_at, "title": "Karabakh"}
    (tmp_path / "feed.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    raw, ingest_rejects = ingest.read_inputs(
        ingest.discover(tmp_path).inputs, tmp_path, ingest.IngestSettings()
    )
    cleaned, clean_rejects = clean_documents(raw, CleanSettings())
    articles, rejects = normalize_documents(cleaned, SETTINGS, NOW)
    assert ingest_rejects == clean_rejects == rejects == []
    (result,) = articles
    assert (result.published_at, result.published_at_source) == (None, None)
    assert result.warnings == (f"bad_date_field: {published_at}",)


def test_naive_reference_time_is_taken_as_utc() -> None:
    doc = clean_doc(dates=(DateCandidate(utc(2024, 8, 1, 13), "dateline", "published"),))
    articles, _ = normalize_documents([doc], SETTINGS, datetime(2024, 8, 1, 12))
    assert articles[0].published_at is None  # 13:00 UTC is after 12:00 UTC


# --------------------------------------------------------------------------------------------
# Language
# --------------------------------------------------------------------------------------------


def test_english_article_goes_to_nlp() -> None:
    result = article(clean_doc(ENGLISH))
    assert (result.language, result.nlp_skip_reason) == ("en", None)


def test_non_english_article_is_kept_but_skips_nlp() -> None:
    result = article(clean_doc(FRENCH))
    assert (result.language, result.nlp_skip_reason) == ("fr", "unsupported_language")


def test_nlp_languages_setting_is_honoured() -> None:
    result = article(clean_doc(FRENCH), NormalizeSettings(nlp_languages=("en", "fr")))
    assert result.nlp_skip_reason is None


def test_text_without_enough_letters_is_undetermined() -> None:
    result = article(clean_doc(" ".join(str(n) for n in range(40))))
    assert (result.language, result.nlp_skip_reason) == ("und", "unsupported_language")


# --------------------------------------------------------------------------------------------
# Ids, counts, rejects
# --------------------------------------------------------------------------------------------


def test_hashes_and_word_count() -> None:
    result = article(clean_doc(f"{ENGLISH}\n\n\n{ENGLISH}  "))
    body = f"{ENGLISH}\n\n{ENGLISH}"
    assert result.body == body
    assert result.content_hash == hashlib.sha256(body.encode()).hexdigest()[:16]
    expected_id = hashlib.sha256(f"doc.txt\x00{body}".encode()).hexdigest()[:16]
    assert result.article_id == expected_id
    assert result.word_count == 2 * len(ENGLISH.split())


def test_same_body_from_two_sources_shares_content_hash_not_id() -> None:
    docs = [clean_doc(source_uri="a.txt"), clean_doc(source_uri="b.txt")]
    first, second = normalize_documents(docs, SETTINGS, NOW)[0]
    assert first.content_hash == second.content_hash
    assert first.article_id != second.article_id


def test_fields_pass_through() -> None:
    line = RemovedLine(1, "Advertisement", "advertisement")
    doc = clean_doc(removed=(line,), outlet="Daily Planet", url="https://x.org/a", author="Jane")
    result = article(doc)
    assert (result.removed, result.outlet, result.url, result.author) == (
        (line,),
        "Daily Planet",
        "https://x.org/a",
        "Jane",
    )


def test_standfirst_is_one_normalized_line() -> None:
    result = article(clean_doc(standfirst="  Thousands\u00a0without   power\n"))
    assert result.standfirst == "Thousands without power"
    assert article(clean_doc()).standfirst is None


def test_empty_body_is_rejected() -> None:
    reject = rejected(clean_doc(" \u00a0\n\u200b\n "))
    assert (reject.reason, reject.stage) == ("empty_after_cleaning", "normalize")


def test_short_body_is_rejected() -> None:
    reject = rejected(clean_doc("Only five words in here."))
    assert (reject.reason, reject.stage) == ("too_short", "normalize")


def test_document_over_its_time_budget_is_a_timeout_reject(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = normalize.normalize_text

    def stalling(text: str) -> str:
        if "STALL" in text:
            time.sleep(5)
        return original(text)

    monkeypatch.setattr(normalize, "normalize_text", stalling)
    settings = dataclasses.replace(SETTINGS, max_seconds_per_document=0.3)
    docs = [clean_doc(source_uri="a"), clean_doc(f"STALL {ENGLISH}", source_uri="b"),
            clean_doc(source_uri="c")]  # fmt: skip
    started = time.monotonic()
    articles, rejects = normalize_documents(docs, settings, NOW)
    assert time.monotonic() - started < 3
    assert [a.source_uri for a in articles] == ["a", "c"]
    assert [(r.source_uri, r.reason, r.stage) for r in rejects] == [("b", "timeout", "normalize")]


def test_unexpected_error_is_an_extraction_error_reject(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(body: str, settings: NormalizeSettings) -> str:
        raise RuntimeError("classifier exploded")

    monkeypatch.setattr(normalize, "detect_language", broken)
    reject = rejected(clean_doc())
    assert (reject.reason, reject.stage) == ("extraction_error", "normalize")
    assert reject.detail == "RuntimeError: classifier exploded"


def test_default_time_budget() -> None:
    assert NormalizeSettings().max_seconds_per_document == 10


def test_batch_keeps_order_and_is_deterministic() -> None:
    docs = [
        clean_doc(source_uri="a"),
        clean_doc("Too short.", source_uri="b"),
        clean_doc(source_uri="c"),
    ]
    first = normalize_documents(docs, SETTINGS, NOW)
    assert [a.source_uri for a in first[0]] == ["a", "c"]
    assert [r.source_uri for r in first[1]] == ["b"]
    assert normalize_documents(docs, SETTINGS, NOW) == first


# --------------------------------------------------------------------------------------------
# Seeds, cleaned then normalized
# --------------------------------------------------------------------------------------------


def test_seeds_end_to_end() -> None:
    raw = [
        RawDocument(p.name[:3], p.read_text(encoding="utf-8"), "text", "utf-8")
        for p in sorted(SEEDS.glob("*.txt"))
    ]
    cleaned, clean_rejects = clean_documents(raw, CleanSettings())
    articles, rejects = normalize_documents(cleaned, SETTINGS, NOW)
    assert clean_rejects == [] and rejects == []
    by_uri = {a.source_uri: a for a in articles}
    assert sorted(by_uri) == ["000", "001", "002", "003", "004"]
    assert {a.language for a in articles} == {"en"}
    assert (by_uri["001"].published_at, by_uri["001"].published_at_source) == (
        utc(2023, 9, 19),
        "title_prefix",
    )
    assert (by_uri["004"].published_at, by_uri["004"].published_at_source) == (
        utc(2023, 9, 20),
        "dateline",
    )
    assert by_uri["002"].published_at is None  # its only date is the page header's
    assert by_uri["000"].published_at is None
    assert "\u00a0" not in by_uri["002"].body and "Armenia. Azerbaijan" in by_uri["002"].body
    assert all(a.word_count > 250 for a in articles)
