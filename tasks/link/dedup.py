"""Dedup stage: exact and near duplicates, excerpts, same-story links, and stories."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from itertools import combinations

from datasketch import MinHash, MinHashLSH, MinHashLSHEnsemble
from spacy.lang.en.stop_words import STOP_WORDS

from tasks.core.groups import components
from tasks.core.records import (
    Article,
    ArticleLink,
    Entity,
    EntityMention,
    Quote,
    Relation,
    Story,
    short_hash,
)

WORD = re.compile(r"\w+")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY = re.compile(rf"\b({'|'.join(WEEKDAY_NAMES)})\b", re.IGNORECASE)
UNDATED = datetime.max.replace(tzinfo=UTC)
# Strongest first: a pair keeps only its strongest relation.
STRENGTH: dict[Relation, int] = {
    "exact_duplicate": 0,
    "near_duplicate": 1,
    "excerpt": 2,
    "rewrite": 3,
    "same_story": 4,
}


@dataclass(frozen=True)
class DedupSettings:
    """Shingling, LSH and similarity thresholds."""

    # Word 5-grams: short enough to survive small edits, long enough that shared stock
    # phrases ("said in a statement on") rarely make two different stories look alike.
    shingle_words: int = 5
    # MinHash permutations: 128 keeps the Jaccard estimate within ~0.05 while hashing stays cheap.
    num_perm: int = 128
    # Fixed seed: the same input must give the same candidate pairs on every run.
    seed: int = 1
    # Revised versions of one text share at least half their shingles (Jaccard); below that
    # they are rewrites or overlapping stories.
    near_duplicate_jaccard: float = 0.5
    # An excerpt's shingles are (almost) all inside the fuller article; 0.8 allows light edits
    # of the excerpt (a changed first line, a dropped sentence).
    excerpt_containment: float = 0.8
    # LSH candidate thresholds sit below the verified ones so that MinHash estimation error
    # does not lose true pairs; every candidate is verified exactly afterwards.
    lsh_slack: float = 0.15
    # TF-IDF cosine of content words above which two articles of one time window report the
    # same event: coverage of one event by different outlets scores 0.25-0.6, and different
    # stories of one beat on one day (two unrelated economy stories) stay below ~0.25.
    same_story_cosine: float = 0.25
    # Words can't tell one event from its follow-ups: BBC follow-ups days apart share quotes,
    # passages and 0.4-0.8 cosine. So a same-story pair must also be close in time: both
    # published within this many days (wire coverage of an event lands the same or next day).
    story_window_days: int = 2
    # An undated article still dates its event in its lead ("rushed Tuesday to ..."): that
    # weekday, within the window of a dated article, is the time evidence of the pair.
    lead_words: int = 80
    # Only the top terms of each article index same-story candidates: pairs sharing none of
    # their most distinctive terms are not compared, which keeps linking near-linear. 20, not
    # fewer: in a small batch idf is flat, and two reports of one event (seeds 001 and 004)
    # share none of their top 12 terms.
    candidate_terms: int = 20
    # A term among the top terms of more articles than this names a beat ("government",
    # "league"), not one event: its pairs would grow with the square of the run, and the
    # articles of one event still share their rarer terms.
    max_term_articles: int = 200
    # Articles with fewer content words are too thin to judge a story by word overlap.
    min_story_terms: int = 30
    # A rewrite reports the same facts in other words: what cannot be reworded stays. It
    # shares at least two quotes, at least half of the quotes of the article with fewer ...
    rewrite_min_quotes: int = 2
    rewrite_quote_share: float = 0.5
    # ... and most of its cast: a follow-up story on the same topic brings new people and
    # places (BBC follow-ups share 0.3-0.55 of their entities; wire rewrites 0.8).
    rewrite_entity_jaccard: float = 0.6
    # and its content words still say the same thing (TF-IDF cosine, as for same_story).
    rewrite_cosine: float = 0.33
    # Entities listed per story: enough to say who and where, few enough for a dashboard cell.
    story_top_entities: int = 5
    # Run dates before and after its own that a run links its articles to. Wire copies and
    # excerpts are republished over days and weeks; a month covers a news cycle while a run
    # reads the history index of at most 2 x 30 dates, whatever the warehouse holds.
    history_days: int = 30
    # One shingle in this many (by hash) is kept in the history index: text shared by two
    # articles of different dates shares sampled shingles (a 40-word excerpt has ~36 shingles,
    # ~4.5 sampled), at an eighth of the index size of keeping them all.
    sample_every: int = 8
    # Candidates across dates whose sampled shingles say they share less than this much
    # (Jaccard or containment, below the verified thresholds) are not verified on their text:
    # sample estimates of a few dozen shingles err by ~0.15.
    history_estimate_slack: float = 0.3
    # Same-story candidates across dates share at least this many distinctive terms: one
    # shared term across a month of dates pairs a run with thousands of articles of its beat,
    # and reports of one event share several of their top terms.
    history_min_shared_terms: int = 2


def link_articles(
    articles: Sequence[Article],
    settings: DedupSettings,
    mentions: Sequence[EntityMention] = (),
    quotes: Sequence[Quote] = (),
    entities: Sequence[Entity] = (),
) -> tuple[list[Article], list[ArticleLink], list[Story]]:
    """Link the run's articles (with their entities and clustered quotes) into stories."""
    ordered = sorted(articles, key=lambda a: (a.source_uri, a.article_id))
    exact = exact_links(ordered)
    # An exact copy is in its original's story through its exact_duplicate link: comparing
    # it again with every other article would square the pairs of a run full of wire copies.
    copies = {ln.article_id for ln in exact}
    originals = [a for a in ordered if a.article_id not in copies]
    kept = {a.article_id for a in originals}
    vectors = term_vectors(originals, settings)
    links = _strongest(
        [
            *exact,
            *shingle_links(originals, settings),
            *rewrite_links(vectors, [m for m in mentions if m.article_id in kept],
                           [q for q in quotes if q.article_id in kept], settings),
            *story_links(originals, vectors, settings),
        ]
    )  # fmt: skip
    duplicate_of = {
        ln.article_id: ln.other_article_id for ln in links if ln.relation == "exact_duplicate"
    }
    story_of = _components([a.article_id for a in ordered], links)
    linked = [
        replace(a, duplicate_of=duplicate_of.get(a.article_id), story_id=story_of[a.article_id])
        for a in articles
    ]
    return linked, links, stories(linked, mentions, entities, settings.story_top_entities)


