"""The news_etl Prefect flow: thin tasks, each calling one stage function on a whole batch."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar, overload
from unittest.mock import patch

import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.deployments.runner import RunnerDeployment
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL
from prefect.tasks import exponential_backoff

from flows import BLAS_THREADS, outside_run_dates
from tasks import clean, entities, ingest, link, normalize, quotes
from tasks import warehouse as views
from tasks.core.records import (
    Article,
    ArticleLink,
    CleanDocument,
    Entity,
    EntityMention,
    Mention,
    MentionBatch,
    ParsedBatch,
    Quote,
    RawDocument,
    Reject,
    RunOutput,
    RunStatus,
    RunSummary,
    Story,
)
from tasks.core.safety import RejectError
from tasks.settings import Settings, extraction_fingerprints, run_fingerprint
from tasks.store import reuse, write

T = TypeVar("T")
LOOPBACK = "127.0.0.1"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# The user's alias file, beside the Parquet tables: one alias per line, applied every run.
ALIAS_FILE = "aliases.csv"


def transient(task: Any, task_run: Any, state: Any) -> bool:
    """Whether a failed load or write is worth another try: a file-system error may pass."""
    try:
        state.result()
    except OSError:
        return True
    except BaseException:  # a deterministic error fails the same way every time
        return False
    return False


# Loads and writes touch the file system, where a transient error (NFS, a full disk being
# freed) is worth waiting for: three tries, 2 s then 4 s apart, with jitter.
IO_RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": exponential_backoff(2),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": transient,
}


class InvariantError(Exception):
    """The run lost track of an input: inputs != articles + rejects."""


class DataCheckError(Exception):
    """An error-level data-quality check found rows; the run is not committed."""


class EmptyInputError(Exception):
    """A date with committed articles has no input now; replacing them needs --allow-empty."""


def check_run_date(day: date) -> date:
    """The logical date, if within the accepted range; else a ValueError that says so."""
    refused = outside_run_dates(day)
    if refused:
        raise ValueError(f"run date {refused}")
    return day


class Sealed(Sequence[T]):
    """A read-only sequence of records that Prefect hands to a task without walking it.

    Prefect looks inside list, tuple, dict and dataclass arguments for futures to resolve,
    which takes 2.3 s for a list of 50,000 mentions; this is none of those. Prefect's own
    `quote` and `opaque` are tuples, and Dask sends them to a worker as plain tuples.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[T]) -> None:
        self._items = tuple(items)

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self._items[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)


def identity_token(value: object) -> tuple[str, int]:
    """A task argument's Dask token: which object it is, not what it holds.

    Dask names each submitted call by a token of its arguments, which for records it takes
    by pickling and unpickling them twice: 130 ms for a batch's mentions, 80 ms for its
    DocBin, on every submit and in the flow process that feeds the workers. Every Prefect
    call carries a new task run id besides, so the name stays unique.
    """
    return (type(value).__name__, id(value))


def register_dask_tokens() -> None:
    """Give the batch records Dask sees as task arguments their identity as token."""
    from dask.tokenize import normalize_token

    normalize_token.register((Sealed, ParsedBatch))(identity_token)  # type: ignore[no-untyped-call]


def _sealed(value: Any) -> Any:
    """A list or tuple argument sealed; anything else as it is."""
    return Sealed(value) if isinstance(value, list | tuple) else value


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Split a sequence into consecutive batches."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def ingest_batch(
    paths: Sequence[Path], input_dir: Path, settings: Settings, salts: Mapping[str, str]
) -> tuple[list[RawDocument], list[Reject]]:
    """Read and decode a batch of input files."""
    return ingest.read_inputs(paths, input_dir, settings.ingest, salts)


@task(cache_policy=NO_CACHE)
def clean_batch(
    docs: Sequence[RawDocument], settings: Settings
) -> tuple[list[CleanDocument], list[Reject]]:
    """Remove boilerplate from a batch."""
    return clean.clean_documents(docs, settings.clean)


@task(cache_policy=NO_CACHE)
def normalize_batch(
    docs: Sequence[CleanDocument], settings: Settings, reference_time: datetime
) -> tuple[list[Article], list[Reject]]:
    """Normalize text and metadata of a batch."""
    return normalize.normalize_documents(docs, settings.normalize, reference_time)


