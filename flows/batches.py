"""A run's batches through the stages: each batch carries its own results and rejects."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from prefect import get_run_logger

from flows import progress
from flows.context import Context, InvariantError
from flows.runtime import B, Sealed, batched, sealed
from flows.steps import (
    canonicalize_entities,
    clean_batch,
    cluster_quotes,
    gender_people,
    ingest_batch,
    load_reused,
    mentions_batch,
    normalize_batch,
    quotes_batch,
)
from tasks.core.records import (
    Article,
    Entity,
    EntityMention,
    Mention,
    ParsedBatch,
    Quote,
    Reject,
)
from tasks.ingest import Input, PageReader
from tasks.store import reuse


@dataclass(frozen=True)
class Collected:
    """The run's inputs once read, with the new ones cleaned and normalized."""

    inputs: int
    order: list[str]  # the source hash of each article, in input order
    new: dict[str, Article]  # articles this run made, by source hash
    stored: dict[str, reuse.Stored]  # articles already in the warehouse, by source hash
    rejects: list[Reject]

    def article_ids(self) -> list[str]:
        """The articles' ids in input order."""
        return [self.new[h].article_id if h in self.new else self.stored[h].article_id
                for h in self.order]  # fmt: skip


@dataclass(frozen=True)
class Prepared:
    """The run's articles in input order, which of them were reused, and its rejects."""

    inputs: int
    articles: list[Article]
    rejects: list[Reject]
    reused: reuse.Reused


@dataclass(frozen=True)
class Batch:
    """One batch of inputs on its way through ingest, clean and normalize, with its rejects."""

    paths: int  # the inputs of the batch (files, WARC records)
    inputs: int  # documents read and inputs rejected by ingest
    hashes: tuple[str, ...]  # the source hash of each document read, in input order
    rejects: tuple[Reject, ...]  # what each stage so far gave up of it

    def rejected(self, rejects: Iterable[Reject]) -> Batch:
        """The batch with a stage's rejects added."""
        return replace(self, rejects=(*self.rejects, *rejects))


def collect(
    ctx: Context,
    root: Path | None,
    paths: Sequence[Input],
    salts: Mapping[str, str],
    pages: PageReader | None = None,
) -> Collected:
    """Ingest every input in batches; clean and normalize only those not in the warehouse yet."""
    log = get_run_logger()
    known = reuse.index(ctx.warehouse, ctx.commits)
    # Publication dates after the logical day are impossible for that day's collection.
    reference_time = datetime.combine(ctx.day + timedelta(days=1), time(), tzinfo=UTC)
    s = ctx.settings

    read = 0

    def to_clean() -> Iterator[tuple[Batch, tuple[Any, ...] | None]]:
        nonlocal read
        for chunk in batched(paths, s.batch_size):
            # Read here, not on workers: remote workers need no access to the input folder,
            # and a batch with nothing new is not submitted, so an up-to-date rerun starts
            # no cluster.
            raw, bad = ingest_batch(Sealed(chunk), root, s, salts, pages)
            fresh = [d for d in raw if d.source_hash not in known]
            batch = Batch(len(chunk), len(raw) + len(bad), tuple(d.source_hash for d in raw),
                          tuple(bad))  # fmt: skip
            read += len(chunk)
            progress.report("read", read, len(paths))
            yield batch, (fresh, s) if fresh else None

    def to_normalize() -> Iterator[tuple[Batch, tuple[Any, ...] | None]]:
        for batch, cleaned in stream(clean_batch, to_clean(), ctx):
            if cleaned is None:
                yield batch, None
            else:
                docs, bad = cleaned
                yield batch.rejected(bad), (docs, s, reference_time)

    out = Collected(0, [], {}, {}, [])
    inputs = prepared = 0
    for batch, normalized in stream(normalize_batch, to_normalize(), ctx):
        prepared += batch.paths
        progress.report("prepare", prepared, len(paths))
        new, bad = normalized or ([], [])
        out.new.update((a.source_hash, a) for a in new)
        for h in batch.hashes:
            if h in known:
                out.stored[h] = known[h]
            if h in out.stored or h in out.new:
                out.order.append(h)
        out.rejects.extend(batch.rejected(bad).rejects)
        inputs += batch.inputs
    log.info("%d inputs -> %d articles (%d already in the warehouse), %d rejects",
             inputs, len(out.order), len(out.stored), len(out.rejects))  # fmt: skip
    if inputs != len(out.order) + len(out.rejects):
        raise InvariantError(
            f"inputs {inputs} != articles {len(out.order)} + rejects {len(out.rejects)}"
        )
    return replace(out, inputs=inputs)


def prepare(ctx: Context, collected: Collected) -> Prepared:
    """Read back the stored articles' rows and put every article in input order."""
    stored = list(collected.stored.values())
    reused = (
        load_reused(ctx.warehouse, Sealed(stored), ctx.commits)
        if stored
        else reuse.Reused({}, {}, {})
    )
    articles = [collected.new.get(h) or reused.articles[h] for h in collected.order]
    return Prepared(collected.inputs, articles, collected.rejects, reused)


