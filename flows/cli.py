"""The `newsetl` command line: run the flow, serve it on a schedule, query the warehouse."""

from __future__ import annotations

import atexit
import csv
import gc
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.table import Column, Table

from flows import PROJECT_ROOT, outside_run_dates, package_version
from tasks import warehouse as views
from tasks.core.records import RunSummary
from tasks.store import schemas, write
from tasks.store.write import WarehouseLockedError

if TYPE_CHECKING:
    from tasks.settings import Settings

app = typer.Typer(
    help="Batch ETL for news articles: seeds in, Parquet warehouse out.", no_args_is_help=True
)
# Output is data (titles, quotes, file names), never markup: "[/]" in a title is text.
console = Console(markup=False, emoji=False, highlight=False)
# Errors and the progress bar go to stderr: stdout stays the command's answer (a table, JSON).
errors = Console(stderr=True, markup=False, emoji=False, highlight=False)

InputOpt = Annotated[
    str,
    typer.Option(
        "--input",
        help="Folder of input articles, one file (a WARC archive, a JSONL dump), or a feed, "
        "sitemap or list of URLs to fetch (a file or an http(s) URL).",
    ),
]
WarehouseOpt = Annotated[
    Path, typer.Option("--warehouse", help="Warehouse folder (Parquet + views).")
]
FORMATS = ("table", "csv", "json", "parquet")
FormatOpt = Annotated[str, typer.Option("--format", help="table, csv, json or parquet.")]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Write csv, json or parquet to this file, not standard output."),
]


def _show_version(value: bool) -> None:
    """Print the version and stop (before any command, and without starting Prefect)."""
    if value:
        console.print(f"newsetl {package_version()}")
        raise typer.Exit()


@dataclass(frozen=True)
class Verbosity:
    """How much a command says: -v adds a failed run's traceback, -q keeps only problems."""

    verbose: bool = False
    quiet: bool = False


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the traceback when a run fails.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only warnings and errors: no summary table.")
    ] = False,
) -> None:
    """Batch ETL for news articles: seeds in, Parquet warehouse out."""
    if verbose and quiet:
        _usage("-v and -q exclude each other")
    if quiet:  # read by Prefect when the flow module imports it, after this
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    ctx.obj = Verbosity(verbose, quiet)


def _verbosity(ctx: typer.Context) -> Verbosity:
    """The command's verbosity (the default when the group's options were not parsed)."""
    return ctx.obj if isinstance(ctx.obj, Verbosity) else Verbosity()


def _parse_date(value: str | None, option: str = "--date") -> date | None:
    """Parse a date option as YYYY-MM-DD within the accepted range; else one line, exit 2."""
    day = _day(value, option)
    refused = outside_run_dates(day) if day is not None else None
    if refused:
        _usage(f"{option} {refused}")
    return day


def _usage(message: str) -> NoReturn:
    """A mistake on the command line: one line, exit status 2, before any work starts."""
    errors.print(f"error: {message}", style="red", soft_wrap=True)
    raise typer.Exit(2)


def _check_paths(input_dir: str, warehouse: Path, settings: Settings | None) -> None:
    """Refuse an input that is no folder, file or URL, or a warehouse path that is a file."""
    from tasks.ingest import IngestSettings, resolve

    try:
        resolve(input_dir, settings.ingest if settings is not None else IngestSettings())
    except (ValueError, OSError) as err:
        _usage(str(err))
    if warehouse.exists() and not warehouse.is_dir():
        _usage(f"--warehouse {warehouse} is not a folder")


def _check_engine(dask: str | None, workers: int | None) -> None:
    """--dask and --workers choose where batches run: one or the other."""
    if dask is not None and workers is not None:
        _usage("--dask and --workers exclude each other: use a running cluster or start one")
    if workers is not None and workers < 1:
        _usage(f"--workers {workers} must be at least 1")
    if dask is not None and (problem := _unreachable(dask)) is not None:
        _usage(f"--dask {dask}: {problem}")