@task(cache_policy=NO_CACHE)
def mentions_batch(articles: Sequence[Article], settings: Settings) -> MentionBatch:
    """Parse a batch once and find its entity mentions."""
    return entities.extract_mentions(articles, settings.entities)


@task(cache_policy=NO_CACHE)
def canonicalize_entities(
    mentions: Sequence[Mention], articles: Sequence[Article], settings: Settings
) -> tuple[list[EntityMention], list[Entity]]:
    """Merge the run's mentions into canonical entities."""
    published = {a.article_id: a.published_at for a in articles if a.published_at is not None}
    return entities.canonicalize(mentions, settings.entities, published)


@task(cache_policy=NO_CACHE)
def quotes_batch(
    articles: Sequence[Article],
    parsed: ParsedBatch,
    mentions: Sequence[EntityMention],
    known: Sequence[Entity],
    settings: Settings,
) -> tuple[list[Quote], list[Reject]]:
    """Extract quotes and speakers from a parsed batch."""
    return quotes.extract_quotes(articles, parsed, mentions, known, settings.quotes)


@task(cache_policy=NO_CACHE)
def cluster_quotes(found: Sequence[Quote], settings: Settings) -> list[Quote]:
    """Give the same quote reported by several articles of the run one cluster id."""
    return quotes.cluster_quotes(found, settings.quotes)


@task(cache_policy=NO_CACHE)
def link_articles(
    articles: Sequence[Article],
    mentions: Sequence[EntityMention],
    known: Sequence[Entity],
    found: Sequence[Quote],
    settings: Settings,
) -> tuple[list[Article], list[ArticleLink], list[Story]]:
    """Link duplicates, excerpts, rewrites and stories across the run."""
    return link.link_articles(articles, settings.dedup, mentions, found, known)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def load_reused(
    warehouse: Path, wanted: Sequence[reuse.Stored], commits: write.Commits | None
) -> reuse.Reused:
    """Read back the rows of articles already in the warehouse."""
    return reuse.load(warehouse, wanted, commits)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def link_history(
    warehouse: Path,
    day: date,
    articles: Sequence[Article],
    mentions: Sequence[EntityMention],
    known: Sequence[Entity],
    found: Sequence[Quote],
    settings: link.AcrossSettings,
    run_id: str,
    attempt: str,
    commits: write.Commits | None,
) -> link.HistoryStore:
    """Index the run's date, link it to the dates around it, and merge ids across dates.

    The files it writes belong to the attempt: they count once its `runs` row commits them.
    """
    index = link.index_date(day, articles, mentions, known, found, settings.dedup,
                               settings.quotes)  # fmt: skip
    store = link.HistoryStore.open(warehouse, day, attempt, commits)
    link.link_history(store, index, {a.article_id: a.body for a in articles}, settings, run_id)
    return store


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def write_warehouse(
    warehouse: Path,
    tables: dict[str, pa.Table],
    run_date: date,
    attempt: str,
    staged: Mapping[tuple[str, date], pa.Table],
) -> dict[str, int]:
    """Write the run's files, those it staged for other dates, then commit with the `runs` row.

    The commit is the last step that can fail.
    """
    for (name, day), table in sorted(staged.items(), key=lambda item: (item[0][1], item[0][0])):
        write.write_partition(warehouse, name, table, day, attempt)
    return write.write_tables(warehouse, tables, run_date, attempt)


@task(cache_policy=NO_CACHE)
def check_tables(tables: dict[str, pa.Table], run_id: str, checks: Sequence[Path]) -> list[str]:
    """Run the data-quality checks on the run's tables before they are committed."""
    with views.connect_tables(tables, run_id) as con:
        results = views.run_checks(con, checks)
    failed = [r for r in results if r.fails_run]
    if failed:
        raise DataCheckError("; ".join(
            f"check {r.name} failed: {r.failing_rows} rows (first: {r.sample})" for r in failed
        ))  # fmt: skip
    return [f"{r.name}: {r.failing_rows} rows" for r in results if r.failing_rows]


def logical_date(run_date: date | None) -> date:
    """The run's logical date: given, else the scheduled start of a deployment run, else today."""
    if run_date is not None:
        return run_date
    scheduled = flow_run.scheduled_start_time
    return scheduled.date() if scheduled is not None else datetime.now(UTC).date()


