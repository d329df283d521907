"""The news_etl Prefect flow: thin tasks, each calling one stage function on a whole batch."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar, overload

import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.deployments.runner import RunnerDeployment
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL
from prefect.tasks import exponential_backoff

from flows import BLAS_THREADS
from tasks import clean, dedup, entities, ingest, normalize, query, quotes, reuse, write
from tasks.records import (
    Article,
    ArticleLink,
    CleanDocument,
    Entity,
    EntityMention,
    Mention,
    ParsedBatch,
    Quote,
    RawDocument,
    Reject,
    RunOutput,
    RunSummary,
    Story,
)
from tasks.settings import Settings, extraction_fingerprint, run_fingerprint

T = TypeVar("T")
# The user's alias file, beside the Parquet tables: one alias per line, applied every run.
ALIAS_FILE = "aliases.csv"


# Loads and writes touch the file system, where a transient error (NFS, a full disk being
# freed) is worth waiting for: three tries, 2 s then 4 s apart, with jitter.
IO_RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": exponential_backoff(2),
    "retry_jitter_factor": 0.5,
}


class InvariantError(Exception):
    """The run lost track of an input: inputs != articles + rejects."""


class DataCheckError(Exception):
    """An error-level data-quality check found rows; the run is not committed."""


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
    paths: Sequence[Path], input_dir: Path, settings: Settings, salt: str
) -> tuple[list[RawDocument], list[Reject]]:
    """Read and decode a batch of input files."""
    return ingest.read_inputs(paths, input_dir, settings.ingest, salt)


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
def mentions_batch(
    articles: Sequence[Article], settings: Settings
) -> tuple[list[Mention], ParsedBatch]:
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
) -> list[Quote]:
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
    return dedup.link_articles(articles, settings.dedup, mentions, found, known)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def load_reused(warehouse: Path, wanted: Sequence[reuse.Stored]) -> reuse.Reused:
    """Read back the rows of articles already in the warehouse."""
    return reuse.load(warehouse, wanted)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def write_warehouse(
    warehouse: Path, tables: dict[str, pa.Table], run_date: date, attempt: str
) -> dict[str, int]:
    """Write the run's files, commit them with the `runs` row, refresh the DuckDB views file."""
    counts = write.write_tables(warehouse, tables, run_date, attempt)
    query.write_database(warehouse)
    return counts


@task(cache_policy=NO_CACHE)
def check_tables(tables: dict[str, pa.Table], run_id: str, checks: Sequence[Path]) -> list[str]:
    """Run the data-quality checks on the run's tables before they are committed."""
    with query.connect_tables(tables, run_id) as con:
        results = query.run_checks(con, checks)
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


@flow(name="news_etl", log_prints=True)
def news_etl(
    input_dir: Path = Path("seeds"),
    warehouse: Path = Path("warehouse"),
    run_date: date | None = None,
    settings: Settings | None = None,
    concurrency: int = 1,
    checks: Sequence[Path] | None = None,
) -> RunSummary:
    """Ingest, clean, normalize, extract entities and quotes, link stories, write Parquet.

    `concurrency` > 1 submits that many batches at once to the flow's task runner (Dask);
    `checks` overrides the data-quality checks of warehouse/checks/.
    """
    ctx = Context(Path(input_dir), Path(warehouse), logical_date(run_date),
                  settings or Settings(), datetime.now(UTC), max(1, concurrency))  # fmt: skip
    with write.warehouse_lock(ctx.warehouse):
        try:
            return _run(ctx, query.check_files() if checks is None else list(checks))
        except Exception as err:
            _record_failure(ctx, err)
            raise


def _run(ctx: Context, checks: Sequence[Path]) -> RunSummary:
    """The body of the flow: reuse or prepare articles, analyse them, commit every table once."""
    if not ctx.input_dir.is_dir():
        raise FileNotFoundError(f"input folder {ctx.input_dir} does not exist")
    pruned = write.prune(ctx.warehouse)  # what a killed run left behind
    if pruned:
        get_run_logger().info("removed %d files of unfinished attempts", len(pruned))
    ctx = replace(ctx, settings=with_aliases(ctx.settings, ctx.warehouse / ALIAS_FILE))
    version = package_version()
    collected = _collect(ctx, extraction_fingerprint(ctx.settings, version))
    run_id = write.run_id_for(ctx.day, collected.article_ids(), collected.rejects,
                              run_fingerprint(ctx.settings, version))  # fmt: skip
    attempt = write.attempt_name(ctx.started)
    committed = write.committed_run(ctx.warehouse, ctx.day)
    if committed is not None and committed[1].run_id == run_id:
        return _recommit(ctx, committed, attempt, len(collected.order))
    prepared = _prepare(ctx, collected)
    mentions, known, found_quotes = _analyse(ctx, prepared)
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
    tables = write.run_tables(out, summary)
    warnings = check_tables(tables, run_id, checks)
    summary = replace(summary, warnings=tuple(warnings), finished_at=datetime.now(UTC))
    # Only the `runs` row changes with the checks' outcome; the other tables stand as checked.
    tables["runs"] = write.to_table("runs", [summary], {})
    write_warehouse(ctx.warehouse, tables, ctx.day, attempt)
    return summary