# Seconds a scheduler has to accept a connection before the command line refuses its address:
# a mistake is told within a second, where Dask's own client waits 30 s (and Prefect's
# server has started by then).
DASK_CONNECT_SECONDS = 1.0


def _unreachable(address: str) -> str | None:
    """Why a Dask scheduler address cannot be used, or None when something answers there."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls"):  # other transports: left to Dask to judge
            return None
        host, port = parse_host_port(location)
    except ValueError as err:
        return str(err)
    try:
        with socket.create_connection((host, port), timeout=DASK_CONNECT_SECONDS):
            return None
    except OSError as err:
        return f"no scheduler answers ({err.strerror or type(err).__name__})"


@contextmanager
def _locked(warehouse: Path) -> Iterator[None]:
    """Hold the warehouse lock from the start: a second run is told at once, not after setup."""
    try:
        with write.warehouse_lock(warehouse):
            yield
    except WarehouseLockedError as err:
        _fail(err)


DaskOpt = Annotated[
    str | None,
    typer.Option("--dask", help="Address of a running Dask scheduler to send batches to."),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", help="Start a local Dask cluster of N worker processes.")
]
AllowEmptyOpt = Annotated[
    bool,
    typer.Option(
        "--allow-empty",
        help="Let a date that has committed articles be replaced by a run with no input.",
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="TOML settings file (default: newsetl.toml in this folder, if any)."
    ),
]


MapOpt = Annotated[
    str | None,
    typer.Option(
        "--map",
        help="Where a record's fields are, as FIELD=KEY,...: e.g. text=maintext,"
        "published_at=date_publish (fields: html, text, url, title, published_at, source, author, "
        "id).",
    ),
]


def _settings(config: Path | None, field_map: str | None = None) -> Settings | None:
    """The settings of --config FILE, else of ./newsetl.toml when there is one, else None (the
    defaults), with --map's entries before the file's. A bad file or mapping is one line and
    exit status 2, before any work starts."""
    from tasks.ingest import field_keys
    from tasks.settings import DEFAULT_FILE, Settings, SettingsError, read_settings

    settings = None
    if config is not None or Path(DEFAULT_FILE).is_file():
        try:
            settings = read_settings(config if config is not None else Path(DEFAULT_FILE))
        except SettingsError as err:
            _usage(str(err))
    if settings is not None:
        try:
            field_keys(settings.ingest.field_map)
        except ValueError as err:
            _usage(f"{config or DEFAULT_FILE}: ingest.field_map: {err}")
    if field_map is None:
        return settings
    entries = tuple(e.strip() for e in field_map.split(",") if e.strip())
    try:
        field_keys(entries)
    except ValueError as err:
        _usage(f"--map: {err}")
    base = settings or Settings()
    ingest = replace(base.ingest, field_map=entries + base.ingest.field_map)
    return replace(base, ingest=ingest)


def _engine(
    dask: str | None, workers: int | None, settings: Settings | None
) -> Callable[..., RunSummary]:
    """The flow's engine, with the settings of a file when one was read."""
    from flows.engine import engine

    return engine(dask, workers) if settings is None else engine(dask, workers, settings)


