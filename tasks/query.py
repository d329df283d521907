"""DuckDB access to the warehouse: register the views, run reports and ad-hoc SQL."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from tasks import schemas

# The project's SQL (views, reports) ships beside the Parquet output in warehouse/.
SQL_DIR = Path(__file__).resolve().parents[1] / "warehouse"
DATABASE_FILE = "newsetl.duckdb"
PLACEHOLDER = "{{ warehouse }}"
# The views file holds only these statements: macros, then one view per table.
SEVERITY = re.compile(r"^--\s*severity:\s*(error|warn)\b", re.I | re.M)
STATEMENT = re.compile(r"CREATE OR REPLACE (?P<kind>MACRO|VIEW) (?P<name>\w+).*?;", re.I | re.S)


class WarehouseError(Exception):
    """The warehouse cannot answer: no run written yet, or an unknown report."""


def views_sql(warehouse: Path, sql_dir: Path = SQL_DIR) -> str:
    """The view definitions with the warehouse path filled in."""
    path = warehouse.resolve().as_posix().replace("'", "''")
    return (sql_dir / "views.sql").read_text(encoding="utf-8").replace(PLACEHOLDER, path)


def connect(warehouse: Path, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """Open DuckDB with the warehouse views registered."""
    if not any(warehouse.glob("runs/*/*.parquet")):
        raise WarehouseError(f"no run in {warehouse}: run `newsetl run` first")
    con = duckdb.connect(database)
    for match in STATEMENT.finditer(views_sql(warehouse)):
        try:
            con.execute(match.group(0))
        except duckdb.IOException:
            if match.group("kind").upper() != "VIEW":
                raise
            # A table with no file yet (e.g. added by a later version) reads as empty.
            con.execute(empty_view_sql(match.group("name")))
    return con


def empty_view_sql(name: str) -> str:
    """A view with the declared columns of a table and no rows."""
    cols = ", ".join(
        f"CAST(NULL AS {schemas.sql_type(f.type)}) AS {f.name}" for f in schemas.TABLES[name]
    )
    return f"CREATE OR REPLACE VIEW {name} AS SELECT {cols} WHERE false"


def write_database(warehouse: Path) -> Path:
    """Write warehouse/newsetl.duckdb holding the views, for `duckdb` and dashboards."""
    target = warehouse / DATABASE_FILE
    tmp = warehouse / f".{DATABASE_FILE}.tmp"
    tmp.unlink(missing_ok=True)
    connect(warehouse, str(tmp)).close()
    tmp.replace(target)
    return target


def report_names(sql_dir: Path = SQL_DIR) -> list[str]:
    """Names of the available reports."""
    return sorted(p.stem for p in (sql_dir / "reports").glob("*.sql"))


def report_sql(name: str, sql_dir: Path = SQL_DIR) -> str:
    """The SQL of one report."""
    path = sql_dir / "reports" / f"{name}.sql"
    if not path.is_file():
        raise WarehouseError(f"unknown report {name!r}; known: {', '.join(report_names(sql_dir))}")
    return path.read_text(encoding="utf-8")


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
    """Run a query and return its column names and rows."""
    rel = con.sql(sql)
    if rel is None:
        return [], []
    return list(rel.columns), rel.fetchall()


@dataclass(frozen=True)
class CheckResult:
    """One data-quality check's outcome: the rows it found, and how bad that is."""

    name: str
    severity: str  # "error" fails the run; "warn" is recorded in `runs.warnings`
    failing_rows: int
    sample: str  # the first failing row, for the message

    @property
    def fails_run(self) -> bool:
        """An error-level check that found rows: the run must not commit."""
        return self.failing_rows > 0 and self.severity == "error"


def check_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """The data-quality checks: one SQL file each, returning the rows that fail."""
    return sorted((sql_dir / "checks").glob("*.sql"))


def check_severity(sql: str) -> str:
    """A check's severity from its `-- severity: error|warn` line (error when absent)."""
    match = SEVERITY.search(sql)
    return match.group(1).lower() if match else "error"


def run_checks(con: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> list[CheckResult]:
    """Run each check on a connection whose views are the tables to check."""
    results = []
    for path in files:
        sql = path.read_text(encoding="utf-8")
        columns, rows = fetch(con, sql)
        sample = (
            ", ".join(f"{c}={v!r}" for c, v in zip(columns, rows[0], strict=True)) if rows else ""
        )
        results.append(CheckResult(path.stem, check_severity(sql), len(rows), sample))
    return results


def connect_tables(tables: Mapping[str, pa.Table], run_id: str) -> duckdb.DuckDBPyConnection:
    """DuckDB over one run's tables before they are written, under the views' names."""
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    con.register("committed_attempts", pa.table({"run_id": [run_id]}))
    return con
