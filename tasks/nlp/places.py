"""Label rules after spaCy's NER that use the gazetteer and the name's own words."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from tasks.lexicon.people import first_name_gender
from tasks.lexicon.places import (
    EVENT_HEADS,
    MISLABELED_PLACES,
    PLACE_HEADS,
    PLACE_LABELS,
    countries,
    is_place,
    places,
)
from tasks.text.keys import place_key


@Language.component("entity_labels")
def entity_labels(doc: Doc) -> Doc:
    """Relabel entities the model got wrong, by the gazetteer and by the name's own words."""
    located = {
        place_key(name) for t in doc if t.lower_ in PLACE_HEADS if (name := _named_before(t))
    }
    ents = []
    changed = False
    for ent in doc.ents:
        label = _label(ent, located)
        if label != ent.label_:
            ent = Span(doc, ent.start, ent.end, label=label)
            changed = True
        ents.append(ent)
    if changed:
        doc.ents = ents
    return doc


def _named_before(head: Token) -> str:
    """The capitalized name right before a noun ("Nagorno-Karabakh" region), or ""."""
    start = head.i
    doc = head.doc
    while start > 0 and (doc[start - 1].text[:1].isupper() or doc[start - 1].text == "-"):
        start -= 1
    return doc[start : head.i].text.strip("-")


def _label(ent: Span, located: set[str]) -> str:
    """The entity's label after the rules."""
    if ent[-1].lower_ in EVENT_HEADS and ent[-1].text[:1].isupper():
        return "EVENT"
    if ent.label_ in MISLABELED_PLACES and _is_place(ent, located):
        return "GPE"
    if ent.label_ in PLACE_LABELS and _is_person(ent):
        return "PERSON"
    return ent.label_


def _is_place(ent: Span, located: set[str]) -> bool:
    """A place by its document ("the X region") or by the gazetteer.

    Any known place tagged PERSON is one ("Azerbaijan", "Baku"); tagged ORG or NORP only a
    country: "Leicester" the club stays ORG.
    """
    key = place_key(ent.text)
    if key in located and ent.label_ != "NORP":  # "the Kurdish region": Kurdish stays NORP
        return True
    return key in countries() if ent.label_ != "PERSON" else key in places()


def _is_person(ent: Span) -> bool:
    """A "place" of capitalized words led by a listed first name, unknown to the gazetteer:
    the model tags foreign names as places ("Luciano Orquera" GPE)."""
    words = [t.text for t in ent]
    return (
        len(words) >= 2
        and all(w[:1].isupper() for w in words)
        and first_name_gender(words[0]) is not None
        and not is_place(ent.text)
    )