@app.command()
def run(
    ctx: typer.Context,
    input_dir: InputOpt = str(PROJECT_ROOT / "seeds"),
    warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse",
    run_date: Annotated[
        str | None, typer.Option("--date", help="Logical date YYYY-MM-DD (default: today).")
    ] = None,
    dask: DaskOpt = None,
    workers: WorkersOpt = None,
    allow_empty: AllowEmptyOpt = False,
    config: ConfigOpt = None,
    field_map: MapOpt = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the run's summary as one JSON object on stdout."),
    ] = False,
) -> None:
    """Run the news_etl flow for one logical date (input INPUT/DATE/ when that folder layout is used)."""
    day = _parse_date(run_date)
    _check_engine(dask, workers)
    settings = _settings(config, field_map)
    _check_paths(input_dir, warehouse, settings)
    started = time.perf_counter()
    says = _verbosity(ctx)
    # A bar only for a person watching: not in a pipe, a log or a scheduler's capture.
    bar = errors.is_terminal and not (says.quiet or as_json)
    with _locked(warehouse), _run_log(warehouse) as log:
        from flows.progress import progress_bar

        _start_api()
        with progress_bar(errors) if bar else nullcontext():
            summary = _guarded(
                lambda: _engine(dask, workers, settings)(input_dir, warehouse, day, allow_empty),
                says.verbose,
                log,
            )
    seconds = time.perf_counter() - started
    if as_json:
        sys.stdout.write(summary_json(summary, seconds, warehouse) + "\n")
        return
    if says.quiet:
        return
    _print_summary(summary, seconds)
    console.print(f"warehouse: {warehouse}  (try: newsetl report top_entities)")


def summary_json(summary: RunSummary, seconds: float, warehouse: Path) -> str:
    """A run's summary as one line of JSON: the `runs` row's fields, the seconds, the warehouse."""
    fields = {
        k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(summary).items()
    }
    return json.dumps({**fields, "seconds": round(seconds, 3), "warehouse": str(warehouse)})


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--start", help="First logical date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last logical date, YYYY-MM-DD (included).")],
    input_dir: InputOpt = str(PROJECT_ROOT / "seeds"),
    warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse",
    force: Annotated[
        bool, typer.Option("--force", help="Run dates that are already complete too.")
    ] = False,
    dask: DaskOpt = None,
    workers: WorkersOpt = None,
    allow_empty: AllowEmptyOpt = False,
    config: ConfigOpt = None,
    field_map: MapOpt = None,
) -> None:
    """Run each logical date from --start to --end, skipping complete dates unless --force."""
    first, last = _parse_date(start, "--start"), _parse_date(end, "--end")
    assert first is not None and last is not None
    if last < first:
        _usage(f"--end {last} is before --start {first}")
    _check_engine(dask, workers)
    settings = _settings(config, field_map)
    _check_paths(input_dir, warehouse, settings)
    failed: list[str] = []
    with _locked(warehouse):
        _start_api()
        runner = _engine(dask, workers, settings)
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            if not force and write.committed_attempts(warehouse).get(day.isoformat()):
                console.print(f"{day}: complete, skipped (--force to run it again)")
                continue
            try:
                summary = runner(input_dir, warehouse, day, allow_empty)
            except Exception as err:  # one failed date must not stop the others, as in Airflow
                console.print(f"{day}: failed: {type(err).__name__}: {err}", style="red")
                failed.append(day.isoformat())
                continue
            console.print(
                f"{day}: {summary.articles} articles ({summary.reused_articles} reused), "
                f"{summary.rejects} rejects"
            )
    if failed:
        console.print(f"failed dates: {', '.join(failed)}", style="red")
        raise typer.Exit(1)


def _start_api() -> None:
    """Start Prefect's temporary server first, load the flow's modules while it starts.

    The server spends its start importing; this process imports Prefect, spaCy and the
    tasks and loads the first batch's models. On two cores the two go side by side instead
    of one after the other. A configured API that does not answer
    is one line and exit status 2.
    """
    from flows import api

    early = api.start_early()  # before anything imports Prefect
    _skip_exit_collection()
    from flows.engine import start_api

    try:
        start_api(warm=early is not None)
    except api.ServerError as err:
        _fail(err)


def _skip_exit_collection() -> None:
    """Spare the interpreter's exit its garbage collections of every object a run loaded.

    After a run they walk every object Prefect, spaCy and the models made. Frozen by an exit
    handler, the objects are left to the process's end; the other exit handlers run as
    before (Prefect's log and event flush, the temporary server's stop), and a caller's
    process (a test session) keeps collecting until its exit.
    """
    atexit.unregister(gc.freeze)  # once, however many runs a process makes
    atexit.register(gc.freeze)


