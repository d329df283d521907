"""The `newsetl` command line: run the flow, serve it on a schedule, query the warehouse."""

from __future__ import annotations

import csv
import json
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from flows import PROJECT_ROOT
from tasks import query, schemas

app = typer.Typer(
    help="Batch ETL for news articles: seeds in, Parquet warehouse out.", no_args_is_help=True
)
console = Console()

InputOpt = Annotated[Path, typer.Option("--input", help="Folder of input articles.")]
WarehouseOpt = Annotated[
    Path, typer.Option("--warehouse", help="Warehouse folder (Parquet + views).")
]
FormatOpt = Annotated[str, typer.Option("--format", help="table, csv or json.")]


def _parse_date(value: str | None) -> date | None:
    """Parse --date as YYYY-MM-DD."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise typer.BadParameter(f"{value!r} is not YYYY-MM-DD") from err


@app.command()
def run(
    input_dir: InputOpt = PROJECT_ROOT / "seeds",
    warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse",
    run_date: Annotated[
        str | None, typer.Option("--date", help="Logical date YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """Run the news_etl flow over an input folder into the warehouse."""
    from flows.pipeline import news_etl

    day = _parse_date(run_date)
    started = time.perf_counter()
    summary = news_etl(input_dir=input_dir, warehouse=warehouse, run_date=day)
    seconds = time.perf_counter() - started
    table = Table(title=f"newsetl run {summary.run_id}", show_header=False)
    for label, value in (
        ("inputs", summary.inputs),
        ("articles", summary.articles),
        ("rejects", summary.rejects),
        ("removed lines", summary.removed_lines),
        ("entity mentions", summary.entity_mentions),
        ("entities", summary.entities),
        ("quotes", summary.quotes),
        ("article links", summary.article_links),
        ("stories", summary.stories),
        ("seconds", f"{seconds:.1f}"),
    ):
        table.add_row(label, str(value))
    console.print(table)
    console.print(f"warehouse: {warehouse}  (try: newsetl report top_entities)")


@app.command()
def serve(
    cron: Annotated[
        str, typer.Option("--cron", help='Cron schedule, e.g. "0 6 * * *".')
    ] = "0 6 * * *",
    input_dir: InputOpt = PROJECT_ROOT / "seeds",
    warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse",
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = "daily",
) -> None:
    """Serve the flow on a cron schedule; each scheduled run uses its scheduled day as run date."""
    from prefect import serve as prefect_serve

    from flows.pipeline import deployment

    prefect_serve(deployment(cron, input_dir, warehouse, name))


def _emit(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    """Print a result as a table, CSV or JSON lines."""
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "json":
        for row in rows:
            print(
                json.dumps(
                    dict(zip(columns, row, strict=True)), default=_json_default, ensure_ascii=False
                )
            )
    elif fmt == "table":
        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)
    else:
        raise typer.BadParameter(f"--format must be table, csv or json, not {fmt!r}")


def _json_default(value: object) -> str:
    """Serialize dates and other non-JSON values as text."""
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def _query(warehouse: Path, sql: str, fmt: str) -> None:
    """Run SQL against the warehouse views and print the result."""
    try:
        with query.connect(warehouse) as con:
            columns, rows = query.fetch(con, sql)
    except (query.WarehouseError, duckdb.Error) as err:
        _fail(err)
    _emit(columns, rows, fmt)


def _fail(err: Exception) -> NoReturn:
    """Say what went wrong in one line and exit with status 2."""
    console.print(f"[red]{err}[/red]")
    raise typer.Exit(2) from err


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="Report name (a file in warehouse/reports/).")],
    warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse",
    fmt: FormatOpt = "table",
) -> None:
    """Run a named report."""
    try:
        sql = query.report_sql(name)
    except query.WarehouseError as err:
        _fail(err)
    _query(warehouse, sql, fmt)


@app.command()
def sql(
    statement: Annotated[str, typer.Argument(help="SQL over the views (articles, quotes, ...).")],
    warehouse: WarehouseOpt = PROJECT_ROOT / "warehouse",
    fmt: FormatOpt = "table",
) -> None:
    """Run ad-hoc SQL with the warehouse views registered."""
    _query(warehouse, statement, fmt)


@app.command("schema-doc")
def schema_doc(
    check: Annotated[
        bool, typer.Option("--check", help="Fail if warehouse/README.md is stale.")
    ] = False,
) -> None:
    """Write warehouse/README.md from the schema declarations."""
    target = PROJECT_ROOT / "warehouse" / "README.md"
    text = schemas.render_markdown()
    if check:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            console.print("[red]warehouse/README.md is stale: run `newsetl schema-doc`[/red]")
            raise typer.Exit(1)
        return
    target.write_text(text, encoding="utf-8")
    console.print(f"wrote {target}")