def exact_links(ordered: Sequence[Article]) -> list[ArticleLink]:
    """Articles with the same normalized body: each later one duplicates the first."""
    first: dict[str, str] = {}
    links = []
    for a in ordered:
        if a.content_hash in first:
            links.append(ArticleLink(a.article_id, first[a.content_hash], "exact_duplicate", 1.0))
        else:
            first[a.content_hash] = a.article_id
    return links


def shingles(text: str, size: int) -> set[str]:
    """Word n-gram shingles of lower-cased `\\w+` tokens."""
    tokens = WORD.findall(text.lower())
    return {" ".join(tokens[i : i + size]) for i in range(max(len(tokens) - size + 1, 1))} - {""}


def shingle_links(ordered: Sequence[Article], settings: DedupSettings) -> list[ArticleLink]:
    """Near duplicates and excerpts: MinHash LSH candidates, verified on exact shingle sets."""
    sets = {a.article_id: shingles(a.body, settings.shingle_words) for a in ordered}
    sigs = _minhashes(sets, settings)
    links = []
    for a_id, b_id in sorted(_candidates(sets, sigs, settings)):
        link = verify(a_id, sets[a_id], b_id, sets[b_id], settings)
        if link is not None:
            links.append(link)
    return links


def _minhashes(sets: dict[str, set[str]], settings: DedupSettings) -> dict[str, MinHash]:
    """One MinHash signature per article, with a fixed seed."""
    sigs = {}
    for key, items in sets.items():
        sig = MinHash(num_perm=settings.num_perm, seed=settings.seed)
        sig.update_batch([s.encode() for s in items])
        sigs[key] = sig
    return sigs


def _candidates(
    sets: dict[str, set[str]], sigs: dict[str, MinHash], settings: DedupSettings
) -> set[tuple[str, str]]:
    """Pairs that may be near duplicates (Jaccard LSH) or excerpts (containment LSH ensemble)."""
    if len(sets) < 2:
        return set()
    pairs: set[tuple[str, str]] = set()
    lsh = MinHashLSH(
        threshold=settings.near_duplicate_jaccard - settings.lsh_slack, num_perm=settings.num_perm
    )
    for key, sig in sigs.items():
        lsh.insert(key, sig)
    for key, sig in sigs.items():
        pairs |= {_pair(key, other) for other in lsh.query(sig) if other != key}
    ensemble = MinHashLSHEnsemble(
        threshold=settings.excerpt_containment - settings.lsh_slack, num_perm=settings.num_perm
    )
    ensemble.index((key, sigs[key], max(len(items), 1)) for key, items in sets.items())
    for key, sig in sigs.items():
        pairs |= {
            _pair(key, other)
            for other in ensemble.query(sig, max(len(sets[key]), 1))
            if other != key
        }
    return pairs


