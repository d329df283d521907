"""Warehouse: the DuckDB views over the Parquet tables, the reports, the checks, the schema doc."""

from tasks.warehouse.query import (
    CheckResult,
    Filters,
    WarehouseError,
    check_files,
    connect,
    connect_tables,
    fetch,
    parameters,
    relation,
    report_names,
    report_sql,
    run_checks,
    write_database,
)

__all__ = [
    "CheckResult",
    "Filters",
    "WarehouseError",
    "check_files",
    "connect",
    "connect_tables",
    "fetch",
    "parameters",
    "relation",
    "report_names",
    "report_sql",
    "run_checks",
    "write_database",
]
