"""Entities: spaCy NER with span rules, and run-wide canonical entities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks.core.records import Article, Entity, EntityMention, Mention, short_hash
from tasks.entities.mentions import EntitySettings, canonicalize, extract_mentions, parse_aliases
from tasks.lexicon.people import surname_owner
from tasks.text.keys import normalize_name

SETTINGS = EntitySettings()


def _run(articles: list[Article]) -> tuple[list[EntityMention], dict[str, Entity]]:
    mentions = extract_mentions(articles, SETTINGS).mentions
    linked, entities = canonicalize(mentions, SETTINGS)
    return linked, {e.canonical_name: e for e in entities}


def test_offsets_index_the_body(make_article: Callable[..., Article]) -> None:
    article = make_article(
        "Secretary of State Antony J. Blinken met Armenia’s Prime Minister Nikol Pashinyan in New York."
    )
    mentions = extract_mentions([article], SETTINGS).mentions
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


def _groups(mentions: list[Mention], settings: EntitySettings = SETTINGS) -> list[str]:
    """The group key of each mention's entity, in mention order."""
    linked, entities = canonicalize(mentions, settings)
    keys = {e.entity_id: e.group_key for e in entities}
    return [keys[m.entity_id] for m in linked]


def _repeated(text: str, label: str, articles: str) -> list[Mention]:
    """One mention of `text` in each of the articles named by the letters of `articles`."""
    return [Mention(a, text, label, 0, len(text)) for a in articles]


def test_an_acronym_joins_only_a_long_name_of_its_label() -> None:
    mentions = [
        *_repeated("US", "GPE", "abcdef"),
        *_repeated("U.S.", "GPE", "ghij"),
        Mention("k", "University of Strathclyde", "ORG", 0, 25),
        *_repeated("United States", "GPE", "lm"),
    ]
    got = _groups(mentions)
    assert set(got[:10]) == {"GPE:united states"}
    assert got[10] == "ORG:university of strathclyde"
    # Without a long name of its label "US" stays itself, and the dotted "U.S." is no long
    # name of initials "us".
    alone = _groups(mentions[:11])
    assert set(alone[:6]) == {"GPE:us"} and set(alone[6:10]) == {"GPE:u s"}
    # The earlier rule (kept to compare with) merged them into the university.
    earlier = _groups(mentions[:11], replace(SETTINGS, acronym_same_label=False))
    assert set(earlier) == {"ORG:university of strathclyde"}


def test_a_rare_long_name_takes_a_frequent_acronym_only_when_written_beside_it() -> None:
    nbc = _repeated("NBC", "ORG", "abcdefgh")
    baptists = Mention("z", "National Baptist Convention", "ORG", 0, 27)
    assert set(_groups([*nbc, baptists])[:8]) == {"ORG:nbc"}
    beside = Mention("a", "National Baptist Convention", "ORG", 10, 37)
    assert set(_groups([*nbc, beside])) == {"ORG:national baptist convention"}
    # Up to acronym_max_ratio mentions of the acronym per mention of the long name.
    few = _groups([*nbc[:3], baptists])
    assert set(few) == {"ORG:national baptist convention"}


def test_an_acronym_of_several_long_names_joins_the_dominant_one() -> None:
    mentions = [
        *_repeated("AP", "ORG", "abc"),
        *_repeated("Associated Press", "ORG", "defgh"),
        Mention("i", "Atlantic Pres", "ORG", 0, 13),
    ]
    assert set(_groups(mentions)[:3]) == {"ORG:associated press"}
    even = [*mentions[:8], *_repeated("Atlantic Pres", "ORG", "jklm")]
    assert set(_groups(even)[:3]) == {"ORG:ap"}


def test_surname_owner_needs_a_clear_share() -> None:
    assert surname_owner({"a": 10, "b": 1, "c": 1}, 2 / 3) == "a"
    assert surname_owner({"a": 3, "b": 2}, 2 / 3) is None
    assert surname_owner({"a": 2, "b": 2}, 0.4) is None  # a tie names no one
    assert surname_owner({}, 2 / 3) is None
    assert surname_owner({"a": 1}, 2 / 3) == "a"
    # A namesake never named in full, counted as one more mention: one mention is not enough.
    assert surname_owner({"a": 1}, 2 / 3, unseen=1) is None
    assert surname_owner({"a": 2}, 2 / 3, unseen=1) == "a"
    assert surname_owner({"a": 5, "b": 1, "c": 1}, 2 / 3) == "a"
    assert surname_owner({"a": 5, "b": 1, "c": 1}, 2 / 3, unseen=1) is None
    assert surname_owner({"a": 10, "b": 1}, 1.01) is None