def _guarded(call: Callable[[], RunSummary], verbose: bool, log: Path) -> RunSummary:
    """Run the flow; a failed check or a date that would be emptied is one clear line, and any
    other failure one line pointing at the run's log and exit status 1 (its traceback with -v)."""
    from flows.context import DataCheckError, EmptyInputError

    try:
        return call()
    except (DataCheckError, EmptyInputError) as err:
        _fail(err)
    except Exception as err:
        logging.getLogger("newsetl").exception("the run failed")
        if verbose:
            raise
        errors.print(f"error: {type(err).__name__}: {err} (log: {log}; -v shows the traceback)",
                     style="red", soft_wrap=True)  # fmt: skip
        raise typer.Exit(1) from err


# A run's log stays for the last runs only: enough to look back at a week of nightly runs.
LOG_FILES_KEPT = 20


@contextmanager
def _run_log(warehouse: Path) -> Iterator[Path]:
    """Write the run's log lines (Prefect's and ours) to WAREHOUSE/logs/run-<UTC time>.log."""
    folder = warehouse / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.glob("run-*.log"))[: -(LOG_FILES_KEPT - 1) or None]:
        old.unlink(missing_ok=True)
    path = folder / f"run-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()


def _print_summary(summary: RunSummary, seconds: float) -> None:
    """Print a run's counts."""
    table = Table(title=f"newsetl run {summary.run_id}", show_header=False)
    for label, value in (
        ("inputs", summary.inputs),
        ("articles", summary.articles),
        ("reused articles", summary.reused_articles),
        ("rejects", summary.rejects),
        ("removed lines", summary.removed_lines),
        ("entity mentions", summary.entity_mentions),
        ("entities", summary.entities),
        ("quotes", summary.quotes),
        ("article links", summary.article_links),
        ("stories", summary.stories),
        ("warnings", "; ".join(summary.warnings) or "none"),
        ("seconds", f"{seconds:.1f}"),
    ):
        table.add_row(label, str(value))
    console.print(table)


@app.command()
def check(warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse") -> None:
    """Run the data-quality checks of tasks/warehouse/sql/checks/ over the whole warehouse."""
    try:
        with views.connect(warehouse) as con:
            results = views.run_checks(con, views.check_files())
    except (views.WarehouseError, duckdb.Error) as err:
        _fail(err)
    table = Table("check", "severity", "failing rows", "first failing row")
    for r in results:
        table.add_row(r.name, r.severity, str(r.failing_rows), r.sample)
    console.print(table)
    if any(r.fails_run for r in results):
        raise typer.Exit(1)


@app.command()
def serve(
    cron: Annotated[
        str, typer.Option("--cron", help='Cron schedule, e.g. "0 6 * * *".')
    ] = "0 6 * * *",
    input_dir: InputOpt = str(PROJECT_ROOT / "seeds"),
    warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse",
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = "daily",
) -> None:
    """Serve the flow on a cron schedule; each scheduled run uses its scheduled day as run date."""
    from prefect import serve as prefect_serve

    from flows.pipeline import deployment

    prefect_serve(deployment(cron, input_dir, warehouse, name))


def _emit(columns: list[str], rows: list[tuple[Any, ...]], fmt: str, stream: TextIO) -> None:
    """Write a result as a table, CSV or JSON lines."""
    if fmt == "csv":
        writer = csv.writer(stream)
        writer.writerow(columns)
        writer.writerows([_csv_value(v) for v in row] for row in rows)
    elif fmt == "json":
        for row in rows:
            line = json.dumps(
                dict(zip(columns, row, strict=True)), default=_json_default, ensure_ascii=False
            )
            stream.write(line + "\n")
    else:
        # A row is one line, cut to the terminal's width: wrapped, a report of long quotes
        # ran to thousands of lines.
        table = Table(*(Column(c, no_wrap=True, overflow="ellipsis") for c in columns))
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)


