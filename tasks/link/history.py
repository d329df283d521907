"""Across run dates: a date's history index, its links to other dates, and ids over all dates.

Everything here is a pure function of the committed dates it is given, so the links and ids
it decides do not depend on the order in which the dates were run.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz

from tasks.core.groups import components
from tasks.core.records import (
    Alias,
    Article,
    ArticleLink,
    Entity,
    EntityMention,
    Quote,
    Relation,
    short_hash,
)
from tasks.lexicon.people import person_key, surname, surname_owner
from tasks.link import dedup
from tasks.text.keys import normalize_name


class QuoteClusterRule(Protocol):
    """What linking quotes across dates needs of the quotes stage's settings."""

    @property
    def cluster_min_words(self) -> int: ...

    @property
    def cluster_min_ratio(self) -> float: ...


@dataclass(frozen=True)
class IndexedArticle:
    """What later runs compare an article with: a row of `article_index`."""

    article_id: str
    content_hash: str
    source_uri: str
    local_story_id: str
    story_name: str
    is_copy: bool
    published_at: datetime | None
    lead_weekday: int | None
    shingle_count: int
    shingle_samples: tuple[int, ...]
    terms: tuple[str, ...]
    vector_terms: tuple[str, ...]
    vector_weights: tuple[float, ...]
    cast_keys: tuple[str, ...]
    quote_keys: tuple[str, ...]


@dataclass(frozen=True)
class QuoteKey:
    """A word key of a date's quote cluster: a row of `quote_index`."""

    quote_cluster_id: str
    key: str
    trigrams: tuple[int, ...]


@dataclass(frozen=True)
class EntityKey:
    """A date's entity with its group key: a row of `entity_index`."""

    entity_id: str
    group_key: str
    label: str
    canonical_name: str
    mention_count: int


@dataclass(frozen=True)
class DateIndex:
    """The history index of one run date."""

    day: date
    articles: tuple[IndexedArticle, ...]
    quotes: tuple[QuoteKey, ...]
    entities: tuple[EntityKey, ...]


@dataclass(frozen=True)
class CrossLink:
    """A link between articles of two run dates: a row of `history_links`."""

    article_id: str
    article_run_date: date
    other_article_id: str
    other_run_date: date
    relation: Relation
    score: float


@dataclass(frozen=True)
class QuoteLink:
    """The same quote in clusters of two run dates: a row of `quote_links`."""

    quote_cluster_id: str
    cluster_run_date: date
    other_quote_cluster_id: str
    other_run_date: date


