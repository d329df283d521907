"""Tests of outlet template removal across a batch (tasks/clean/template.py)."""

from __future__ import annotations

from dataclasses import replace

from factories import clean_document

from tasks.clean.template import REASON, TemplateSettings, outlet_key, remove_templates
from tasks.core.records import CleanDocument, RemovedLine

SETTINGS = TemplateSettings()
PROMO = "For the latest stories download the Daily Planet app for iOS and Android."
STORIES = [
    "The council met on Tuesday and agreed to publish its findings next week.",
    "Rail workers walked out on Monday after talks over pay broke down again.",
    "The museum reopened its east wing after a two-year renovation this weekend.",
    "Farmers reported the earliest harvest in a decade after a warm, dry spring.",
    "The city approved a new bridge over the river despite objections from residents.",
    "Officials said the water supply was safe after tests found no contamination.",
]


def doc(n: int, body: str, outlet: str | None = "dailyplanet.example") -> CleanDocument:
    """A cleaned page of an outlet."""
    return clean_document(source_uri=f"planet/{n}.html", body=body, outlet=outlet)


def pages(count: int, outlet: str | None = "dailyplanet.example") -> list[CleanDocument]:
    """Pages whose story is followed by the outlet's app promotion."""
    return [doc(n, f"{STORIES[n]}\n\n{PROMO}", outlet) for n in range(count)]


def test_paragraph_on_most_pages_of_an_outlet_is_removed_and_recorded() -> None:
    out = remove_templates(pages(5), SETTINGS)
    assert [d.body for d in out] == STORIES[:5]
    assert all(d.removed[-1] == RemovedLine(0, PROMO, REASON) for d in out)


def test_too_few_pages_of_an_outlet_say_nothing() -> None:
    assert remove_templates(pages(4), SETTINGS) == pages(4)


def test_exact_duplicates_count_once() -> None:
    same = [replace(pages(1)[0], source_uri=f"planet/copy{n}.html") for n in range(5)]
    assert remove_templates(same, SETTINGS) == same


def test_outlets_are_counted_apart() -> None:
    mixed = [*pages(3, "a.example"), *pages(3, "b.example")]
    assert remove_templates(mixed, SETTINGS) == mixed


def test_recurring_paragraph_in_the_middle_of_long_pages_is_kept() -> None:
    def page(n: int) -> str:
        own = [f"{story} (page {n})" for story in STORIES]
        return "\n\n".join([*own[:3], PROMO, *own[3:]])

    docs = [doc(n, page(n)) for n in range(6)]
    assert remove_templates(docs, SETTINGS) == docs


def test_a_page_that_is_only_template_is_left_whole() -> None:
    docs = [*pages(5), doc(9, PROMO)]
    assert remove_templates(docs, SETTINGS)[-1].body == PROMO


def test_pages_without_outlet_group_by_folder() -> None:
    assert outlet_key(doc(1, "x", outlet=None)) == "folder:planet"
    out = remove_templates(pages(5, outlet=None), SETTINGS)
    assert [d.body for d in out] == STORIES[:5]
