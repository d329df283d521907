"""The gazetteer and the label rules that run after spaCy's NER."""

from __future__ import annotations

import pytest
from spacy.tokens import Span

from tasks.entities.mentions import EntitySettings
from tasks.lexicon import places as gazetteer
from tasks.nlp import pipeline as nlp
from tasks.nlp.places import entity_labels


def _ents(text: str) -> list[tuple[str, str]]:
    doc = nlp.load_model(EntitySettings().model)(text)
    return [(e.text, e.label_) for e in doc.ents]


def test_gazetteer_knows_countries_regions_capitals_and_large_cities() -> None:
    assert gazetteer.is_region("Azerbaijan") and gazetteer.is_region("Devon")
    assert gazetteer.is_place("Yerevan") and gazetteer.is_place("Sydney")
    assert not gazetteer.is_region("Sydney")  # a city, not a country or subdivision
    assert not gazetteer.is_place("Blinken")


def test_countries_and_capitals_tagged_person_or_org_become_places() -> None:
    # The bare model tags the first "Azerbaijan" ORG, "Yerevan" and the second PERSON.
    got = _ents(
        "Azerbaijan launched an offensive, and Armenia asked for help. "
        "Yerevan said Azerbaijan must stop."
    )
    assert got == [("Azerbaijan", "GPE"), ("Armenia", "GPE"), ("Yerevan", "GPE"),
                   ("Azerbaijan", "GPE")]  # fmt: skip


def test_a_place_noun_makes_the_name_a_place_in_the_whole_document() -> None:
    # The bare model misses the first "Nagorno-Karabakh" and tags the second ORG.
    got = _ents(
        "France condemned the offensive in the Nagorno-Karabakh region. "
        "Fighting in Nagorno-Karabakh went on. The Kurdish region voted."
    )
    assert ("Nagorno-Karabakh", "GPE") in got and ("Nagorno-Karabakh", "ORG") not in got
    assert ("Kurdish", "NORP") in got


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        # The bare model tags both ORG.
        ("Davis Cup captain Jeremy Bates picked Tim Henman.", "Davis Cup"),
        ("The singer won two Brit Awards on Wednesday.", "Brit Awards"),
    ],
)
def test_contests_and_ceremonies_are_events(text: str, entity: str) -> None:
    assert (entity, "EVENT") in _ents(text)


def test_a_surname_tagged_as_a_place_is_the_person_named_before() -> None:
    # The bare model tags the second "O'Gara" GPE.
    got = _ents("Ronan O'Gara kicked well. O'Gara then left the field.")
    assert got == [("Ronan O'Gara", "PERSON"), ("O'Gara", "PERSON")]


def test_a_first_name_and_an_unknown_place_name_are_a_person() -> None:
    doc = nlp.load_model(EntitySettings().model).make_doc(
        "Luciano Orquera , Victoria and Rio de Janeiro"
    )
    doc.ents = [Span(doc, 0, 2, label="GPE"), Span(doc, 3, 4, label="GPE"),
                Span(doc, 5, 8, label="GPE")]  # fmt: skip
    labels = [e.label_ for e in entity_labels(doc).ents]
    assert labels == ["PERSON", "GPE", "GPE"]