@dataclass(frozen=True)
class IdMapping:
    """A date's id and its value across dates: a row of `id_map`."""

    kind: str
    local_id: str
    global_id: str
    name: str | None = None


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (Python's own is salted per process)."""
    return zlib.crc32(text.encode())


def index_date(
    day: date,
    articles: Sequence[Article],
    mentions: Sequence[EntityMention],
    entities: Sequence[Entity],
    quotes: Sequence[Quote],
    settings: dedup.DedupSettings,
    quote_settings: QuoteClusterRule,
) -> DateIndex:
    """The history index of a date, from its own linked articles, mentions, entities and quotes."""
    ordered = sorted(articles, key=lambda a: (a.source_uri, a.article_id))
    originals = [a for a in ordered if a.duplicate_of is None]
    vectors = dedup.term_vectors(originals, settings)
    terms = {
        t: keys
        for t, keys in dedup.term_index(vectors, settings.candidate_terms).items()
        if len(keys) <= settings.max_term_articles
    }
    distinctive: dict[str, list[str]] = defaultdict(list)
    for term, keys in terms.items():
        for key in keys:
            distinctive[key].append(term)
    names: dict[str, str] = {}
    for a in ordered:
        story = a.story_id or a.article_id
        names[story] = min(names.get(story, a.article_id), a.article_id)
    group = {e.entity_id: e.group_key for e in entities}
    cast: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        if group.get(m.entity_id):
            cast[m.article_id].add(group[m.entity_id])
    said: dict[str, set[str]] = defaultdict(set)
    clusters: set[tuple[str, str]] = set()
    for q in quotes:
        key = normalize_name(q.text)
        said[q.article_id].add(key)
        clusters.add((q.quote_cluster_id, key))
    rows = []
    for a in ordered:
        vec = vectors.get(a.article_id, {})
        when = dedup.event_time(a, settings)
        shingles = dedup.shingles(a.body, settings.shingle_words)
        rows.append(
            IndexedArticle(
                article_id=a.article_id,
                content_hash=a.content_hash,
                source_uri=a.source_uri,
                local_story_id=a.story_id or a.article_id,
                story_name=names[a.story_id or a.article_id],
                is_copy=a.duplicate_of is not None,
                published_at=a.published_at,
                lead_weekday=when if isinstance(when, int) else None,
                shingle_count=len(shingles),
                shingle_samples=sampled(shingles, settings.sample_every),
                terms=tuple(sorted(distinctive.get(a.article_id, ()))),
                vector_terms=tuple(sorted(vec)),
                vector_weights=tuple(vec[t] for t in sorted(vec)),
                cast_keys=tuple(sorted(cast[a.article_id])),
                quote_keys=tuple(sorted(said[a.article_id])),
            )
        )
    quote_rows = tuple(
        QuoteKey(cluster, key, trigram_hashes(key, quote_settings.cluster_min_words))
        for cluster, key in sorted(clusters)
    )
    known = tuple(
        EntityKey(e.entity_id, e.group_key, e.label, e.canonical_name, e.mention_count)
        for e in sorted(entities, key=lambda e: e.entity_id)
        if e.group_key
    )
    return DateIndex(day, tuple(rows), quote_rows, known)


def sampled(shingles: Iterable[str], every: int) -> tuple[int, ...]:
    """The hashes of the shingles that fall in the sample: one in `every`, by hash."""
    return tuple(sorted({h for s in shingles if (h := stable_hash(s)) % every == 0}))


def trigram_hashes(key: str, min_words: int) -> tuple[int, ...]:
    """Hashes of a quote key's word trigrams, when it is long enough to match fuzzily."""
    words = key.split()
    if len(words) < min_words:
        return ()
    return tuple(sorted({stable_hash(" ".join(words[i : i + 3])) for i in range(len(words) - 2)}))


def _flat(table: pa.Table, column: str) -> tuple[np.ndarray, pa.Array]:
    """The row of each value of a list column, and the values."""
    col = table.column(column).combine_chunks()
    return pc.list_parent_indices(col).to_numpy(), pc.list_flatten(col)


# History rows joined at a time: a term distinctive on each of 60 dates pairs one article
# with thousands of rows, and the join of a whole window would hold them all at once.
JOIN_ROWS = 2_000


def _pairs(
    table: pa.Table,
    column: str,
    by_value: Mapping[Any, Sequence[int]],
    type_: pa.DataType,
    min_shared: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (current row, history row) sharing at least `min_shared` values of a list
    column, with how many; sorted by current row, then history row.

    A join in Arrow, a slice of history rows at a time: the history of a window has millions
    of values, too many for a loop, and their pairs too many to hold at once.
    """
    empty = np.array([], dtype=np.int64)
    if not by_value or table.num_rows == 0:
        return empty, empty, empty
    values = np.empty(len(by_value), dtype=np.int64 if type_ == pa.int64() else object)
    values[:] = list(by_value)
    counts = np.fromiter((len(cis) for cis in by_value.values()), np.int64, len(by_value))
    right = pa.table({"v": pa.array(np.repeat(values, counts), type_),
                      "ci": np.fromiter(chain.from_iterable(by_value.values()), np.int64,
                                        int(counts.sum()))})  # fmt: skip
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, table.num_rows, JOIN_ROWS):
        rows, values = _flat(table.slice(start, JOIN_ROWS), column)
        left = pa.table({"hi": pa.array(rows + start, pa.int64()), "v": values.cast(type_)})
        joined = left.join(right, keys="v", join_type="inner")
        if joined.num_rows == 0:
            continue
        counted = joined.group_by(["ci", "hi"]).aggregate([("v", "count")])
        n = counted.column("v_count").to_numpy()
        keep = n >= min_shared
        found.append((counted.column("ci").to_numpy()[keep], counted.column("hi").to_numpy()[keep],
                      n[keep]))  # fmt: skip
    if not found:
        return empty, empty, empty
    ci, hi, n = (np.concatenate(parts) for parts in zip(*found, strict=True))
    order = np.lexsort((hi, ci))
    return ci[order], hi[order], n[order]


def quote_links(
    day: date, current: Sequence[QuoteKey], history: pa.Table | None, settings: QuoteClusterRule
) -> tuple[list[QuoteLink], set[tuple[str, str]]]:
    """Quote clusters of other dates holding the same quote as one of this date's.

    `history` holds `quote_index` rows with their `run_date`. Returns the cluster links and
    the pairs of distinct keys that matched (this date's key first).
    """
    if not current or history is None or history.num_rows == 0:
        return [], set()
    hist_keys: list[str] = history.column("key").to_pylist()
    hist_clusters: list[str] = history.column("quote_cluster_id").to_pylist()
    hist_dates: list[date] = history.column("run_date").to_pylist()
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(current):
        by_key[q.key].append(i)
    found: set[tuple[int, int]] = {
        (ci, hi) for hi, key in enumerate(hist_keys) for ci in by_key.get(key, ())
    }
    by_gram: dict[int, list[int]] = defaultdict(list)
    for i, q in enumerate(current):
        for gram in q.trigrams:
            by_gram[gram].append(i)
    matched: set[tuple[str, str]] = set()
    cis, his, shared = _pairs(history, "trigrams", by_gram, pa.int64())
    sizes = pc.list_value_length(history.column("trigrams").combine_chunks()).to_pylist()
    for ci, hi, n in zip(cis.tolist(), his.tolist(), shared.tolist(), strict=True):
        a, b = current[ci].key, hist_keys[hi]
        if a == b or n < min(2, len(current[ci].trigrams), sizes[hi]):
            continue
        if fuzz.ratio(a, b) >= settings.cluster_min_ratio:
            found.add((ci, hi))
            matched.add((a, b))
    links = {
        QuoteLink(current[ci].quote_cluster_id, day, hist_clusters[hi], hist_dates[hi])
        for ci, hi in found
    }
    return sorted(links, key=_quote_link_key), matched


def _quote_link_key(link: QuoteLink) -> tuple[str, ...]:
    """Sort key of a quote link."""
    return (link.quote_cluster_id, link.other_run_date.isoformat(), link.other_quote_cluster_id)


def cross_links(
    day: date,
    current: Sequence[IndexedArticle],
    bodies: Mapping[str, str],
    history: pa.Table | None,
    history_bodies: Callable[[Mapping[date, set[str]]], dict[str, str]],
    heavy: Callable[[date, set[str]], Mapping[str, Any]],
    matched_quotes: set[tuple[str, str]],
    settings: dedup.DedupSettings,
) -> list[CrossLink]:
    """This date's articles linked to those of other dates, with the relations of a run.

    `history` holds light `article_index` rows with their `run_date`; `history_bodies` reads
    the bodies of the few history articles whose shared text must be verified, and `heavy`
    the vectors, casts and quote keys of a date's candidates. A pair is always
    judged with its later article first, so whichever of the two dates runs last finds the
    same link.
    """
    if not current or history is None or history.num_rows == 0:
        return []
    hist = _HistoryView(history)
    originals = [i for i, a in enumerate(current) if not a.is_copy]
    found: list[tuple[int, int, ArticleLink]] = []
    found += _exact(day, current, originals, hist)
    found += _shared_text(day, current, originals, bodies, hist, history_bodies, settings)
    similar = _similar_quotes(current, originals, matched_quotes)
    rewrites = _by_date(hist, _rewrite_candidates(current, originals, hist, similar))
    stories = _by_date(hist, _story_candidates(current, originals, hist, settings))
    # One read of each date's vectors for both kinds of candidates, held while that date's
    # pairs are scored: a window's candidates are tens of thousands of history rows.
    for when in sorted({*rewrites, *stories}):
        vectors = _Vectors(hist, heavy)
        of_rewrites, of_stories = rewrites.get(when, []), stories.get(when, [])
        vectors.load(hi for _, hi in [*of_rewrites, *of_stories])
        found += _rewrites(day, current, of_rewrites, similar, hist, vectors, settings)
        found += _same_story(day, current, of_stories, hist, vectors, settings)
    best: dict[tuple[int, int], tuple[int, int, ArticleLink]] = {}
    for ci, hi, link in found:
        old = best.get((ci, hi))
        if old is None or dedup.STRENGTH[link.relation] < dedup.STRENGTH[old[2].relation]:
            best[ci, hi] = (ci, hi, link)
    dates = {current[ci].article_id: day for ci, _, _ in best.values()}
    dates.update({hist.ids[hi]: hist.dates[hi] for _, hi, _ in best.values()})
    links = [
        CrossLink(ln.article_id, dates[ln.article_id], ln.other_article_id,
                  dates[ln.other_article_id], ln.relation, ln.score)
        for _, _, ln in best.values()
    ]  # fmt: skip
    return sorted(links, key=_link_key)


def _by_date(
    hist: _HistoryView, pairs: Iterable[tuple[int, int]]
) -> dict[date, list[tuple[int, int]]]:
    """Candidate pairs by the run date of their history row."""
    out: dict[date, list[tuple[int, int]]] = defaultdict(list)
    for ci, hi in pairs:
        out[hist.dates[hi]].append((ci, hi))
    return out


def _link_key(link: CrossLink) -> tuple[str, ...]:
    """Sort key of a cross-date link."""
    return (link.article_run_date.isoformat(), link.article_id, link.other_article_id)


class _HistoryView:
    """Plain columns of the history index, read once."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.ids: list[str] = table.column("article_id").to_pylist()
        self.dates: list[date] = table.column("run_date").to_pylist()
        self.copies: list[bool] = table.column("is_copy").to_pylist()
        self.hashes: list[str] = table.column("content_hash").to_pylist()
        self._copies = np.array(self.copies, dtype=bool)

    def distinct(
        self, current: Sequence[IndexedArticle], cis: np.ndarray, his: np.ndarray
    ) -> np.ndarray:
        """Which pairs are worth comparing: not a copy within its date, not an exact copy."""
        codes = {a.content_hash: i for i, a in enumerate(current)}
        mine = np.array([codes[a.content_hash] for a in current], dtype=np.int64)
        theirs = np.array([codes.get(h, -1) for h in self.hashes], dtype=np.int64)
        keep: np.ndarray = (~self._copies[his]) & (mine[cis] != theirs[his])
        return keep


class _Vectors:
    """TF-IDF vectors, casts and quote keys of history rows, read only for candidates."""

    def __init__(self, hist: _HistoryView, read: Callable[[date, set[str]], Mapping[str, Any]]):
        self.hist = hist
        self.read = read
        self.cache: dict[int, tuple[dict[str, float], frozenset[str], frozenset[str]]] = {}

    def load(self, rows: Iterable[int]) -> None:
        """Read the given rows' vectors, a date at a time."""
        wanted: dict[date, dict[str, int]] = defaultdict(dict)
        for row in set(rows) - set(self.cache):
            wanted[self.hist.dates[row]][self.hist.ids[row]] = row
        for day, ids in sorted(wanted.items()):
            found = self.read(day, set(ids))
            for article_id, row in ids.items():
                values = found.get(article_id)
                if values is None:
                    self.cache[row] = ({}, frozenset(), frozenset())
                    continue
                vec = dict(zip(values["vector_terms"], values["vector_weights"], strict=True))
                self.cache[row] = (
                    vec,
                    frozenset(values["cast_keys"]),
                    frozenset(values["quote_keys"]),
                )

    def get(self, row: int) -> tuple[dict[str, float], frozenset[str], frozenset[str]]:
        """One row's vector, cast and quote keys."""
        self.load([row])
        return self.cache[row]


def _ordered(
    day: date, a: IndexedArticle, hist: _HistoryView, hi: int
) -> tuple[tuple[str, date], tuple[str, date]]:
    """The two articles of a pair, later run date first."""
    mine, theirs = (a.article_id, day), (hist.ids[hi], hist.dates[hi])
    return (mine, theirs) if day > hist.dates[hi] else (theirs, mine)


def _exact(
    day: date, current: Sequence[IndexedArticle], originals: Sequence[int], hist: _HistoryView
) -> list[tuple[int, int, ArticleLink]]:
    """Exact copies: the later article duplicates the earlier."""
    by_hash: dict[str, list[int]] = defaultdict(list)
    for ci in originals:
        by_hash[current[ci].content_hash].append(ci)
    out = []
    for hi, content in enumerate(hist.hashes):
        if hist.copies[hi]:
            continue
        for ci in by_hash.get(content, ()):
            (later, _), (earlier, _) = _ordered(day, current[ci], hist, hi)
            out.append((ci, hi, ArticleLink(later, earlier, "exact_duplicate", 1.0)))
    return out


def _shared_text(
    day: date,
    current: Sequence[IndexedArticle],
    originals: Sequence[int],
    bodies: Mapping[str, str],
    hist: _HistoryView,
    history_bodies: Callable[[Mapping[date, set[str]]], dict[str, str]],
    settings: dedup.DedupSettings,
) -> list[tuple[int, int, ArticleLink]]:
    """Near duplicates and excerpts: pairs sharing sampled shingles, verified on their text."""
    by_sample: dict[int, list[int]] = defaultdict(list)
    for ci in originals:
        for h in current[ci].shingle_samples:
            by_sample[h].append(ci)
    if not by_sample:
        return []
    cis, his, shared = _pairs(hist.table, "shingle_samples", by_sample, pa.int64())
    sizes = pc.list_value_length(hist.table.column("shingle_samples").combine_chunks())
    own_sizes = np.array([len(a.shingle_samples) for a in current], dtype=np.int64)
    smaller = np.minimum(own_sizes[cis], sizes.to_numpy(zero_copy_only=False)[his])
    floor = settings.excerpt_containment - settings.history_estimate_slack
    keep = hist.distinct(current, cis, his) & (shared >= floor * np.maximum(smaller, 1))
    pairs = list(zip(cis[keep].tolist(), his[keep].tolist(), strict=True))
    mine: dict[int, set[str]] = {}
    by_row: dict[int, list[int]] = defaultdict(list)
    for ci, hi in pairs:
        by_row[hi].append(ci)
    by_date: dict[date, list[int]] = defaultdict(list)
    for hi in by_row:
        by_date[hist.dates[hi]].append(hi)
    out = []
    # A date's bodies at a time, and each history article's shingles only while its pairs
    # are verified: a window of wire copies has thousands of candidates.
    for when, rows in sorted(by_date.items()):
        texts = history_bodies({when: {hist.ids[hi] for hi in rows}})
        for hi in rows:
            theirs = dedup.shingles(texts.get(hist.ids[hi], ""), settings.shingle_words)
            for ci in by_row[hi]:
                if ci not in mine:
                    body = bodies.get(current[ci].article_id, "")
                    mine[ci] = dedup.shingles(body, settings.shingle_words)
                (later, _), (earlier, _) = _ordered(day, current[ci], hist, hi)
                sets = (mine[ci], theirs) if later == current[ci].article_id else (theirs, mine[ci])
                link = dedup.verify(later, sets[0], earlier, sets[1], settings)
                if link is not None:
                    out.append((ci, hi, link))
    return out


def _time(a: IndexedArticle | tuple[datetime | None, int | None]) -> date | int | None:
    """An article's event time: its publication date, else the weekday its lead names."""
    published, weekday = (a.published_at, a.lead_weekday) if isinstance(a, IndexedArticle) else a
    return published.date() if published is not None else weekday


def _story_candidates(
    current: Sequence[IndexedArticle],
    originals: Sequence[int],
    hist: _HistoryView,
    settings: dedup.DedupSettings,
) -> list[tuple[int, int]]:
    """Same-story candidates: sharing distinctive terms, and close in time."""
    by_term: dict[str, list[int]] = defaultdict(list)
    for ci in originals:
        for term in current[ci].terms:
            by_term[term].append(ci)
    cis, his, _ = _pairs(hist.table, "terms", by_term, pa.string(),
                         settings.history_min_shared_terms)  # fmt: skip
    keep = hist.distinct(current, cis, his)
    if not keep.any():
        return []
    published = hist.table.column("published_at").to_pylist()
    weekdays = hist.table.column("lead_weekday").to_pylist()
    return [
        (ci, hi)
        for ci, hi in zip(cis[keep].tolist(), his[keep].tolist(), strict=True)
        if dedup.same_time(_time(current[ci]), _time((published[hi], weekdays[hi])),
                           settings.story_window_days)
    ]  # fmt: skip


def _same_story(
    day: date,
    current: Sequence[IndexedArticle],
    candidates: Sequence[tuple[int, int]],
    hist: _HistoryView,
    vectors: _Vectors,
    settings: dedup.DedupSettings,
) -> list[tuple[int, int, ArticleLink]]:
    """Same-story pairs: candidates alike in TF-IDF."""
    out = []
    for ci, hi in candidates:
        score = _pair_cosine(day, current[ci], hist, hi, vectors)
        if score >= settings.same_story_cosine:
            (later, _), (earlier, _) = _ordered(day, current[ci], hist, hi)
            out.append((ci, hi, ArticleLink(later, earlier, "same_story", round(score, 6))))
    return out


def _vector(a: IndexedArticle) -> dict[str, float]:
    """An indexed article's TF-IDF vector, in term order."""
    return dict(zip(a.vector_terms, a.vector_weights, strict=True))


def _pair_cosine(
    day: date, a: IndexedArticle, hist: _HistoryView, hi: int, vectors: _Vectors
) -> float:
    """Cosine of a pair, summed with the later article first: the same float whoever asks."""
    mine, theirs = _vector(a), vectors.get(hi)[0]
    later, earlier = (mine, theirs) if day > hist.dates[hi] else (theirs, mine)
    if not later or not earlier:
        return 0.0
    return sum(v * earlier.get(t, 0.0) for t, v in later.items())


def _similar_quotes(
    current: Sequence[IndexedArticle], originals: Sequence[int], matched: set[tuple[str, str]]
) -> dict[str, set[str]]:
    """For each quote key, this date's keys that are the same quote (itself, or matched)."""
    similar: dict[str, set[str]] = defaultdict(set)
    for ci in originals:
        for key in current[ci].quote_keys:
            similar[key].add(key)
    for my_key, their_key in matched:
        similar[their_key].add(my_key)
    return similar


def _rewrite_candidates(
    current: Sequence[IndexedArticle],
    originals: Sequence[int],
    hist: _HistoryView,
    similar: Mapping[str, set[str]],
) -> list[tuple[int, int]]:
    """Rewrite candidates: pairs reporting a quote in common."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for ci in originals:
        for key in current[ci].quote_keys:
            by_key[key].append(ci)
    through = {theirs: sorted({ci for mine in keys for ci in by_key[mine]})
               for theirs, keys in similar.items()}  # fmt: skip
    cis, his, _ = _pairs(hist.table, "quote_keys", through, pa.string())
    keep = hist.distinct(current, cis, his)
    return list(zip(cis[keep].tolist(), his[keep].tolist(), strict=True))


def _rewrites(
    day: date,
    current: Sequence[IndexedArticle],
    candidates: Sequence[tuple[int, int]],
    similar: Mapping[str, set[str]],
    hist: _HistoryView,
    vectors: _Vectors,
    settings: dedup.DedupSettings,
) -> list[tuple[int, int, ArticleLink]]:
    """Rewrites: candidates sharing most quotes and most of their cast, their words alike."""
    out = []
    for ci, hi in candidates:
        _, cast, said = vectors.get(hi)
        mine = set(current[ci].quote_keys)
        theirs_matched = {k for k in said if similar.get(k, set()) & mine}
        mine_matched = {k for k in mine if any(k in similar.get(t, ()) for t in said)}
        shared = min(len(theirs_matched), len(mine_matched))
        own_cast = set(current[ci].cast_keys)
        entities = len(cast & own_cast) / (len(cast | own_cast) or 1)
        score = _pair_cosine(day, current[ci], hist, hi, vectors)
        if (
            shared >= settings.rewrite_min_quotes
            and shared >= settings.rewrite_quote_share * min(len(mine), len(said))
            and entities >= settings.rewrite_entity_jaccard
            and score >= settings.rewrite_cosine
        ):
            (later, _), (earlier, _) = _ordered(day, current[ci], hist, hi)
            out.append((ci, hi, ArticleLink(later, earlier, "rewrite", round(score, 6))))
    return out


Node = tuple[date, str]  # a run date and an id within it (a story, a quote cluster)


def merged_ids(names: Mapping[Node, str], edges: Iterable[tuple[Node, Node]]) -> dict[Node, str]:
    """The id across dates of each node: the hash of the smallest name in its linked group.

    A node's name is what its id within its date is the hash of (a story's smallest
    article id, a quote cluster's smallest key), so a group within one date keeps its id.
    """
    keys = {node: f"{node[0].isoformat()}|{node[1]}" for node in names}
    nodes = {key: node for node, key in keys.items()}
    roots = components(
        sorted(nodes), ((keys[a], keys[b]) for a, b in edges if a in keys and b in keys)
    )
    smallest: dict[str, str] = {}
    for key, root in roots.items():
        name = names[nodes[key]]
        smallest[root] = min(smallest.get(root, name), name)
    return {nodes[key]: short_hash(smallest[root]) for key, root in roots.items()}


@dataclass(frozen=True)
class Copy:
    """An article as the earliest-copy rule sees it."""

    day: date
    source_uri: str
    article_id: str
    content_hash: str


def earliest_copies(
    targets: Iterable[Copy], pool: Iterable[Copy], history_days: int
) -> dict[str, str]:
    """The earliest copy on an earlier run date (within `history_days`) of each target."""
    by_hash: dict[str, list[Copy]] = defaultdict(list)
    for c in pool:
        by_hash[c.content_hash].append(c)
    out = {}
    for t in targets:
        earlier = [
            c for c in by_hash.get(t.content_hash, ()) if 0 < (t.day - c.day).days <= history_days
        ]
        if earlier:
            out[t.article_id] = min(
                earlier, key=lambda c: (c.day, c.source_uri, c.article_id)
            ).article_id
    return out


@dataclass(frozen=True)
class AliasTable:
    """The alias file as name keys: alias -> canonical key, label, and display name."""

    target: dict[str, str]  # an alias's name key -> its canonical name key
    people: dict[str, str]  # the same, keyed as person groups are (first and last name)
    label: dict[str, str]
    display: dict[str, str]

    @classmethod
    def of(cls, aliases: Sequence[Alias]) -> AliasTable:
        """Key the alias file's rows."""
        target = {normalize_name(a.name): normalize_name(a.canonical) for a in aliases}
        people = {person_key(name): canonical for name, canonical in target.items()}
        label = {normalize_name(a.canonical): a.label for a in aliases if a.label}
        display = {normalize_name(a.canonical): a.canonical for a in aliases}
        return cls(target, people, label, display)


def aliased(group_key: str, aliases: AliasTable) -> tuple[str, str | None]:
    """A group key after the alias file, and the file's display name when it names it.

    A person's group holds only first and last name, so the file's names are matched that
    way too ("Antony J. Blinken" names the group of "Antony Blinken").
    """
    if not aliases.target:
        return group_key, None
    label, _, name = group_key.partition(":")
    names = aliases.people if label == "PERSON" else aliases.target
    canonical = names.get(name, aliases.target.get(name, name))
    label = aliases.label.get(canonical, label)
    display = aliases.display.get(canonical)
    if label == "PERSON":
        canonical = person_key(canonical)
        display = display or next(
            (d for k, d in aliases.display.items() if person_key(k) == canonical), None
        )
    return f"{label}:{canonical}", display


def is_bare_surname(group_key: str) -> bool:
    """A person group of one word: a surname its date could not tie to one full name."""
    label, _, name = group_key.partition(":")
    return label == "PERSON" and len(name.split()) == 1


def resolve_entities(
    targets: Iterable[tuple[date, EntityKey]],
    people: Iterable[tuple[date, EntityKey]],
    aliases: AliasTable,
    history_days: int,
    share: float,
) -> dict[Node, IdMapping]:
    """Each target entity's id across dates.

    An aliased name takes the alias file's entity; a bare surname takes the full-name person
    of that surname within `history_days` run dates when one is named there, or clearly
    dominates those named there (`share` of their mentions); everything else keeps its id.
    """
    named: dict[str, list[tuple[date, str, int]]] = defaultdict(list)
    for day, e in people:
        key, _ = aliased(e.group_key, aliases)
        label, _, name = key.partition(":")
        if label == "PERSON" and len(name.split()) >= 2:
            last = surname(name)
            if last is not None:
                named[last].append((day, key, e.mention_count))
    out: dict[Node, IdMapping] = {}
    for day, e in targets:
        key, display = aliased(e.group_key, aliases)
        if display is None and is_bare_surname(key):
            counts: Counter[str] = Counter()
            for when, full, n in named.get(key.partition(":")[2], ()):
                if abs((when - day).days) <= history_days:
                    counts[full] += n
            owner = surname_owner(counts, share) if counts else None
            if owner is not None:
                key, display = owner, aliases.display.get(owner.partition(":")[2])
        out[day, e.entity_id] = IdMapping("entity", e.entity_id, short_hash(key), display)
    return out