@dataclass(frozen=True)
class Context:
    """What every step of one run needs besides its data."""

    input_dir: Path
    warehouse: Path
    day: date
    settings: Settings
    started: datetime
    concurrency: int  # batches in flight at once (1: one after the other, in this process)
    allow_empty: bool = False  # a date with committed articles may be emptied by no input
    # The warehouse's commits as the run found them: read once, by every step before its own.
    commits: write.Commits | None = None

    @property
    def attempt(self) -> str:
        """This run's attempt: the stem of every file it writes."""
        return write.attempt_name(self.started)


@flow(name="news_etl", log_prints=True)
def news_etl(
    input_dir: Path = Path("seeds"),
    warehouse: Path = Path("warehouse"),
    run_date: date | None = None,
    settings: Settings | None = None,
    concurrency: int = 1,
    checks: Sequence[Path] | None = None,
    allow_empty: bool = False,
) -> RunSummary:
    """Ingest, clean, normalize, extract entities and quotes, link stories, write Parquet.

    `concurrency` > 1 submits that many batches at once to the flow's task runner (Dask);
    `checks` overrides the data-quality checks of tasks/warehouse/sql/checks/; `allow_empty` lets a
    date that has committed articles be replaced by a run with no input.
    """
    ctx = Context(Path(input_dir), Path(warehouse), check_run_date(logical_date(run_date)),
                  settings or Settings(), datetime.now(UTC), max(1, concurrency),
                  allow_empty)  # fmt: skip
    with write.warehouse_lock(ctx.warehouse):
        try:
            _begin(ctx)
            summary = _run(ctx, views.check_files() if checks is None else list(checks))
        except Exception as err:
            _record_failure(ctx, err)
            raise
        return _after_commit(ctx, summary)


def _begin(ctx: Context) -> None:
    """Give up the attempts whose process died, and record this one as `running`."""
    abandoned = write.abandon_running(ctx.warehouse, ctx.attempt)
    if abandoned:
        get_run_logger().warning("%d earlier attempts had died: marked abandoned", len(abandoned))
    write.write_partition(ctx.warehouse, "runs", _runs_row(ctx, "running", None), ctx.day,
                          ctx.attempt)  # fmt: skip


def _after_commit(ctx: Context, summary: RunSummary) -> RunSummary:
    """Tidy up after the commit; a failure here leaves the committed rows as they are.

    The next run prunes and writes the DuckDB file again, so a failed step costs nothing
    but a warning in the returned summary.
    """
    problems: list[str] = []
    steps: tuple[tuple[str, Callable[[], object]], ...] = (
        ("prune", lambda: write.prune(ctx.warehouse, ctx.settings.superseded_grace_seconds)),
        ("database", lambda: views.write_database(ctx.warehouse)),
    )
    for name, step in steps:
        try:
            step()
        except Exception as err:  # the run is committed: nothing may undo that now
            problems.append(f"after_commit_{name}: {type(err).__name__}: {err}")
            get_run_logger().warning("committed, but %s failed: %s", name, err)
    return replace(summary, warnings=summary.warnings + tuple(problems))


