"""People's gender over a run: what the articles quoting them agree on, else the first name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from tasks.core.records import Entity, Gender, Quote
from tasks.lexicon.people import sole_first_name_gender
from tasks.quotes.speakers import CONFLICTING, EVIDENCE_ORDER, FIRST_NAME


def entity_genders(entities: Sequence[Entity], quotes: Sequence[Quote]) -> list[Entity]:
    """Each person with the gender the run's articles quoting them agree on; a person
    nobody's quote tells of, by a listed first name; unknown when the articles disagree."""
    told: dict[str, set[Gender]] = defaultdict(set)
    kinds: dict[str, set[str]] = defaultdict(set)
    conflicting = set()
    for q in quotes:
        if q.speaker_entity_id is None or q.speaker_gender_evidence is None:
            continue
        if q.speaker_gender_evidence == CONFLICTING:
            conflicting.add(q.speaker_entity_id)
            continue
        told[q.speaker_entity_id].add(q.speaker_gender)
        kinds[q.speaker_entity_id].update(q.speaker_gender_evidence.split("+"))
    return [_gendered(e, told[e.entity_id], kinds[e.entity_id], e.entity_id in conflicting)
            if e.label == "PERSON" else e for e in entities]  # fmt: skip


def _gendered(entity: Entity, told: set[Gender], kinds: set[str], conflicting: bool) -> Entity:
    """One person with a gender and the kinds of evidence it rests on."""
    if len(told) > 1 or (not told and conflicting):
        return replace(entity, gender="unknown", gender_evidence=CONFLICTING)
    if told:
        evidence = "+".join(k for k in EVIDENCE_ORDER if k in kinds)
        return replace(entity, gender=next(iter(told)), gender_evidence=evidence)
    words = entity.canonical_name.split()
    listed = sole_first_name_gender(words[0]) if len(words) > 1 else None
    if listed is not None:
        return replace(entity, gender=listed, gender_evidence=FIRST_NAME)
    return replace(entity, gender="unknown", gender_evidence=None)