def _indexed_pairs(index: dict[str, list[str]]) -> set[tuple[str, str]]:
    """Every pair of keys filed under one entry of an index (a term, a quote cluster)."""
    return {_pair(a, b) for keys in index.values() for a, b in combinations(keys, 2)}


def _pair(a: str, b: str) -> tuple[str, str]:
    """An unordered pair in canonical order."""
    return (a, b) if a < b else (b, a)


def verify(
    a_id: str, a: set[str], b_id: str, b: set[str], settings: DedupSettings
) -> ArticleLink | None:
    """The exact relation of a candidate pair, or None when it does not hold."""
    if not a or not b:
        return None
    common = len(a & b)
    jaccard = common / len(a | b)
    if jaccard >= settings.near_duplicate_jaccard:
        return ArticleLink(a_id, b_id, "near_duplicate", round(jaccard, 6))
    small, large = (a_id, b_id) if len(a) <= len(b) else (b_id, a_id)
    containment = common / min(len(a), len(b))
    if containment >= settings.excerpt_containment:
        return ArticleLink(small, large, "excerpt", round(containment, 6))
    return None


def rewrite_links(
    vectors: dict[str, dict[str, float]],
    mentions: Sequence[EntityMention],
    quotes: Sequence[Quote],
    settings: DedupSettings,
) -> list[ArticleLink]:
    """Rewrites: pairs sharing most quotes and most entities, their words still alike."""
    said: dict[str, set[str]] = defaultdict(set)
    for q in quotes:
        said[q.article_id].add(q.quote_cluster_id)
    cast: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        cast[m.article_id].add(m.entity_id)
    sharing: dict[str, list[str]] = defaultdict(list)
    for article_id in sorted(said):
        for cluster in said[article_id]:
            sharing[cluster].append(article_id)
    links = []
    for a, b in sorted(_indexed_pairs(sharing)):
        shared = len(said[a] & said[b])
        entities = len(cast[a] & cast[b]) / (len(cast[a] | cast[b]) or 1)
        score = cosine(vectors.get(a, {}), vectors.get(b, {}))
        if (
            shared >= settings.rewrite_min_quotes
            and shared >= settings.rewrite_quote_share * min(len(said[a]), len(said[b]))
            and entities >= settings.rewrite_entity_jaccard
            and score >= settings.rewrite_cosine
        ):
            links.append(ArticleLink(a, b, "rewrite", round(score, 6)))
    return links


def content_terms(article: Article) -> Counter[str]:
    """Content-word counts of title and body (stop words and numbers left out)."""
    words = WORD.findall(f"{article.title or ''}\n{article.body}".lower())
    return Counter(w for w in words if w not in STOP_WORDS and not w.isdigit() and len(w) > 2)


def term_vectors(
    ordered: Sequence[Article], settings: DedupSettings
) -> dict[str, dict[str, float]]:
    """TF-IDF vectors of the articles with enough content words to judge by them."""
    terms = {a.article_id: content_terms(a) for a in ordered}
    return _tfidf({k: t for k, t in terms.items() if sum(t.values()) >= settings.min_story_terms})


def story_links(
    ordered: Sequence[Article], vectors: dict[str, dict[str, float]], settings: DedupSettings
) -> list[ArticleLink]:
    """Same-story pairs: close in time, and alike in TF-IDF over candidates sharing top terms."""
    distinctive = {
        t: keys
        for t, keys in term_index(vectors, settings.candidate_terms).items()
        if len(keys) <= settings.max_term_articles
    }
    when = {a.article_id: event_time(a, settings) for a in ordered}
    links = []
    for a, b in sorted(_indexed_pairs(distinctive)):
        if not same_time(when[a], when[b], settings.story_window_days):
            continue
        score = cosine(vectors[a], vectors[b])
        if score >= settings.same_story_cosine:
            links.append(ArticleLink(a, b, "same_story", round(score, 6)))
    return links


def top_terms(vector: Mapping[str, float], n: int) -> list[str]:
    """The n heaviest terms of a vector (ties alphabetical)."""
    return sorted(vector, key=lambda t: (-vector[t], t))[:n]


def term_index(vectors: Mapping[str, Mapping[str, float]], n: int) -> dict[str, list[str]]:
    """The articles (in vector order) filed under each of their n heaviest terms."""
    index: dict[str, list[str]] = defaultdict(list)
    for key, vec in vectors.items():
        for term in top_terms(vec, n):
            index[term].append(key)
    return index