def _trumps() -> list[Mention]:
    return [
        *_repeated("Donald J. Trump", "PERSON", "abcdefghij"),
        Mention("k", "Ivanka Trump", "PERSON", 0, 12),
        Mention("l", "Melania Trump", "PERSON", 0, 13),
        Mention("m", "Donald Trump Jr.", "PERSON", 0, 16),
        Mention("n", "Eric Trump", "PERSON", 0, 10),
    ]


def test_a_shared_surname_goes_to_the_person_who_dominates_the_run() -> None:
    mentions = [*_trumps(), Mention("z", "Trump", "PERSON", 0, 5)]
    assert _groups(mentions)[-1] == "PERSON:donald trump"
    # Named in its article, the other person still wins.
    here = [*_trumps(), Mention("k", "Trump", "PERSON", 20, 25)]
    assert _groups(here)[-1] == "PERSON:ivanka trump"
    # Past a share of 1 the rule is off: the surname stays apart, as it used to.
    assert _groups(mentions, replace(SETTINGS, dominant_share=1.01))[-1] == "PERSON:trump"


def test_a_surname_no_one_dominates_stays_apart() -> None:
    mentions = [
        *_repeated("Jeb Bush", "PERSON", "abc"),
        *_repeated("George Bush", "PERSON", "de"),
        Mention("z", "Bush", "PERSON", 0, 4),
        Mention("a", "Bush", "PERSON", 20, 24),
    ]
    assert _groups(mentions)[-2:] == ["PERSON:bush", "PERSON:jeb bush"]


def test_a_generational_suffix_is_part_of_the_name() -> None:
    mentions = [
        Mention("a", "Donald Trump Jr.", "PERSON", 0, 16),
        Mention("b", "Donald John Trump Jr", "PERSON", 0, 20),
        Mention("c", "Donald Trump", "PERSON", 0, 12),
        Mention("a", "Trump", "PERSON", 20, 25),
        Mention("d", "Elizabeth II", "PERSON", 0, 12),
        Mention("d", "Elizabeth", "PERSON", 20, 29),
    ]
    assert _groups(mentions) == [
        "PERSON:donald trump jr",
        "PERSON:donald trump jr",
        "PERSON:donald trump",
        "PERSON:donald trump jr",  # the surname before the suffix, named in its article
        "PERSON:elizabeth ii",
        "PERSON:elizabeth",  # a regnal number is no surname
    ]


def test_group_key_is_what_the_id_hashes() -> None:
    mentions = [
        Mention("a", "Antony J. Blinken", "PERSON", 0, 17),
        Mention("a", "Blinken", "PERSON", 20, 27),
        Mention("a", "United Nations", "ORG", 30, 44),
        Mention("a", "UN", "ORG", 50, 52),
    ]
    linked, entities = canonicalize(mentions, SETTINGS)
    assert sorted(e.group_key for e in entities) == ["ORG:united nations", "PERSON:antony blinken"]
    assert all(e.entity_id == short_hash(e.group_key) for e in entities)
    assert len({m.entity_id for m in linked}) == 2


def test_ids_are_stable_and_case_insensitive() -> None:
    first, _ = canonicalize([Mention("a", "The Kremlin", "ORG", 0, 11)], SETTINGS)
    second, _ = canonicalize([Mention("b", "Kremlin", "ORG", 5, 12)], SETTINGS)
    assert first[0].entity_id == second[0].entity_id
    assert normalize_name("France’s") == "france"


def test_skipped_articles_are_not_parsed(make_article: Callable[..., Article]) -> None:
    article = make_article(
        "Angela Merkel sprach in Berlin.", nlp_skip_reason="unsupported_language"
    )
    batch = extract_mentions([article], SETTINGS)
    mentions, parsed = batch.mentions, batch.parsed
    assert mentions == () and parsed.article_ids == ()