def _csv_value(value: object) -> object:
    """A CSV cell: lists and structs as JSON (a list a JSON array), not Python's text of them."""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    return value


def _json_default(value: object) -> str:
    """Serialize dates and other non-JSON values as text."""
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def _check_output(fmt: str, out: Path | None) -> None:
    """Refuse a format or output file that cannot be written, before any query runs."""
    if fmt not in FORMATS:
        _usage(f"--format must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]}, not {fmt!r}")
    if out is not None and fmt == "table":
        _usage("--out writes csv, json or parquet; a table is for the terminal")
    if out is not None and not out.parent.is_dir():
        _usage(f"--out {out}: folder {out.parent} does not exist")
    if fmt == "parquet" and out is None and sys.stdout.isatty():
        _usage("--format parquet is binary: give --out FILE or redirect standard output")


def _query(
    warehouse: Path,
    sql: str,
    fmt: str,
    read_only: bool = False,
    filters: views.Filters = views.Filters(),  # noqa: B008 - frozen: one shared default is safe
    out: Path | None = None,
) -> None:
    """Run SQL against the warehouse views and write the result."""
    _check_output(fmt, out)
    try:
        with views.connect(warehouse) as con:
            rel = views.relation(con, sql, read_only, filters)
            if fmt == "parquet":
                result: pa.Table | tuple[list[str], list[tuple[Any, ...]]] = (
                    rel.to_arrow_table() if rel is not None else pa.table({})
                )
            else:
                result = (list(rel.columns), rel.fetchall()) if rel is not None else ([], [])
    except (views.WarehouseError, duckdb.Error) as err:
        _fail(err)
    if isinstance(result, pa.Table):
        _write_parquet(result, out)
        return
    columns, rows = result
    with open(out, "w", encoding="utf-8", newline="") if out else nullcontext(sys.stdout) as f:
        _emit(columns, rows, fmt, f)


def _write_parquet(table: pa.Table, out: Path | None) -> None:
    """Write a result as one Parquet file, or its bytes to standard output."""
    if out is not None:
        pq.write_table(table, out)
        return
    # Parquet's footer is written last: built in memory, so a pipe needs no seek.
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer)
    sys.stdout.buffer.write(buffer.getvalue().to_pybytes())
    sys.stdout.buffer.flush()