def _run(ctx: Context, checks: Sequence[Path]) -> RunSummary:
    """The body of the flow: reuse or prepare articles, analyse them, commit every table once."""
    if not ctx.input_dir.is_dir():
        raise FileNotFoundError(f"input folder {ctx.input_dir} does not exist")
    commits = write.committed(ctx.warehouse)
    pruned = write.prune(ctx.warehouse, ctx.settings.superseded_grace_seconds, commits=commits)
    if pruned:
        get_run_logger().info("removed %d files of unfinished or superseded attempts",
                              len(pruned))  # fmt: skip
    ctx = replace(ctx, settings=with_aliases(ctx.settings, ctx.warehouse / ALIAS_FILE),
                  commits=commits)  # fmt: skip
    committed = write.committed_run(ctx.warehouse, ctx.day, commits)
    paths = _input_paths(ctx, committed)
    collected = _collect(ctx, paths, extraction_fingerprints(ctx.settings))
    run_id = write.run_id_for(ctx.day, collected.article_ids(), collected.rejects,
                              run_fingerprint(ctx.settings))  # fmt: skip
    if committed is not None and committed[1].run_id == run_id:
        return _recommit(ctx, committed, len(collected.order))
    prepared = _prepare(ctx, collected)
    prepared, mentions, known, found_quotes = _analyse(ctx, prepared)
    linked, links, stories = link_articles(
        Sealed(prepared.articles),
        Sealed(mentions),
        Sealed(known),
        Sealed(found_quotes),
        ctx.settings,
    )
    get_run_logger().info(
        "%d mentions of %d entities, %d quotes, %d links, %d stories",
        len(mentions), len(known), len(found_quotes), len(links), len(stories),
    )  # fmt: skip
    out = RunOutput(prepared.inputs, linked, prepared.rejects, mentions, known, found_quotes,
                    links, stories)  # fmt: skip
    summary = write.summarize(out, run_id, flow_run.id, str(ctx.input_dir), ctx.started,
                              datetime.now(UTC))  # fmt: skip
    summary = replace(summary, reused_articles=len(prepared.reused.articles))
    tables = write.run_tables(out, summary, ctx.day)
    warnings = check_tables(tables, run_id, checks)
    release_memory()
    store = link_history(ctx.warehouse, ctx.day, Sealed(linked), Sealed(mentions), Sealed(known),
                         Sealed(found_quotes), across_settings(ctx), run_id,
                         ctx.attempt, ctx.commits)  # fmt: skip
    summary = replace(summary, warnings=tuple(warnings) + tuple(store.warnings),
                      finished_at=datetime.now(UTC),
                      aliases_fingerprint=link.aliases_fingerprint(ctx.settings.entities.aliases))  # fmt: skip
    # Only the `runs` row changes with the checks' outcome; the other tables stand as checked.
    tables["runs"] = write.to_table("runs", [summary], {})
    write_warehouse(ctx.warehouse, tables, ctx.day, ctx.attempt, store.pending)
    _forget_damaged(store)
    return summary


def release_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc only; elsewhere nothing).

    The parse and the run-wide stages leave hundreds of MB free but held in glibc's heaps,
    and the cross-date step would count on top of them in the run's peak. Dask's workers
    trim the same way.
    """
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)


def across_settings(ctx: Context) -> link.AcrossSettings:
    """The cross-date step's settings."""
    s = ctx.settings
    return link.AcrossSettings(s.dedup, s.quotes, s.entities.aliases, s.entities.dominant_share)


def _forget_damaged(store: link.HistoryStore) -> None:
    """Delete the unreadable cross-date files this run replaced: DuckDB reads every file."""
    for path in store.damaged.values():
        path.unlink(missing_ok=True)


def _input_paths(ctx: Context, committed: tuple[str, RunSummary] | None) -> list[Path]:
    """The day's inputs; none for a date with committed articles is an error unless allowed."""
    folder = ingest.day_folder(ctx.input_dir, ctx.day)
    paths = ingest.discover(folder) if folder is not None else []
    get_run_logger().info("run_date=%s: %d inputs in %s", ctx.day, len(paths),
                          folder or ctx.input_dir)  # fmt: skip
    if not paths and committed is not None and committed[1].articles and not ctx.allow_empty:
        where = (
            f"{folder} is empty"
            if folder is not None
            else f"{ctx.input_dir} has no {ctx.day} folder"
        )
        raise EmptyInputError(
            f"run date {ctx.day} has {committed[1].articles} committed articles but {where}; "
            "pass --allow-empty to replace them with nothing"
        )
    return paths


def _recommit(ctx: Context, committed: tuple[str, RunSummary], articles: int) -> RunSummary:
    """An unchanged rerun: same inputs and settings as the committed run, so its rows stand.

    Its date's history index is built (and the dates around it linked) if it has none yet:
    a warehouse written before the history index is indexed on first use.
    """
    old_attempt, old = committed
    get_run_logger().info("run %s is up to date (%s): nothing to extract", old.run_id, old_attempt)
    store = link.HistoryStore.open(ctx.warehouse, ctx.day, ctx.attempt, ctx.commits)
    if set(store.dates) - store.indexed():
        settings = across_settings(ctx)
        own = link.read_index(store, ctx.day, settings, old.run_id)
        if own is not None:  # else its own tables cannot be read: nothing to link it by
            link.link_history(store, own, None, settings, old.run_id)
    summary = replace(old, flow_run_id=flow_run.id, input_dir=str(ctx.input_dir),
                      started_at=ctx.started, finished_at=datetime.now(UTC),
                      reused_articles=articles,
                      warnings=old.warnings + tuple(store.warnings))  # fmt: skip
    runs = write.to_table("runs", [summary], {})
    write.recommit(ctx.warehouse, ctx.day, ctx.attempt, runs)
    _forget_damaged(store)
    return summary


