"""Entities: spaCy NER with span rules, and run-wide canonical entities."""

from __future__ import annotations

from collections.abc import Callable

from tasks.entities import EntitySettings, canonicalize, extract_mentions, normalize_name
from tasks.records import Article, Entity, EntityMention, Mention

SETTINGS = EntitySettings()


def _run(articles: list[Article]) -> tuple[list[EntityMention], dict[str, Entity]]:
    mentions, _ = extract_mentions(articles, SETTINGS)
    linked, entities = canonicalize(mentions, SETTINGS)
    return linked, {e.canonical_name: e for e in entities}


def test_offsets_index_the_body(make_article: Callable[..., Article]) -> None:
    article = make_article(
        "Secretary of State Antony J. Blinken met Armenia’s Prime Minister Nikol Pashinyan in New York."
    )
    mentions, _ = extract_mentions([article], SETTINGS)
    assert mentions
    assert all(article.body[m.start_char : m.end_char] == m.text for m in mentions)
    assert "Armenia" in {m.text for m in mentions}  # possessive stripped
    assert "State" not in {m.text for m in mentions}  # a title word, not an organisation


def test_cut_given_name_is_taken_back(make_article: Callable[..., Article]) -> None:
    _, entities = _run(
        [make_article("Secretary of State Antony J. Blinken spoke with reporters on Tuesday.")]
    )
    assert entities["Antony J. Blinken"].label == "PERSON"


def test_full_name_forms_and_surname_merge(make_article: Callable[..., Article]) -> None:
    articles = [
        make_article("Antony Blinken arrived in Paris. Blinken met officials there.", "a.txt"),
        make_article(
            "Secretary of State Antony J. Blinken spoke on Monday. Blinken left later.", "b.txt"
        ),
    ]
    linked, entities = _run(articles)
    blinken = entities["Antony J. Blinken"]
    assert {"Antony Blinken", "Antony J. Blinken", "Blinken"} <= set(blinken.aliases)
    assert blinken.article_count == 2
    assert {m.entity_id for m in linked if "Blinken" in m.text} == {blinken.entity_id}


def test_ambiguous_surname_resolves_within_its_article() -> None:
    mentions = [
        Mention("a", "John Smith", "PERSON", 0, 10),
        Mention("a", "Smith", "PERSON", 20, 25),
        Mention("b", "Jane Smith", "PERSON", 0, 10),
        Mention("b", "Smith", "PERSON", 20, 25),
        Mention("c", "Smith", "PERSON", 0, 5),
    ]
    linked, entities = canonicalize(mentions, SETTINGS)
    names = {e.entity_id: e.canonical_name for e in entities}
    got = [(m.article_id, names[m.entity_id]) for m in linked if m.text == "Smith"]
    assert got == [("a", "John Smith"), ("b", "Jane Smith"), ("c", "Smith")]


def test_acronym_joins_its_long_form_and_surname_label_is_fixed() -> None:
    mentions = [
        Mention("a", "United Nations", "ORG", 0, 14),
        Mention("a", "UN", "ORG", 20, 22),
        Mention("a", "Bob Menendez", "PERSON", 30, 42),
        Mention("a", "Menendez", "ORG", 50, 58),
        Mention("a", "Jordan", "GPE", 60, 66),
        Mention("a", "Michael Jordan", "PERSON", 70, 84),
    ]
    linked, _ = canonicalize(mentions, SETTINGS)
    by_text = {m.text: m for m in linked}
    assert by_text["UN"].entity_id == by_text["United Nations"].entity_id
    assert by_text["Menendez"].entity_id == by_text["Bob Menendez"].entity_id
    assert by_text["Menendez"].label == "PERSON"
    assert by_text["Jordan"].entity_id != by_text["Michael Jordan"].entity_id


def test_ids_are_stable_and_case_insensitive() -> None:
    first, _ = canonicalize([Mention("a", "The Kremlin", "ORG", 0, 11)], SETTINGS)
    second, _ = canonicalize([Mention("b", "Kremlin", "ORG", 5, 12)], SETTINGS)
    assert first[0].entity_id == second[0].entity_id
    assert normalize_name("France’s") == "france"


def test_skipped_articles_are_not_parsed(make_article: Callable[..., Article]) -> None:
    article = make_article(
        "Angela Merkel sprach in Berlin.", nlp_skip_reason="unsupported_language"
    )
    mentions, parsed = extract_mentions([article], SETTINGS)
    assert mentions == [] and parsed.article_ids == ()
