"""Person names: title words, honorifics, first-name genders, and the keys that group names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

import gender_guesser.detector as gender_detector

# Forms of address before a name, and the gender each tells (None: it tells none).
HONORIFICS: dict[str, str | None] = {
    "mr": "male",
    "mrs": "female",
    "ms": "female",
    "miss": "female",
    "sir": "male",
    "dr": None,
}
# The abbreviated ones take a full stop in American style, none in British ("Mr Blunkett").
HONORIFIC_WORDS = frozenset(HONORIFICS) | frozenset(f"{h}." for h in ("mr", "mrs", "ms", "dr"))
# Words of a job title: a span made only of them is a title ("State" in "Secretary of
# State"), never an entity, and they are not part of a person's name.
TITLE_WORDS = (
    frozenset(
        [
            "president",
            "vice",
            "prime",
            "minister",
            "secretary",
            "state",
            "foreign",
            "defense",
            "defence",
            "interior",
            "deputy",
            "assistant",
            "acting",
            "under",
            "senator",
            "sen.",
            "rep.",
            "representative",
            "governor",
            "gov.",
            "chancellor",
            "ambassador",
            "spokesperson",
            "spokesman",
            "spokeswoman",
            "general",
            "gen.",
            "chairman",
            "chairwoman",
            "chair",
            "mayor",
            "king",
            "queen",
            "prince",
            "princess",
            "pope",
            "judge",
            "justice",
            "lord",
            "lady",
            "premier",
            "envoy",
            "commissioner",
            "director",
            "minister-president",
            "of",
            "for",
            "the",
            "and",
            "affairs",
            "european",
        ]
    )
    | HONORIFIC_WORDS
)
# Ends of a name that are not its surname: "Luther Stan Pate IV", "Martin Luther King Jr.".
NAME_SUFFIXES = frozenset(["jr", "jr.", "sr", "sr.", "ii", "iii", "iv"])


@lru_cache(maxsize=1)
def _detector() -> gender_detector.Detector:
    """The first-name table shipped with the gender-guesser package."""
    return gender_detector.Detector(case_sensitive=False)


@lru_cache(maxsize=8192)
def _first_name_kind(name: str) -> str:
    """What the first-name table says of a word: a gender, "andy", or "unknown"."""
    return str(_detector().get_gender(name))


def first_name_gender(name: str) -> Literal["male", "female"] | None:
    """ "male" or "female" for a first name the gender-guesser lists as such, else None."""
    # "mostly_female" ("Bernie") and "andy" stay unknown: a wrong guess would skip the speaker.
    found = _first_name_kind(name)
    return "male" if found == "male" else "female" if found == "female" else None


@lru_cache(maxsize=8192)
def sole_first_name_gender(name: str) -> Literal["male", "female"] | None:
    """A first name's gender when the name table lists it as that gender (or mostly that)
    in every country that lists it: "Nikol", female in two countries and male in Armenia,
    tells none."""
    listed = first_name_gender(name)
    countries = _detector().names.get(name.lower(), {})
    sides = {kind.removeprefix("mostly_") for kind in countries}
    return listed if sides == {listed} else None


def is_first_name(name: str) -> bool:
    """True for a word the first-name table lists, of any gender."""
    return _first_name_kind(name) != "unknown"


# Middle names and initials do not tell two people apart: "George W. Bush" is "George Bush".
MIDDLE_INITIAL = re.compile(r"^\w\.?$")


def surname_owner(counts: Mapping[str, int], share: float, unseen: int = 0) -> str | None:
    """The candidate a short name means: the one with at least `share` of the mentions, or None."""
    # `counts` are the candidates' mentions; `unseen` adds mentions of a namesake no candidate
    # stands for (see UNSEEN_NAMESAKE), so that a mention or two decides nothing.
    if not counts:
        return None
    top = max(counts.values())
    leaders = [key for key, n in counts.items() if n == top]
    if len(leaders) > 1 or top <= 0 or top < share * (sum(counts.values()) + unseen):
        return None
    return leaders[0]


def surname(key: str) -> str | None:
    """The surname of a multiword person key, before any suffix ("trump" of "donald trump jr")."""
    words = key.split()
    while len(words) > 2 and words[-1] in NAME_SUFFIXES:
        words.pop()
    return words[-1] if len(words) >= 2 and words[-1] not in NAME_SUFFIXES else None


def person_key(key: str) -> str:
    """A person's group key: first name, surname and any suffix ("jr"); middle names ignored."""
    parts = [p for p in key.split() if not MIDDLE_INITIAL.fullmatch(p)]
    suffix: list[str] = []
    while len(parts) > 2 and parts[-1] in NAME_SUFFIXES:
        suffix.insert(0, parts.pop())
    return " ".join([parts[0], parts[-1], *suffix]) if len(parts) >= 2 else key