def test_role_is_the_most_frequent_title(make_article: Callable[..., Article]) -> None:
    articles = [
        make_article(
            "Secretary of State Antony J. Blinken spoke on Monday. Mr Blinken left later.", "a.txt"
        ),
        make_article("US Secretary of State Antony Blinken called Baku.", "b.txt"),
        make_article("Antony Blinken, the diplomat, met Mr Pashinyan.", "c.txt"),
    ]
    _, entities = _run(articles)
    assert entities["Antony J. Blinken"].role == "Secretary of State"
    assert entities["Pashinyan"].role is None  # "Mr" is a form of address, not a role


def test_first_seen_at_is_the_earliest_dated_article() -> None:
    mentions = [
        Mention("a", "Kremlin", "ORG", 0, 7),
        Mention("b", "Kremlin", "ORG", 0, 7),
        Mention("c", "Kremlin", "ORG", 0, 7),
    ]
    published = {"a": datetime(2024, 5, 2, tzinfo=UTC), "b": datetime(2024, 4, 30, tzinfo=UTC)}
    [kremlin] = canonicalize(mentions, SETTINGS, published)[1]
    assert kremlin.first_seen_at == datetime(2024, 4, 30, tzinfo=UTC)
    [undated] = canonicalize(mentions[2:], SETTINGS, published)[1]
    assert undated.first_seen_at is None


def test_person_id_ignores_middle_names_across_runs() -> None:
    first, _ = canonicalize([Mention("a", "Antony J. Blinken", "PERSON", 0, 17)], SETTINGS)
    second, _ = canonicalize([Mention("b", "Antony Blinken", "PERSON", 0, 14)], SETTINGS)
    assert first[0].entity_id == second[0].entity_id


def test_alias_file_merges_names_and_sets_the_label(tmp_path: Path) -> None:
    aliases = parse_aliases(
        "name,canonical,label\nArtsakh,Nagorno-Karabakh,GPE\nUNSC,UN Security Council,\n"
    )
    assert aliases[1].label is None
    mentions = [
        Mention("a", "Artsakh", "GPE", 0, 7),
        Mention("b", "Nagorno-Karabakh", "ORG", 0, 16),
        Mention("b", "Nagorno-Karabakh", "ORG", 20, 36),
        Mention("c", "UNSC", "ORG", 0, 4),
    ]
    linked, entities = canonicalize(mentions, replace(SETTINGS, aliases=aliases))
    by_name = {e.canonical_name: e for e in entities}
    karabakh = by_name["Nagorno-Karabakh"]
    assert (karabakh.label, karabakh.aliases) == ("GPE", ("Artsakh", "Nagorno-Karabakh"))
    assert {m.entity_id for m in linked[:3]} == {karabakh.entity_id}
    assert "UN Security Council" in by_name  # the file's name, though only "UNSC" was written


def test_a_worker_keeps_new_words_until_each_vocabulary_passes_its_cap(
    make_article: Callable[..., Article],
) -> None:
    from tasks.nlp import pipeline as nlp
    from tasks.quotes.attribution import QuoteSettings, extract_quotes

    fresh = make_article("“Qorvelt zandiquo,” Brenxa Vultimor told Zyphrandia reporters.", "b.txt")
    batch = extract_mentions([fresh], SETTINGS)
    mentions, parsed = batch.mentions, batch.parsed
    found, _ = extract_quotes([fresh], parsed, [], [], QuoteSettings())
    assert "Brenxa Vultimor" in {m.text for m in mentions}
    assert [q.text for q in found] == ["Qorvelt zandiquo"]
    # Both vocabularies keep a batch's new words for the next batch...
    new_words = {"Qorvelt", "zandiquo", "Brenxa", "Vultimor", "Zyphrandia"}
    assert all(w in nlp.load_model(SETTINGS.model).vocab.strings for w in new_words)
    assert all(w in nlp._blank_vocab().vocab.strings for w in new_words)
    # ...until they pass their cap, when they start afresh: a worker's memory stays bounded.
    later = make_article("Ulvandra Pesk spoke.", "c.txt")
    cap = len(nlp.load_model(SETTINGS.model).vocab) - 1
    with nlp.parsed_each([later.body], SETTINGS.model, 8, 10.0, 10_000, max_lexemes=cap) as docs:
        strings = docs[0].vocab.strings  # type: ignore[union-attr]
        assert "Ulvandra" in strings and not {w for w in new_words if w in strings}
    assert nlp.load_model(SETTINGS.model).vocab.strings is strings
    other = extract_mentions([later], SETTINGS).parsed
    with nlp.unpacked(other, max_lexemes=len(nlp._blank_vocab().vocab) - 1) as unpacked:
        assert [t.text for t in unpacked[later.article_id]][:2] == ["Ulvandra", "Pesk"]
        strings = unpacked[later.article_id].vocab.strings
        assert "Ulvandra" in strings and not {w for w in new_words if w in strings}