def event_time(article: Article, settings: DedupSettings) -> date | int | None:
    """When an article's event happened: its publication date, else the weekday its lead names."""
    if article.published_at is not None:
        return article.published_at.date()
    lead = " ".join(f"{article.title or ''} {article.body}".split()[: settings.lead_words])
    found = WEEKDAY.search(lead)
    return WEEKDAY_NAMES.index(found.group(1).lower()) if found else None


def same_time(a: date | int | None, b: date | int | None, window: int) -> bool:
    """Two event times within the window; a weekday matches a date near one of that weekday."""
    if isinstance(a, int) and isinstance(b, date):
        a, b = b, a
    if isinstance(a, date) and isinstance(b, date):
        return abs((a - b).days) <= window
    if isinstance(a, date) and isinstance(b, int):
        return any((a + timedelta(days=d)).weekday() == b for d in range(-window, window + 1))
    # Two weekdays, or nothing: no date anchors the pair, and a weekday recurs every week.
    return False


def _tfidf(terms: dict[str, Counter[str]]) -> dict[str, dict[str, float]]:
    """Unit-length TF-IDF vectors with smoothed idf (stable for small batches)."""
    df: Counter[str] = Counter()
    for counts in terms.values():
        df.update(counts.keys())
    n = len(terms)
    vectors = {}
    for key, counts in terms.items():
        vec = {
            t: (1 + math.log(c)) * (math.log((1 + n) / (1 + df[t])) + 1) for t, c in counts.items()
        }
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors[key] = {t: v / norm for t, v in vec.items()}
    return vectors


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Dot product of two unit vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def _strongest(links: Iterable[ArticleLink]) -> list[ArticleLink]:
    """Keep each unordered pair once, with its strongest relation."""
    best: dict[tuple[str, str], ArticleLink] = {}
    for link in links:
        key = _pair(link.article_id, link.other_article_id)
        if key not in best or STRENGTH[link.relation] < STRENGTH[best[key].relation]:
            best[key] = link
    return sorted(best.values(), key=lambda ln: (ln.article_id, ln.other_article_id))


def _components(ids: Sequence[str], links: Iterable[ArticleLink]) -> dict[str, str]:
    """Story id of every article: its linked group, named by the smallest member."""
    roots = components(ids, ((link.article_id, link.other_article_id) for link in links))
    return {i: short_hash(root) for i, root in roots.items()}


def stories(
    articles: Sequence[Article],
    mentions: Sequence[EntityMention] = (),
    entities: Sequence[Entity] = (),
    top: int = 5,
) -> list[Story]:
    """One Story per story id: representative title, outlets, dates and top entities."""
    story_of = {a.article_id: a.story_id or a.article_id for a in articles}
    members: dict[str, list[Article]] = defaultdict(list)
    for a in articles:
        members[story_of[a.article_id]].append(a)
    in_story: dict[str, list[EntityMention]] = defaultdict(list)
    for m in mentions:
        if m.article_id in story_of:
            in_story[story_of[m.article_id]].append(m)
    names = {e.entity_id: e.canonical_name for e in entities}
    return [
        _story(sid, group, _top_entities(in_story[sid], names, top))
        for sid, group in sorted(members.items())
    ]


def _top_entities(
    mentions: Sequence[EntityMention], names: Mapping[str, str], top: int
) -> tuple[str, ...]:
    """The story's most widely mentioned entities: most articles, then most mentions."""
    mentioned = Counter(m.entity_id for m in mentions)
    reach = Counter(entity for entity, _ in {(m.entity_id, m.article_id) for m in mentions})
    ranked = sorted(
        (e for e in mentioned if e in names), key=lambda e: (-reach[e], -mentioned[e], names[e])
    )
    return tuple(names[e] for e in ranked[:top])


def _story(story_id: str, group: Sequence[Article], top_entities: tuple[str, ...]) -> Story:
    """Summarize one story's articles."""
    dates = [a.published_at for a in group if a.published_at is not None]
    # The earliest dated titled article names the story; undated ones only when none is dated.
    titled = sorted(
        (a for a in group if a.title),
        key=lambda a: (a.published_at is None, a.published_at or UNDATED, a.source_uri),
    )
    return Story(
        story_id=story_id,
        title=titled[0].title if titled else None,
        article_count=len(group),
        outlets=tuple(sorted({a.outlet for a in group if a.outlet})),
        first_published_at=min(dates) if dates else None,
        last_published_at=max(dates) if dates else None,
        top_entities=top_entities,
    )