def with_aliases(settings: Settings, path: Path) -> Settings:
    """Add the warehouse's alias file, read afresh on every run, to the entity settings.

    The file may be in any encoding the ingest decoder reads (a spreadsheet saves Latin-1).
    """
    data = path.read_bytes() if path.is_file() else b""
    if not data.strip():
        return settings
    try:
        text, _ = ingest.decode(data, settings.ingest.max_control_ratio)
    except RejectError as err:
        raise ValueError(f"alias file {path} cannot be read: {err.detail}") from err
    found = entities.parse_aliases(text)
    if found:
        get_run_logger().info("%d aliases from %s", len(found), path)
    merged = replace(settings.entities, aliases=settings.entities.aliases + found)
    return replace(settings, entities=merged)


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


def _collect(ctx: Context, paths: Sequence[Path], salts: Mapping[str, str]) -> Collected:
    """Ingest every input in batches; clean and normalize only those not in the warehouse yet."""
    log = get_run_logger()
    known = reuse.index(ctx.warehouse, ctx.commits)
    # Publication dates after the logical day are impossible for that day's collection.
    reference_time = datetime.combine(ctx.day + timedelta(days=1), time(), tzinfo=UTC)
    s = ctx.settings
    read: list[tuple[list[str], list[Reject]]] = []  # per batch: source hashes, rejects
    submitted: list[int] = []  # the batches with anything new, in order

    def to_clean() -> Iterator[tuple[Any, ...]]:
        for i, chunk in enumerate(batched(paths, s.batch_size)):
            # Read here, not on workers: remote workers need no access to the input folder,
            # and a batch with nothing new is not submitted, so an up-to-date rerun starts
            # no cluster.
            raw, bad = ingest_batch(Sealed(chunk), ctx.input_dir, s, salts)
            read.append(([d.source_hash for d in raw], bad))
            fresh = [d for d in raw if d.source_hash not in known]
            if fresh:
                submitted.append(i)
                yield fresh, s

    clean_bad: dict[int, list[Reject]] = {}

    def to_normalize() -> Iterator[tuple[Any, ...]]:
        for k, (docs, bad) in enumerate(_stream(clean_batch, to_clean(), ctx)):
            clean_bad[submitted[k]] = bad
            yield docs, s, reference_time

    normal = {submitted[k]: r for k, r in enumerate(_stream(normalize_batch, to_normalize(), ctx))}
    out = Collected(0, [], {}, {}, [])
    inputs = 0
    for i, (hashes, bad) in enumerate(read):
        new, bad_norm = normal.get(i, ([], []))
        out.new.update((a.source_hash, a) for a in new)
        for h in hashes:
            if h in known:
                out.stored[h] = known[h]
            if h in out.stored or h in out.new:
                out.order.append(h)
        out.rejects.extend(bad + clean_bad.get(i, []) + bad_norm)
        inputs += len(hashes) + len(bad)
    log.info("%d inputs -> %d articles (%d already in the warehouse), %d rejects",
             inputs, len(out.order), len(out.stored), len(out.rejects))  # fmt: skip
    if inputs != len(out.order) + len(out.rejects):
        raise InvariantError(
            f"inputs {inputs} != articles {len(out.order)} + rejects {len(out.rejects)}"
        )
    return replace(out, inputs=inputs)


def _prepare(ctx: Context, collected: Collected) -> Prepared:
    """Read back the stored articles' rows and put every article in input order."""
    stored = list(collected.stored.values())
    reused = (
        load_reused(ctx.warehouse, Sealed(stored), ctx.commits)
        if stored
        else reuse.Reused({}, {}, {})
    )
    articles = [collected.new.get(h) or reused.articles[h] for h in collected.order]
    return Prepared(collected.inputs, articles, collected.rejects, reused)


def _stream(fn: Any, calls: Iterable[tuple[Any, ...]], ctx: Context) -> Iterator[Any]:
    """Call a task on each batch and yield the results in order, keeping the workers busy.

    Up to two batches per worker are in flight: a worker that finishes takes the next batch
    at once instead of waiting for the slowest of a window (2.5 s of every 30 s window of
    two 500-article parses), and only those few batches' inputs and results wait in memory.
    """
    if ctx.concurrency == 1:
        yield from (fn(*map(_sealed, args)) for args in calls)
        return
    in_flight: deque[Any] = deque()
    for args in calls:
        if len(in_flight) == 2 * ctx.concurrency:
            yield in_flight.popleft().result()
        in_flight.append(fn.submit(*map(_sealed, args)))
    while in_flight:
        yield in_flight.popleft().result()


