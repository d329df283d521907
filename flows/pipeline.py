"""The news_etl Prefect flow: one run of a logical date, from its inputs to one commit."""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
from prefect import flow, get_run_logger
from prefect.deployments.runner import RunnerDeployment
from prefect.runtime import flow_run

from flows.batches import analyse, collect, prepare
from flows.context import Context, EmptyInputError, check_run_date, logical_date
from flows.runtime import Sealed
from flows.steps import check_tables, link_articles, link_history, write_warehouse
from tasks import entities, ingest, link, web
from tasks import warehouse as views
from tasks.core.records import (
    RunOutput,
    RunStatus,
    RunSummary,
)
from tasks.core.safety import RejectError
from tasks.settings import Settings, extraction_fingerprints, run_fingerprint
from tasks.store import reuse, write

# The user's alias file, beside the Parquet tables: one alias per line, applied every run.
ALIAS_FILE = "aliases.csv"


@flow(name="news_etl", log_prints=True)
def news_etl(
    input_dir: str | Path = Path("seeds"),
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
    ctx = Context(str(input_dir), Path(warehouse), check_run_date(logical_date(run_date)),
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
    try:
        source = ingest.resolve(ctx.input_dir, ctx.settings.ingest)
    except ValueError as err:
        raise FileNotFoundError(str(err)) from err
    commits = write.committed(ctx.warehouse)
    pruned = write.prune(ctx.warehouse, ctx.settings.superseded_grace_seconds, commits=commits)
    if pruned:
        get_run_logger().info("removed %d files of unfinished or superseded attempts",
                              len(pruned))  # fmt: skip
    ctx = replace(ctx, settings=with_aliases(ctx.settings, ctx.warehouse / ALIAS_FILE),
                  commits=commits)  # fmt: skip
    committed = write.committed_run(ctx.warehouse, ctx.day, commits)
    with _page_reader(ctx, source) as pages:
        paths, notes = _input_paths(ctx, source, committed, pages)
        collected = collect(ctx, source.root, paths, extraction_fingerprints(ctx.settings), pages)
    fetched = list(pages.rows.values()) if pages is not None else []
    run_id = write.run_id_for(ctx.day, collected.article_ids(), collected.rejects,
                              run_fingerprint(ctx.settings))  # fmt: skip
    if committed is not None and committed[1].run_id == run_id:
        return _recommit(ctx, committed, len(collected.order))
    prepared = prepare(ctx, collected)
    prepared, mentions, known, found_quotes = analyse(ctx, prepared)
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
                    links, stories, fetched)  # fmt: skip
    summary = write.summarize(out, run_id, flow_run.id, str(ctx.input_dir), ctx.started,
                              datetime.now(UTC))  # fmt: skip
    summary = replace(summary, reused_articles=len(prepared.reused.articles))
    tables = write.run_tables(out, summary, ctx.day)
    warnings = check_tables(tables, run_id, checks)
    release_memory()
    store = link_history(ctx.warehouse, ctx.day, Sealed(linked), Sealed(mentions), Sealed(known),
                         Sealed(found_quotes), across_settings(ctx), run_id,
                         ctx.attempt, ctx.commits)  # fmt: skip
    summary = replace(summary, warnings=(*notes, *warnings, *store.warnings),
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


@contextmanager
def _page_reader(ctx: Context, source: ingest.Source) -> Iterator[ingest.PageReader | None]:
    """The fetcher and page archive of a run whose input is a listing; None for the others."""
    if source.kind != "listing":
        yield None
        return
    archive = web.PageArchive(write.archive_file(ctx.warehouse, ctx.day, ctx.attempt))
    with web.Fetcher(ctx.settings.fetch) as fetcher, archive:
        known = reuse.fetched(ctx.warehouse, ctx.commits)
        yield ingest.PageReader(fetcher, archive, ctx.warehouse, ctx.day, known)


def _input_paths(
    ctx: Context,
    source: ingest.Source,
    committed: tuple[str, RunSummary] | None,
    pages: ingest.PageReader | None,
) -> tuple[list[ingest.Input], list[str]]:
    """The day's inputs and notes on them; none for a date with committed articles is an
    error unless allowed."""
    log = get_run_logger()
    fetcher = pages.fetcher if pages is not None else None
    found, where = ingest.list_inputs(source, ctx.day, ctx.settings.ingest, fetcher)
    paths = found.inputs
    log.info("run_date=%s: %d inputs in %s", ctx.day, len(paths), where or ctx.input_dir)
    for note in found.notes:
        log.info("%s", note)
    if not paths and committed is not None and committed[1].articles and not ctx.allow_empty:
        said = (
            f"{where} is empty" if where is not None else f"{ctx.input_dir} has no {ctx.day} folder"
        )
        raise EmptyInputError(
            f"run date {ctx.day} has {committed[1].articles} committed articles but {said}; "
            "pass --allow-empty to replace them with nothing"
        )
    return paths, found.notes


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
    cron: str, input_dir: str | Path, warehouse: Path, name: str = "daily"
) -> RunnerDeployment:
    """A scheduled deployment of news_etl; each run's logical date is its scheduled day."""
    given = str(input_dir)
    # A path is made absolute (the worker may start elsewhere); a URL is kept as written.
    where = given if ingest.is_url(given) else str(Path(given).resolve())
    return RunnerDeployment.from_flow(
        news_etl,
        name=name,
        cron=cron,
        parameters={"input_dir": where, "warehouse": str(warehouse.resolve())},
    )
