"""Dedup: exact and near duplicates, excerpts, same-story links, stories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from tasks.core.records import Article, Entity, EntityMention
from tasks.entities.mentions import EntitySettings, canonicalize, extract_mentions
from tasks.link.dedup import DedupSettings, link_articles, stories
from tasks.quotes.attribution import QuoteSettings, cluster_quotes, extract_quotes

SETTINGS = DedupSettings()
WORDS = [
    "the",
    "central",
    "bank",
    "raised",
    "interest",
    "rates",
    "by",
    "half",
    "a",
    "point",
    "on",
    "thursday",
    "citing",
    "persistent",
    "inflation",
    "in",
    "housing",
    "and",
    "energy",
    "prices",
    "while",
    "officials",
    "signalled",
    "further",
    "increases",
    "could",
    "follow",
    "later",
    "this",
    "year",
    "if",
    "wage",
    "growth",
    "remains",
    "strong",
    "across",
    "the",
    "service",
    "sector",
    "economists",
    "had",
    "expected",
    "a",
    "smaller",
    "move",
    "after",
    "weak",
    "retail",
    "figures",
    "published",
    "last",
    "week",
    "and",
    "markets",
    "fell",
    "sharply",
    "in",
    "afternoon",
    "trading",
    "as",
    "investors",
    "reassessed",
    "the",
    "outlook",
]
OTHER = [
    "the",
    "football",
    "club",
    "confirmed",
    "its",
    "new",
    "stadium",
    "will",
    "open",
    "next",
    "season",
    "after",
    "years",
    "of",
    "delays",
    "caused",
    "by",
    "planning",
    "disputes",
    "rising",
    "construction",
    "costs",
    "and",
    "a",
    "legal",
    "challenge",
    "from",
    "local",
    "residents",
    "who",
    "argued",
    "the",
    "project",
    "would",
    "bring",
    "traffic",
    "and",
    "noise",
    "to",
    "quiet",
    "streets",
    "near",
    "the",
    "river",
    "the",
    "club",
    "chairman",
    "thanked",
    "supporters",
    "for",
    "their",
    "patience",
]


def _text(words: list[str], sentences: int = 1) -> str:
    return " ".join(words * sentences)


def _relations(
    make: Callable[..., Article], *bodies: tuple[str, str]
) -> dict[tuple[str, str], str]:
    arts = [make(body, uri) for uri, body in bodies]
    _, links, _ = link_articles(arts, SETTINGS)
    uri = {a.article_id: a.source_uri for a in arts}
    return {(uri[ln.article_id], uri[ln.other_article_id]): ln.relation for ln in links}


def _unordered(got: dict[tuple[str, str], str]) -> dict[frozenset[str], str]:
    return {frozenset(pair): rel for pair, rel in got.items()}


def test_exact_duplicate_points_to_the_first(make_article: Callable[..., Article]) -> None:
    body = _text(WORDS)
    arts = [make_article(body, "b.txt"), make_article(body, "a.txt")]
    linked, links, stories = link_articles(arts, SETTINGS)
    by_uri = {a.source_uri: a for a in linked}
    assert by_uri["b.txt"].duplicate_of == by_uri["a.txt"].article_id
    assert by_uri["a.txt"].duplicate_of is None
    assert [ln.relation for ln in links] == ["exact_duplicate"]
    assert len(stories) == 1 and stories[0].article_count == 2


def test_near_duplicate_and_excerpt(make_article: Callable[..., Article]) -> None:
    # The excerpt is a quarter of the full text: high containment, low Jaccard.
    full = " ".join([*WORDS, *OTHER, *reversed(WORDS), *reversed(OTHER)])
    edited = full.replace("half a point", "a quarter point").replace("thursday", "friday")
    excerpt = _text(WORDS)
    got = _relations(
        make_article, ("full.txt", full), ("edited.txt", edited), ("excerpt.txt", excerpt)
    )
    assert _unordered(got)[frozenset({"edited.txt", "full.txt"})] == "near_duplicate"
    assert got[("excerpt.txt", "full.txt")] == "excerpt"  # stated from the excerpt's side


def test_distinct_stories_are_not_linked(make_article: Callable[..., Article]) -> None:
    got = _relations(make_article, ("bank.txt", _text(WORDS)), ("club.txt", _text(OTHER)))
    assert got == {}


RATES_REWORDED = (
    "interest rates went up by half a point on thursday as the central bank pointed to "
    "persistent inflation in energy and housing prices and officials said further increases "
    "could come this year should wage growth stay strong in the service sector while "
    "economists expected a smaller move after weak retail figures and markets fell in afternoon trading"
)


def test_rewrite_is_same_story_and_story_fields(make_article: Callable[..., Article]) -> None:
    first = make_article(
        _text(WORDS),
        "a.txt",
        title="Bank raises rates",
        outlet="Daily",
        published_at=datetime(2024, 5, 2, tzinfo=UTC),
    )
    second = make_article(
        RATES_REWORDED,
        "b.txt",
        title="Rates up again",
        outlet="Herald",
        published_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    linked, links, stories = link_articles([first, second], SETTINGS)
    assert [ln.relation for ln in links] == ["same_story"]
    assert linked[0].story_id == linked[1].story_id
    [story] = stories
    assert story.title == "Rates up again"  # the earliest published titled article
    assert story.outlets == ("Daily", "Herald")
    assert story.first_published_at == datetime(2024, 5, 1, tzinfo=UTC)
    assert story.last_published_at == datetime(2024, 5, 2, tzinfo=UTC)


def test_story_top_entities_rank_by_articles_then_mentions(
    make_article: Callable[..., Article],
) -> None:
    arts = [
        replace(make_article("x", "a.txt"), story_id="s"),
        replace(make_article("y", "b.txt"), story_id="s"),
    ]
    a, b = (x.article_id for x in arts)
    mentions = [
        EntityMention(a, "blinken", "Blinken", "PERSON", 0, 1),
        EntityMention(b, "blinken", "Blinken", "PERSON", 0, 1),
        EntityMention(a, "baku", "Baku", "GPE", 0, 1),
        EntityMention(a, "baku", "Baku", "GPE", 0, 1),
        EntityMention(a, "baku", "Baku", "GPE", 0, 1),
        EntityMention(a, "un", "UN", "ORG", 0, 1),
    ]
    known = [
        Entity(i, name, label, (name,), 1, 1, None, None)
        for i, name, label in [("blinken", "Antony Blinken", "PERSON"), ("baku", "Baku", "GPE"),
                               ("un", "United Nations", "ORG")]
    ]  # fmt: skip
    [story] = stories(arts, mentions, known, top=2)
    assert story.top_entities == ("Antony Blinken", "Baku")  # two articles beat three mentions


@pytest.mark.parametrize(
    ("first", "second", "same_story"),
    [
        pytest.param(date(2024, 5, 2), date(2024, 5, 4), True, id="two-days-apart"),
        pytest.param(date(2024, 5, 2), date(2024, 5, 20), False, id="follow-up-weeks-later"),
        pytest.param(None, None, False, id="both-undated"),
        # Both leads say "thursday": 2024-05-02 is a Thursday, 2024-05-13 a Monday.
        pytest.param(date(2024, 5, 2), None, True, id="weekday-of-the-date"),
        pytest.param(date(2024, 5, 13), None, False, id="weekday-not-near-the-date"),
    ],
)
def test_same_story_needs_time_evidence(
    make_article: Callable[..., Article], first: date | None, second: date | None, same_story: bool
) -> None:
    def at(day: date | None) -> datetime | None:
        return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)

    arts = [
        make_article(_text(WORDS), "a.txt", published_at=at(first)),
        make_article(RATES_REWORDED, "b.txt", published_at=at(second)),
    ]
    _, links, stories = link_articles(arts, SETTINGS)
    assert [ln.relation for ln in links] == (["same_story"] if same_story else [])
    assert len(stories) == (1 if same_story else 2)


def test_links_do_not_depend_on_input_order(make_article: Callable[..., Article]) -> None:
    arts = [make_article(_text(WORDS), "a.txt"), make_article(_text(WORDS[:40]), "b.txt")]
    _, links, stories = link_articles(arts, SETTINGS)
    _, links_again, stories_again = link_articles(list(reversed(arts)), SETTINGS)
    assert links and (links, stories) == (links_again, stories_again)


WIRE = (
    "Foreign Minister Catherine Colonna said France would ask the United Nations Security "
    "Council to meet on Armenia and Azerbaijan after the offensive in Nagorno-Karabakh.\n\n"
    "“This is illegal, unjustifiable and unacceptable,” Colonna told reporters in Paris.\n\n"
    "Secretary of State Antony Blinken called Ilham Aliyev and Nikol Pashinyan.\n\n"
    "“We urge Azerbaijan to stop its military actions at once,” Blinken said in New York."
)
REWORDED = (
    "Paris wants the Security Council of the United Nations to hold talks on Azerbaijan and "
    "Armenia, Catherine Colonna said, as fighting broke out in Nagorno-Karabakh.\n\n"
    "“This is illegal, unjustifiable and unacceptable,” the French minister Colonna said.\n\n"
    "Antony Blinken spoke by phone to Nikol Pashinyan and Ilham Aliyev, officials said.\n\n"
    "“We urge Azerbaijan to stop its military actions at once,” said Blinken in New York."
)
FOLLOW_UP = (
    "Refugees from Nagorno-Karabakh crossed into Armenia at Kornidzor on Monday, and Samantha "
    "Power of USAID met families in Goris as Yerevan asked Moscow and Brussels for help.\n\n"
    "“This is illegal, unjustifiable and unacceptable,” Colonna had told reporters in Paris.\n\n"
    "The Red Cross and UNHCR said the road through the Lachin corridor was open again.\n\n"
    "“We urge Azerbaijan to stop its military actions at once,” Blinken said in New York."
)


def test_a_rewrite_shares_the_quotes_and_the_cast(make_article: Callable[..., Article]) -> None:
    # A follow-up repeats the same two quotes but brings other people and places: no rewrite.
    arts = [
        make_article(body, uri)
        for uri, body in (("wire.txt", WIRE), ("rewrite.txt", REWORDED), ("later.txt", FOLLOW_UP))
    ]
    batch = extract_mentions(arts, EntitySettings())
    mentions, parsed = batch.mentions, batch.parsed
    linked, entities = canonicalize(mentions, EntitySettings())
    found = cluster_quotes(
        extract_quotes(arts, parsed, linked, entities, QuoteSettings())[0], QuoteSettings()
    )
    _, links, _ = link_articles(arts, SETTINGS, linked, found)
    uri = {a.article_id: a.source_uri for a in arts}
    got = {frozenset({uri[ln.article_id], uri[ln.other_article_id]}): ln.relation for ln in links}
    assert got[frozenset({"wire.txt", "rewrite.txt"})] == "rewrite"
    assert got.get(frozenset({"wire.txt", "later.txt"})) != "rewrite"
    assert got.get(frozenset({"rewrite.txt", "later.txt"})) != "rewrite"


def test_copies_join_the_story_through_their_original(make_article: Callable[..., Article]) -> None:
    day = datetime(2024, 5, 2, tzinfo=UTC)
    wire = make_article(_text(WORDS), "a.txt", published_at=day)
    copies = [make_article(wire.body, f"copy{i}.txt", published_at=day) for i in range(3)]
    other = make_article(RATES_REWORDED, "b.txt", published_at=day)
    linked, links, found = link_articles([wire, *copies, other], SETTINGS)
    got = sorted((ln.article_id, ln.other_article_id, ln.relation) for ln in links)
    # Each copy points to the original; only the original is compared with the other report.
    first, second = sorted((wire.article_id, other.article_id))
    copied = [(c.article_id, wire.article_id, "exact_duplicate") for c in copies]
    assert got == sorted([*copied, (first, second, "same_story")])
    assert len(found) == 1 and len({a.story_id for a in linked}) == 1


def test_a_term_of_too_many_articles_proposes_no_pairs(
    make_article: Callable[..., Article],
) -> None:
    day = datetime(2024, 5, 2, tzinfo=UTC)
    arts = [
        make_article(_text(WORDS), "a.txt", published_at=day),
        make_article(RATES_REWORDED, "b.txt", published_at=day),
    ]
    assert [ln.relation for ln in link_articles(arts, SETTINGS)[1]] == ["same_story"]
    beat = replace(SETTINGS, max_term_articles=1)  # every shared term is a beat now
    assert link_articles(arts, beat)[1] == []