def _analyse(
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
    chunks = list(batched(new, s.batch_size))
    results = _stream(mentions_batch, ((chunk, s) for chunk in chunks), ctx)
    for chunk, batch in zip(chunks, results, strict=True):
        for m in batch.mentions:
            found[m.article_id].append(m)
        for article_id, warning in batch.warnings:
            warnings[article_id].append(warning)
        failed += batch.rejects
        analysed = set(batch.parsed.article_ids)
        parsed.append(([a for a in chunk if a.article_id in analysed], batch.parsed))
    prepared = _without(prepared, failed, warnings)
    # Article order, as a run that extracted every article would have them.
    ordered = [m for a in prepared.articles for m in found.get(a.article_id, ())]
    linked, known = canonicalize_entities(Sealed(ordered), Sealed(prepared.articles), s)
    quoted: dict[str, list[Quote]] = defaultdict(list, prepared.reused.quotes)
    by_article: dict[str, list[EntityMention]] = defaultdict(list)
    for em in linked:
        by_article[em.article_id].append(em)
    # Each batch gets only its own mentions: the run's would be shipped to every worker.
    calls = ((chunk, batch, [m for a in chunk for m in by_article[a.article_id]], known, s)
             for chunk, batch in parsed)  # fmt: skip
    failed = []
    for quotes_found, rejects in _stream(quotes_batch, calls, ctx):
        failed += rejects
        for q in quotes_found:
            quoted[q.article_id].append(q)
    if failed:  # rare: merge again without the rejected articles' mentions
        prepared = _without(prepared, failed, {})
        keep = {a.article_id for a in prepared.articles}
        before = [m for m in linked if m.article_id in keep]
        kept = [m for m in ordered if m.article_id in keep]
        linked, known = canonicalize_entities(Sealed(kept), Sealed(prepared.articles), s)
        quoted = _remap_speakers(quoted, before, linked, known)
    ordered_quotes = [q for a in prepared.articles for q in quoted.get(a.article_id, ())]
    return prepared, linked, known, cluster_quotes(Sealed(ordered_quotes), s)


def _without(
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


def _remap_speakers(
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


def _runs_row(ctx: Context, status: RunStatus, err: Exception | None) -> pa.Table:
    """The `runs` row of an attempt that has not committed: running, or failed with its error."""
    nothing = RunOutput(0, (), (), (), (), (), (), ())
    done = write.summarize(nothing, f"{ctx.day.isoformat()}-{status}", flow_run.id,
                           str(ctx.input_dir), ctx.started, datetime.now(UTC))  # fmt: skip
    error = None if err is None else f"{type(err).__name__}: {err}"
    finished = None if status == "running" else done.finished_at
    summary = replace(done, status=status, error=error, finished_at=finished)
    return write.to_table("runs", [summary], {})


def _record_failure(ctx: Context, err: Exception) -> None:
    """Record a failed attempt in `runs` so schedules and dashboards see it.

    An attempt that committed keeps its row: a failure after the commit never undoes it.
    """
    try:
        if write.is_committed(ctx.warehouse, ctx.day, ctx.attempt):
            return
        table = _runs_row(ctx, "failed", err)
        write.write_partition(ctx.warehouse, "runs", table, ctx.day, ctx.attempt)
    except Exception as failed:  # the warehouse itself is broken: say so, raise the cause
        get_run_logger().error("could not record the failure in runs: %s", failed)


def deployment(
    cron: str, input_dir: Path, warehouse: Path, name: str = "daily"
) -> RunnerDeployment:
    """A scheduled deployment of news_etl; each run's logical date is its scheduled day."""
    return RunnerDeployment.from_flow(
        news_etl,
        name=name,
        cron=cron,
        parameters={"input_dir": str(input_dir.resolve()), "warehouse": str(warehouse.resolve())},
    )


# The configuration local Dask workers start with (each takes a snapshot of the flow
# process's). Measured on 300 BBC articles through spaCy on one worker, 2 cores:
LOCAL_WORKER_CONFIG: dict[str, Any] = {
    # Dask's default MALLOC_TRIM_THRESHOLD_=65536 makes glibc hand freed memory straight back
    # to the kernel, and spaCy's arrays then fault it in again: 800,000 page faults and a
    # fifth of the CPU in the kernel, 9.5 articles/s; without it, 25,000 faults and 13.9/s.
    # The single-threaded BLAS stays: N workers with multithreaded BLAS oversubscribe N cores.
    "distributed.nanny.pre-spawn-environ": {name: "1" for name in BLAS_THREADS},
    # The sampling profiler reads the running task's stack every 10 ms, and the event loop
    # wakes every 20 ms to check it is not blocked: each takes the GIL from the batch.
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    # The scheduler and each worker read CPU, memory, network and disk counters every 0.5 s
    # for the dashboard, and the nannies and workers check memory every 0.1 s: on 2 cores,
    # with one worker per core, every read is taken from a batch.
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.worker.memory.monitor-interval": "1s",
}


def shared_api() -> dict[str, str]:
    """The Prefect API for local Dask workers: the flow's own, started now if it is temporary.

    A worker with no API URL starts a temporary Prefect server of its own, a process per
    worker that takes CPU from the batches; with the URL they all report to one server.
    """
    return {"PREFECT_API_URL": start_api()}


def start_api() -> str:
    """The flow's Prefect API: the configured one, else the temporary server, started now.

    The temporary server is the instance Prefect's own client would start, but it is told
    to end when this process ends, even by `kill -9` (which skips Prefect's exit handler and
    left the server listening, orphaned). Start it from the main thread: the kernel signals
    the server when the thread that started it ends.
    """
    if PREFECT_API_URL.value():
        return str(PREFECT_API_URL.value())
    from prefect.server.api import server as api_server  # the server app is heavy

    server = api_server.SubprocessASGIServer()
    if not server.running:
        parent = os.getpid()
        spawn = SimpleNamespace(**vars(subprocess))
        spawn.Popen = partial(subprocess.Popen, preexec_fn=lambda: _die_with(parent))
        with patch.object(api_server, "subprocess", spawn):
            server.start()
    return server.api_url


def _die_with(parent: int) -> None:
    """In a child before exec: ask for SIGTERM when the parent ends (Linux's PR_SET_PDEATHSIG)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def local_cluster(workers: int) -> dict[str, Any]:
    """Arguments of a local Dask cluster of `workers` processes (with LOCAL_WORKER_CONFIG set)."""
    return {
        "n_workers": workers,
        # spaCy and trafilatura hold the GIL: one thread per worker process.
        "threads_per_worker": 1,
        "processes": True,
        # Scheduler, workers and dashboard listen on the loopback interface only: they run
        # code on request, and Dask's dashboard otherwise binds every interface.
        "host": LOOPBACK,
        "dashboard_address": f"{LOOPBACK}:8787",
        "env": shared_api(),
    }


def engine(
    dask: str | None = None, workers: int | None = None, settings: Settings | None = None
) -> Callable[..., RunSummary]:
    """news_etl on this process, on the Dask scheduler at `dask`, or on a local cluster of `workers`.

    Returns a function of (input_dir, warehouse, run_date, allow_empty=False).
    """
    if dask is None and not workers:

        def here(input_dir: Path, warehouse: Path, day: date | None,
                 allow_empty: bool = False) -> RunSummary:  # fmt: skip
            return news_etl(input_dir, warehouse, day, settings, allow_empty=allow_empty)

        return here
    from dask import config as dask_config
    from distributed import Client
    from prefect_dask.task_runners import DaskTaskRunner

    register_dask_tokens()

    if dask is not None:
        with Client(dask) as client:  # type: ignore[no-untyped-call]
            slots = sum(client.nthreads().values())
        runner = DaskTaskRunner(address=dask)
    else:
        assert workers is not None
        slots = workers
        runner = DaskTaskRunner(cluster_kwargs=local_cluster(workers))
    parallel = news_etl.with_options(task_runner=runner)  # type: ignore[arg-type]
    local = LOCAL_WORKER_CONFIG if dask is None else {}

    def call(
        input_dir: Path, warehouse: Path, day: date | None, allow_empty: bool = False
    ) -> RunSummary:
        with dask_config.set(local):  # the cluster starts inside the flow, on first submit
            return parallel(input_dir, warehouse, day, settings, concurrency=slots,
                            allow_empty=allow_empty)  # fmt: skip

    return call
