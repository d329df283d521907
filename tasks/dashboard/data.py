"""The dashboard's queries: shipped reports and the SQL of tasks/dashboard/sql, filters bound."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb

from tasks import warehouse

# The dashboard's own SQL ships inside the package, beside the warehouse's reports.
SQL_DIR = Path(__file__).resolve().parent / "sql"

Row = dict[str, object]


class DashboardError(Exception):
    """The dashboard cannot be built as asked: a bad output folder, or SQL that binds badly."""


# Views every page reads, costly to derive (each query would derive them again): kept for the
# build as temporary tables of the same names, which DuckDB finds before the views.
SNAPSHOT = ("entity_summary", "stories")


def snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the costly views' rows for this connection: every later query reads them as they are."""
    for name in SNAPSHOT:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM main.{name}")


def sql_text(name: str) -> str:
    """The text of one of the dashboard's SQL files, by name."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def rows(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    filters: warehouse.Filters,
    register: str | None = None,
) -> list[Row]:
    """Run one SELECT with the filters it names bound (a page's filters apply to the queries
    that can take them); `register` keeps the result as a table of that name."""
    try:
        rel = warehouse.relation(con, sql, read_only=True, filters=filters, strict=False)
    except warehouse.WarehouseError as err:
        raise DashboardError(str(err)) from err
    if rel is None:
        return []
    table = rel.to_arrow_table()
    if register is not None:
        # Later queries read a report's answer by name instead of repeating its SQL.
        con.register(register, table)
    found: list[Row] = table.to_pylist()
    return found


def query(
    con: duckdb.DuckDBPyConnection,
    name: str,
    filters: warehouse.Filters,
    limit: int | None = None,
) -> list[Row]:
    """The rows of one of the dashboard's SQL files."""
    return rows(con, sql_text(name), replace(filters, limit=limit))


def report(
    con: duckdb.DuckDBPyConnection,
    name: str,
    filters: warehouse.Filters,
    limit: int | None = None,
) -> list[Row]:
    """The rows of a shipped report, also registered as `report_<name>` for the queries after it."""
    sql = warehouse.report_sql(name)
    return rows(con, sql, replace(filters, limit=limit), register=f"report_{name}")