def _recommit(
    ctx: Context, committed: tuple[str, RunSummary], attempt: str, articles: int
) -> RunSummary:
    """An unchanged rerun: same inputs and settings as the committed run, so its rows stand."""
    old_attempt, old = committed
    get_run_logger().info("run %s is up to date (%s): nothing to extract", old.run_id, old_attempt)
    summary = replace(old, flow_run_id=flow_run.id, input_dir=str(ctx.input_dir),
                      started_at=ctx.started, finished_at=datetime.now(UTC),
                      reused_articles=articles)  # fmt: skip
    runs = write.to_table("runs", [summary], {})
    write.recommit(ctx.warehouse, ctx.day, old_attempt, attempt, runs)
    return summary


def package_version() -> str:
    """The installed newsetl version: part of the fingerprint, so a new release re-extracts."""
    try:
        return metadata.version("newsetl")
    except metadata.PackageNotFoundError:
        return "unknown"


def with_aliases(settings: Settings, path: Path) -> Settings:
    """Add the warehouse's alias file, read afresh on every run, to the entity settings."""
    found = entities.read_aliases(path)
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


def _collect(ctx: Context, salt: str) -> Collected:
    """Ingest every input in batches; clean and normalize only those not in the warehouse yet."""
    log = get_run_logger()
    folder = ingest.day_folder(ctx.input_dir, ctx.day)
    paths = ingest.discover(folder) if folder is not None else []
    log.info("run_date=%s: %d input files in %s", ctx.day, len(paths), folder or ctx.input_dir)
    known = reuse.index(ctx.warehouse)
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
            raw, bad = ingest_batch(Sealed(chunk), ctx.input_dir, s, salt)
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
    reused = load_reused(ctx.warehouse, Sealed(stored)) if stored else reuse.Reused({}, {}, {})
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
) -> tuple[list[EntityMention], list[Entity], list[Quote]]:
    """Parse the new articles once for mentions, merge entities run-wide, then find quotes."""
    reused_ids = {a.article_id for a in prepared.reused.articles.values()}
    new = [a for a in prepared.articles if a.article_id not in reused_ids]
    s = ctx.settings
    found: dict[str, list[Mention]] = defaultdict(list, prepared.reused.mentions)
    parsed: list[tuple[Sequence[Article], ParsedBatch]] = []
    chunks = list(batched(new, s.batch_size))
    results = _stream(mentions_batch, ((chunk, s) for chunk in chunks), ctx)
    for chunk, (mentions, batch) in zip(chunks, results, strict=True):
        for m in mentions:
            found[m.article_id].append(m)
        parsed.append((chunk, batch))
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
    for quotes_found in _stream(quotes_batch, calls, ctx):
        for q in quotes_found:
            quoted[q.article_id].append(q)
    ordered_quotes = [q for a in prepared.articles for q in quoted.get(a.article_id, ())]
    return linked, known, cluster_quotes(Sealed(ordered_quotes), s)


def _record_failure(ctx: Context, err: Exception) -> None:
    """Record a failed run in `runs` so schedules and dashboards see it."""
    nothing = RunOutput(0, (), (), (), (), (), (), ())
    run_id = f"{ctx.day.isoformat()}-failed"
    done = write.summarize(nothing, run_id, flow_run.id, str(ctx.input_dir), ctx.started,
                           datetime.now(UTC))  # fmt: skip
    summary = replace(done, status="failed", error=f"{type(err).__name__}: {err}")
    table = write.to_table("runs", [summary], {})
    write.write_partition(ctx.warehouse, "runs", table, ctx.day, write.attempt_name(ctx.started))


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
    if PREFECT_API_URL.value():
        return {"PREFECT_API_URL": str(PREFECT_API_URL.value())}
    from prefect.server.api.server import SubprocessASGIServer  # the server app is heavy

    server = SubprocessASGIServer()  # the instance the flow's own client would start
    server.start()
    return {"PREFECT_API_URL": server.api_url}


def local_cluster(workers: int) -> dict[str, Any]:
    """Arguments of a local Dask cluster of `workers` processes (with LOCAL_WORKER_CONFIG set)."""
    return {
        "n_workers": workers,
        # spaCy and trafilatura hold the GIL: one thread per worker process.
        "threads_per_worker": 1,
        "processes": True,
        "env": shared_api(),
    }


def engine(
    dask: str | None = None, workers: int | None = None, settings: Settings | None = None
) -> Callable[..., RunSummary]:
    """news_etl on this process, on the Dask scheduler at `dask`, or on a local cluster of `workers`.

    Returns a function of (input_dir, warehouse, run_date).
    """
    if dask is None and not workers:
        return lambda input_dir, warehouse, day: news_etl(input_dir, warehouse, day, settings)
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

    def call(input_dir: Path, warehouse: Path, day: date | None) -> RunSummary:
        with dask_config.set(local):  # the cluster starts inside the flow, on first submit
            return parallel(input_dir, warehouse, day, settings, concurrency=slots)

    return call
