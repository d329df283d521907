"""DuckDB access to the warehouse: register the views, run reports and ad-hoc SQL."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tasks.store import schemas

# The SQL (views, reports, checks) ships inside the package, so an installed wheel has it.
SQL_DIR = Path(__file__).resolve().parent / "sql"
DATABASE_FILE = "newsetl.duckdb"
# The session variable the views read the warehouse folder from (views.sql, `warehouse_dir`):
# set on every connection newsetl opens, never stored in newsetl.duckdb.
WAREHOUSE_VARIABLE = "newsetl_warehouse"
# newsetl.duckdb is written in the storage format of DuckDB 1.4 (the long-term release line),
# so DuckDB 1.4 and later clients open it, not only the version that wrote it.
STORAGE_VERSION = "v1.4.0"
# The views file holds only these statements: macros, then one view per table.
SEVERITY = re.compile(r"^--\s*severity:\s*(error|warn)\b", re.I | re.M)
STATEMENT = re.compile(r"CREATE OR REPLACE (?P<kind>MACRO|VIEW) (?P<name>\w+).*?;", re.I | re.S)


class WarehouseError(Exception):
    """The warehouse cannot answer: no run written yet, or an unknown report."""


def views_sql(sql_dir: Path = SQL_DIR) -> str:
    """The view definitions: they hold no path, and read the folder from `warehouse_dir()`."""
    return (sql_dir / "views.sql").read_text(encoding="utf-8")


def _storage_config(database: str) -> dict[str, Any]:
    """The storage format of a database file, on a DuckDB that can choose one (1.4 and later)."""
    major, minor = (int(part) for part in duckdb.__version__.split(".")[:2])
    if database == ":memory:" or (major, minor) < (1, 4):
        return {}
    return {"storage_compatibility_version": STORAGE_VERSION}


def connect(warehouse: Path, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """Open DuckDB with the warehouse views registered."""
    if not any(warehouse.glob("runs/*/*.parquet")):
        raise WarehouseError(f"no run in {warehouse}: run `newsetl run` first")
    con = duckdb.connect(database, config=_storage_config(database))
    # The session's own: a database file written here stores the views, not the folder.
    con.execute(f"SET VARIABLE {WAREHOUSE_VARIABLE} = ?", [warehouse.resolve().as_posix()])
    for match in STATEMENT.finditer(views_sql()):
        try:
            con.execute(match.group(0))
        except duckdb.IOException:
            if match.group("kind").upper() != "VIEW":
                raise
            # A table with no file yet (e.g. a cross-date table in a warehouse written by an
            # earlier version) reads as empty, and so does a view over all dates that reads
            # such a table's files itself; the views after it read the empty one.
            con.execute(empty_view_sql(match.group("name")))
    return con


def empty_view_sql(name: str) -> str:
    """A view with the declared columns of a table or view (`schemas.VIEWS`) and no rows."""
    schema = schemas.TABLES.get(name, schemas.VIEWS.get(name))
    if schema is None:
        raise WarehouseError(f"no declaration for view {name!r} in tasks/store/schemas.py")
    cols = ", ".join(f"CAST(NULL AS {schemas.sql_type(f.type)}) AS {f.name}" for f in schema)
    return f"CREATE OR REPLACE VIEW {name} AS SELECT {cols} WHERE false"


def write_database(warehouse: Path) -> Path:
    """Write warehouse/newsetl.duckdb holding the views, for `duckdb` and dashboards.

    The views find their files next to the database file (or where the session variable
    `newsetl_warehouse` says), so a copy of the warehouse folder reads its own files; the
    file is in DuckDB 1.4's storage format, which DuckDB 1.4 and later open.
    """
    target = warehouse / DATABASE_FILE
    tmp = warehouse / f".{DATABASE_FILE}.tmp"
    # DuckDB reads "?" in a database path as the start of options: built elsewhere, then moved.
    with tempfile.TemporaryDirectory() as folder:
        built = Path(folder) / DATABASE_FILE
        connect(warehouse, str(built)).close()
        shutil.copyfile(built, tmp)
    tmp.replace(target)
    return target


def report_files(warehouse: Path | None = None, sql_dir: Path = SQL_DIR) -> dict[str, Path]:
    """The reports by name: the shipped ones, and the user's in WAREHOUSE/reports/.

    A user's report never replaces a shipped one of the same name.
    """
    folders = [sql_dir / "reports"]
    if warehouse is not None:
        folders.insert(0, warehouse / "reports")
    return {p.stem: p for folder in folders for p in sorted(folder.glob("*.sql"))}


def report_names(warehouse: Path | None = None, sql_dir: Path = SQL_DIR) -> list[str]:
    """Names of the available reports."""
    return sorted(report_files(warehouse, sql_dir))


def report_sql(name: str, warehouse: Path | None = None, sql_dir: Path = SQL_DIR) -> str:
    """The SQL of one report, chosen by name only (never a path)."""
    path = report_files(warehouse, sql_dir).get(name)
    if path is None:
        known = ", ".join(report_names(warehouse, sql_dir))
        raise WarehouseError(f"unknown report {name!r}; known: {known}")
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Filters:
    """The bounds a report or dashboard query binds as DuckDB parameters; None is no bound.

    A report names the ones it takes as `$since`, `$until`, `$outlet` and `$limit`; they are
    always bound, never pasted into its SQL.
    """

    since: date | None = None
    until: date | None = None
    outlet: str | None = None
    limit: int | None = None


def parameters(
    con: duckdb.DuckDBPyConnection, sql: str, filters: Filters, strict: bool = True
) -> dict[str, object]:
    """The filters a statement names, as its parameters; a parameter no filter binds is an
    error, and so (when `strict`) is a filter given that the statement does not take."""
    statements = con.extract_statements(sql)
    named = set().union(*(st.named_parameters for st in statements))
    values = asdict(filters)
    unknown = sorted(named - values.keys())
    if unknown:
        known = ", ".join(f"${k}" for k in values)
        raise WarehouseError(f"the SQL names ${', $'.join(unknown)}; newsetl binds only {known}")
    refused = sorted(k for k, v in values.items() if v is not None and k not in named)
    if refused and strict:
        raise WarehouseError(f"this report takes no --{', --'.join(refused)}")
    return {k: values[k] for k in named}


def relation(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    read_only: bool = False,
    filters: Filters = Filters(),
    strict: bool = True,
) -> duckdb.DuckDBPyRelation | None:
    """Run a query with its filters bound; None for a statement that returns no rows.

    `read_only` accepts only a single SELECT: a report or check file cannot write files
    (`COPY ... TO`), attach databases or change settings.
    """
    if read_only:
        kinds = [st.type for st in con.extract_statements(sql)]
        if kinds != [duckdb.StatementType.SELECT]:
            found = ", ".join(k.name for k in kinds) or "nothing"
            raise WarehouseError(f"a report or check must be one SELECT statement, not {found}")
    params = parameters(con, sql, filters, strict)
    return con.sql(sql, params=params) if params else con.sql(sql)


def fetch(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    read_only: bool = False,
    filters: Filters = Filters(),
) -> tuple[list[str], list[tuple[object, ...]]]:
    """Run a query with its filters bound and return its column names and rows."""
    rel = relation(con, sql, read_only, filters)
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
        columns, rows = fetch(con, sql, read_only=True)
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
