"""Write: tables follow the one schema declaration; partitions are replaced atomically."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tasks import query, schemas, write
from tasks.records import Entity, Reject, RunSummary

DAY = date(2025, 1, 15)
STARTED = datetime(2025, 1, 15, 6, 0, tzinfo=UTC)


def _summary(status: str = "succeeded") -> RunSummary:
    return RunSummary("r1", None, "in", STARTED, STARTED, status, None, 1, 0, 1, 0, 0, 0, 0, 0, 0)  # type: ignore[arg-type]


def test_every_table_declares_descriptions_and_one_partition_column() -> None:
    for name, schema in schemas.TABLES.items():
        assert all(schemas.describe(f) for f in schema), name
        assert [f.name for f in schema if schemas.is_flag(f, schemas.PARTITION)] == ["run_date"], (
            name
        )
        assert "run_date" not in schemas.file_schema(schema).names


def test_to_table_uses_declared_schema_and_rejects_missing_columns() -> None:
    entity = Entity(
        "e1", "Antony J. Blinken", "PERSON", ("Blinken", "Antony J. Blinken"), 3, 2, None, None
    )
    table = write.to_table("entities", [entity], {"run_id": "r1"})
    assert table.schema == schemas.file_schema(schemas.ENTITIES)
    assert table.column("aliases").to_pylist() == [["Blinken", "Antony J. Blinken"]]
    with pytest.raises(AttributeError):
        write.to_table("entities", [Reject("a", "b", "c", "d")], {"run_id": "r1"})


def test_rerun_replaces_partition_and_runs_append(tmp_path: Path) -> None:
    for attempt, uri in (("attempt-1", "first.txt"), ("attempt-2", "second.txt")):
        tables = {
            "rejects": write.to_table(
                "rejects", [Reject(uri, "empty_input", "0 bytes", "ingest")], {"run_id": "r1"}
            ),
            "runs": write.to_table("runs", [_summary()], {}),
        }
        write.write_tables(tmp_path, tables, DAY, attempt)
    part = write.partition_dir(tmp_path, "rejects", DAY)
    assert sorted(p.name for p in part.iterdir()) == ["data.parquet"]
    assert pq.read_table(part / "data.parquet").column("source_uri").to_pylist() == ["second.txt"]
    runs = sorted(p.name for p in write.partition_dir(tmp_path, "runs", DAY).iterdir())
    assert runs == ["attempt-1.parquet", "attempt-2.parquet"]


def test_views_read_partitions_with_run_date(tmp_path: Path) -> None:
    for day in (date(2025, 1, 1), date(2025, 1, 2)):
        tables = {
            "rejects": write.to_table(
                "rejects", [Reject("a.txt", "empty_input", "x", "ingest")], {"run_id": "r"}
            ),
            "runs": write.to_table("runs", [_summary()], {}),
        }
        write.write_tables(tmp_path, tables, day, "attempt-1")
    with query.connect(tmp_path) as con:
        got = con.sql("SELECT run_date, reason FROM rejects ORDER BY run_date").fetchall()
    assert got == [(date(2025, 1, 1), "empty_input"), (date(2025, 1, 2), "empty_input")]


def test_connect_without_runs_says_so(tmp_path: Path) -> None:
    with pytest.raises(query.WarehouseError, match="no run"):
        query.connect(tmp_path)


def test_database_file_holds_views(tmp_path: Path) -> None:
    tables = {
        "rejects": write.to_table(
            "rejects", [Reject("a.txt", "empty_input", "x", "ingest")], {"run_id": "r"}
        ),
        "runs": write.to_table("runs", [_summary()], {}),
    }
    write.write_tables(tmp_path, tables, DAY, "attempt-1")
    path = query.write_database(tmp_path)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM rejects").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM quotes").fetchone() == (0,)


def test_run_id_is_stable_and_input_sensitive() -> None:
    a = write.run_id_for(DAY, [], [Reject("a.txt", "empty_input", "x", "ingest")])
    assert a == write.run_id_for(
        DAY, [], [Reject("a.txt", "empty_input", "other detail", "ingest")]
    )
    assert a != write.run_id_for(DAY, [], [Reject("b.txt", "empty_input", "x", "ingest")])
    assert a.startswith("2025-01-15-")


def test_schema_doc_is_current() -> None:
    doc = (Path(__file__).resolve().parents[1] / "warehouse" / "README.md").read_text(
        encoding="utf-8"
    )
    assert doc == schemas.render_markdown()