def test_a_long_body_is_parsed_in_pieces_with_the_same_offsets(
    make_article: Callable[..., Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.nlp import pipeline as nlp

    paragraphs = [
        f"Minister Jane Porter{i} visited Leeds on Tuesday, officials said." for i in range(40)
    ]
    article = make_article("\n\n".join(paragraphs), "long.txt")
    whole = extract_mentions([article], SETTINGS)
    monkeypatch.setattr(nlp, "PIECE_CHARS", 400)
    assert len(list(nlp.pieces(article.body, 400))) > 5
    batch = extract_mentions([article], SETTINGS)
    assert not batch.rejects and len(batch.parsed.article_ids) == 1
    assert [(m.text, m.start_char) for m in batch.mentions] == [
        (m.text, m.start_char) for m in whole.mentions
    ]
    assert all(article.body[m.start_char : m.end_char] == m.text for m in batch.mentions)
    assert max(m.start_char for m in batch.mentions) > 2000


def test_a_text_spacy_refuses_is_a_reject_of_its_own(
    make_article: Callable[..., Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.nlp import pipeline as nlp

    refused = make_article("word " * 210_000, "huge.txt")  # past spaCy's 1,000,000 characters
    fine = make_article("Jane Porter visited Leeds on Tuesday.", "fine.txt")
    monkeypatch.setattr(nlp, "PIECE_CHARS", 2_000_000)  # one piece: spaCy sees it whole
    batch = extract_mentions([refused, fine], replace(SETTINGS, max_nlp_chars=2_000_000))
    assert [(r.source_uri, r.reason, r.stage) for r in batch.rejects] == [
        ("huge.txt", "extraction_error", "entities")
    ]
    assert "E088" in batch.rejects[0].detail
    assert batch.parsed.article_ids == (fine.article_id,)
    assert {m.text for m in batch.mentions} >= {"Jane Porter", "Leeds"}


def test_pipe_batches_keep_order_and_both_limits() -> None:
    from tasks.nlp import pipeline as nlp

    sizes = [10, 50, 50, 5, 200, 1, 1, 1, 1]
    groups = list(nlp.batches(range(len(sizes)), sizes, 3, 100))
    assert [i for g in groups for i in g] == list(range(len(sizes)))
    assert groups == [[0, 1], [2, 3], [4], [5, 6, 7], [8]]
    assert all(len(g) <= 3 and (len(g) == 1 or sum(sizes[i] for i in g) <= 100) for g in groups)


def test_a_character_cap_on_pipe_batches_changes_no_mention_or_parse(
    make_article: Callable[..., Article],
) -> None:
    from tasks.nlp import pipeline as nlp

    articles = [
        make_article(
            f"Minister Jane Porter{i} visited Leeds, the BBC said. " * (1 + i % 4), f"{i}.txt"
        )
        for i in range(12)
    ]
    whole = extract_mentions(articles, replace(SETTINGS, pipe_batch_chars=10**9))
    capped = extract_mentions(articles, replace(SETTINGS, pipe_batch_chars=150))
    assert capped.mentions == whole.mentions and len(whole.mentions) > 24
    with nlp.unpacked(whole.parsed) as one, nlp.unpacked(capped.parsed) as other:
        assert [[(t.text, t.dep_, t.head.i, t.ent_type_) for t in d] for d in one.values()] == [
            [(t.text, t.dep_, t.head.i, t.ent_type_) for t in d] for d in other.values()
        ]