def _day(value: str | None, option: str) -> date | None:
    """A date option as YYYY-MM-DD, any day (a report's bound); else one line, exit 2."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _usage(f"{option} {value!r} is not a date YYYY-MM-DD")


def _filters(
    since: str | None, until: str | None, outlet: str | None, limit: str | None = None
) -> views.Filters:
    """The filters of a report or dashboard from their options; a wrong one is one line, exit 2."""
    filters = views.Filters(
        _day(since, "--since"), _day(until, "--until"), outlet, _count(limit, "--limit")
    )
    if filters.since and filters.until and filters.since > filters.until:
        _usage(f"--since {filters.since} is after --until {filters.until}")
    return filters


def _count(value: str | None, option: str) -> int | None:
    """A positive whole number option; else one line, exit 2."""
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        _usage(f"{option} {value!r} is not a whole number of 1 or more")
    return int(value)


def _fail(err: Exception) -> NoReturn:
    """Say what went wrong in one line and exit with status 2."""
    errors.print(str(err), style="red", soft_wrap=True)
    raise typer.Exit(2) from err


@app.command()
def report(
    name: Annotated[
        str,
        typer.Argument(
            help="Report name: a shipped report, or one of WAREHOUSE/reports/*.sql of your own."
        ),
    ],
    warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse",
    fmt: FormatOpt = "table",
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="First day counted, YYYY-MM-DD: an article's publication day, else its run date.",
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day counted, YYYY-MM-DD (included).")
    ] = None,
    outlet: Annotated[
        str | None, typer.Option("--outlet", help="Only this outlet's articles (any case).")
    ] = None,
    limit: Annotated[
        str | None,
        typer.Option("--limit", help="At most N rows (a report without it has its own default)."),
    ] = None,
    out: OutOpt = None,
) -> None:
    """Run a named report (one SELECT statement; anything else is refused).

    Its filters are bound as DuckDB parameters ($since, $until, $outlet, $limit), never
    pasted into the SQL; a report of your own names the ones it takes.
    """
    filters = _filters(since, until, outlet, limit)
    try:
        sql = views.report_sql(name, warehouse)
    except views.WarehouseError as err:
        _fail(err)
    _query(warehouse, sql, fmt, read_only=True, filters=filters, out=out)


@app.command()
def sql(
    statement: Annotated[str, typer.Argument(help="SQL over the views (articles, quotes, ...).")],
    warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse",
    fmt: FormatOpt = "table",
    out: OutOpt = None,
) -> None:
    """Run ad-hoc SQL with the warehouse views registered."""
    _query(warehouse, statement, fmt, out=out)


@app.command("schema-doc")
def schema_doc(
    check: Annotated[
        bool, typer.Option("--check", help="Fail if warehouse/README.md is stale.")
    ] = False,
) -> None:
    """Write warehouse/README.md from the schema declarations."""
    _generated("README.md", schemas.render_markdown(), "schema-doc", check)


@app.command("settings-doc")
def settings_doc(
    check: Annotated[
        bool, typer.Option("--check", help="Fail if warehouse/SETTINGS.md is stale.")
    ] = False,
) -> None:
    """Write warehouse/SETTINGS.md from the settings dataclasses and their comments."""
    from tasks.settings import render_settings_markdown

    _generated("SETTINGS.md", render_settings_markdown(), "settings-doc", check)


def _generated(name: str, text: str, command: str, check: bool) -> None:
    """Write a generated page of warehouse/, or with `check` fail (exit 1) if it is stale."""
    target = PROJECT_ROOT / "warehouse" / name
    if check:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            errors.print(f"warehouse/{name} is stale: run `newsetl {command}`", style="red")
            raise typer.Exit(1)
        return
    target.write_text(text, encoding="utf-8")
    console.print(f"wrote {target}")


# `newsetl dashboard` (issue 21, part 1): the site is built by tasks.dashboard; here only the
# options are checked, before any work.
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="First day shown, YYYY-MM-DD: an article's publication day, else its run date.",
    ),
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Last day shown, YYYY-MM-DD (included).")
]


@app.command()
def dashboard(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the site into (a new build replaces it).")
    ],
    warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse",
    since: SinceOpt = None,
    until: UntilOpt = None,
    outlet: Annotated[
        str | None, typer.Option("--outlet", help="Only this outlet's articles (any case).")
    ] = None,
    serve_site: Annotated[
        bool, typer.Option("--serve", help="Then serve the site on 127.0.0.1 until Ctrl-C.")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Port of --serve (0: any free one).")] = 8000,
) -> None:
    """Build a static dashboard site of the warehouse: stories, entities, quotes, cleaning
    audit, run health. Its pages open from the file system, with no network."""
    from tasks import dashboard as site

    filters = _filters(since, until, outlet)
    if warehouse.exists() and not warehouse.is_dir():
        _usage(f"--warehouse {warehouse} is not a folder")
    if (problem := site.check_out(out)) is not None:
        _usage(f"--out {out}: {problem}")
    if serve_site and not 0 <= port <= 65535:
        _usage(f"--port {port} is not a port number (0 to 65535)")
    try:  # bound first: a port in use is told before the build, not after
        server = site.site_server(out, port) if serve_site else None
    except OSError as err:
        _usage(f"--port {port}: {err.strerror or err}")
    try:
        pages = site.build_site(warehouse, out, filters)
    except (views.WarehouseError, site.DashboardError, duckdb.Error) as err:
        _fail(err)
    console.print(f"wrote {len(pages)} pages into {out}: open {pages[0].as_uri()}")
    if server is None:
        return
    with server:
        console.print(f"serving http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("stopped")