def stream(
    fn: Any, calls: Iterable[tuple[B, tuple[Any, ...] | None]], ctx: Context
) -> Iterator[tuple[B, Any]]:
    """Call a task on each batch and yield each batch with its result, in order.

    A batch without arguments passes through with None. Up to two batches per worker are in
    flight: a worker that finishes takes the next batch at once instead of waiting for the
    slowest of a window (2.5 s of every 30 s window of two 500-article parses), and only
    those few batches' inputs and results wait in memory.
    """
    if ctx.concurrency == 1:
        for batch, args in calls:
            yield batch, None if args is None else fn(*map(sealed, args))
        return
    in_flight: deque[tuple[B, Any]] = deque()

    def done(batch: B, pending: Any) -> tuple[B, Any]:
        return batch, None if pending is None else pending.result()

    for batch, args in calls:
        if len(in_flight) == 2 * ctx.concurrency:
            yield done(*in_flight.popleft())
        in_flight.append((batch, None if args is None else fn.submit(*map(sealed, args))))
    while in_flight:
        yield done(*in_flight.popleft())


def analyse(
    ctx: Context, prepared: Prepared
) -> tuple[Prepared, list[EntityMention], list[Entity], list[Quote]]:
    """Parse the new articles once for mentions, merge entities run-wide, then find quotes.

    An article either stage fails on leaves the run as a reject, with its mentions.
    """
    reused_ids = {a.article_id for a in prepared.reused.articles.values()}
    new = [a for a in prepared.articles if a.article_id not in reused_ids]
    s = ctx.settings
    found: dict[str, list[Mention]] = defaultdict(list, prepared.reused.mentions)
    parsed: list[tuple[Sequence[Article], ParsedBatch]] = []
    failed: list[Reject] = []
    warnings: dict[str, list[str]] = defaultdict(list)
    chunks = ((chunk, (chunk, s)) for chunk in batched(new, s.batch_size))
    done = 0
    for chunk, batch in stream(mentions_batch, chunks, ctx):
        done += len(chunk)
        progress.report("entities", done, len(new))
        for m in batch.mentions:
            found[m.article_id].append(m)
        for article_id, warning in batch.warnings:
            warnings[article_id].append(warning)
        failed += batch.rejects
        analysed = set(batch.parsed.article_ids)
        parsed.append(([a for a in chunk if a.article_id in analysed], batch.parsed))
    prepared = without(prepared, failed, warnings)
    # Article order, as a run that extracted every article would have them.
    ordered = [m for a in prepared.articles for m in found.get(a.article_id, ())]
    linked, known = canonicalize_entities(Sealed(ordered), Sealed(prepared.articles), s)
    quoted: dict[str, list[Quote]] = defaultdict(list, prepared.reused.quotes)
    by_article: dict[str, list[EntityMention]] = defaultdict(list)
    for em in linked:
        by_article[em.article_id].append(em)
    # Each batch gets only its own mentions: the run's would be shipped to every worker.
    calls = ((chunk, (chunk, batch, [m for a in chunk for m in by_article[a.article_id]], known, s))
             for chunk, batch in parsed)  # fmt: skip
    failed, done, todo = [], 0, sum(len(chunk) for chunk, _ in parsed)
    for chunk, (quotes_found, rejects) in stream(quotes_batch, calls, ctx):
        done += len(chunk)
        progress.report("quotes", done, todo)
        failed += rejects
        for q in quotes_found:
            quoted[q.article_id].append(q)
    if failed:  # rare: merge again without the rejected articles' mentions
        prepared = without(prepared, failed, {})
        keep = {a.article_id for a in prepared.articles}
        before = [m for m in linked if m.article_id in keep]
        kept = [m for m in ordered if m.article_id in keep]
        linked, known = canonicalize_entities(Sealed(kept), Sealed(prepared.articles), s)
        quoted = remap_speakers(quoted, before, linked, known)
    ordered_quotes = [q for a in prepared.articles for q in quoted.get(a.article_id, ())]
    clustered = cluster_quotes(Sealed(ordered_quotes), s)
    return prepared, linked, gender_people(Sealed(known), Sealed(clustered)), clustered


def without(
    prepared: Prepared, failed: Sequence[Reject], warnings: Mapping[str, Sequence[str]]
) -> Prepared:
    """The run without the articles a later stage rejected, and with its warnings added."""
    if not failed and not warnings:
        return prepared
    gone = {r.source_uri for r in failed}
    articles = [
        replace(a, warnings=a.warnings + tuple(warnings[a.article_id]))
        if a.article_id in warnings else a
        for a in prepared.articles
        if a.source_uri not in gone
    ]  # fmt: skip
    return replace(prepared, articles=articles, rejects=[*prepared.rejects, *failed])


def remap_speakers(
    quoted: Mapping[str, list[Quote]],
    before: Sequence[EntityMention],
    after: Sequence[EntityMention],
    known: Sequence[Entity],
) -> dict[str, list[Quote]]:
    """Point quotes' speakers at the entities of a merge redone without rejected articles.

    `before` and `after` are the same mentions, linked by the first merge and by the second.
    """
    moved = {old.entity_id: new.entity_id for old, new in zip(before, after, strict=True)}
    names = {e.entity_id: e.canonical_name for e in known}
    out: dict[str, list[Quote]] = {}
    for article_id, found in quoted.items():
        out[article_id] = [
            replace(q, speaker_entity_id=moved[q.speaker_entity_id],
                    speaker=names.get(moved[q.speaker_entity_id], q.speaker))
            if q.speaker_entity_id in moved else q
            for q in found
        ]  # fmt: skip
    return out
