"""Write: tables follow the one schema declaration; partitions are replaced atomically."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from factories import hold_lock

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
    write.prune(tmp_path)
    part = write.partition_dir(tmp_path, "rejects", DAY)
    assert sorted(p.name for p in part.iterdir()) == ["attempt-2.parquet"]
    assert pq.read_table(part / "attempt-2.parquet").column("source_uri").to_pylist() == [
        "second.txt"
    ]
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


def _rejects_run(warehouse: Path, attempt: str, uris: list[str], commit: bool = True) -> None:
    """Write a run of reject rows; without `commit`, stop before the `runs` row (a crash)."""
    rows = [Reject(u, "empty_input", "0 bytes", "ingest") for u in uris]
    table = write.to_table("rejects", rows, {"run_id": attempt})
    if commit:
        tables = {"rejects": table, "runs": write.to_table("runs", [_summary()], {})}
        write.write_tables(warehouse, tables, DAY, attempt)
        write.prune(warehouse)
    else:
        write.write_partition(warehouse, "rejects", table, DAY, attempt)


def _visible(warehouse: Path) -> list[str]:
    with query.connect(warehouse) as con:
        return [r[0] for r in con.sql("SELECT source_uri FROM rejects ORDER BY 1").fetchall()]


def test_crashed_attempt_stays_invisible_and_is_pruned(tmp_path: Path) -> None:
    _rejects_run(tmp_path, "attempt-1", ["a.txt", "b.txt"])
    # A second attempt dies after writing its rejects file, before its `runs` row.
    _rejects_run(tmp_path, "attempt-2", ["a.txt", "b.txt", "c.txt"], commit=False)
    assert _visible(tmp_path) == ["a.txt", "b.txt"]
    part = write.partition_dir(tmp_path, "rejects", DAY)
    assert len(list(part.glob("*.parquet"))) == 2
    # The next run's prune removes the dead attempt's file; the rerun then commits once.
    assert [p.name for p in write.prune(tmp_path)] == ["attempt-2.parquet"]
    _rejects_run(tmp_path, "attempt-3", ["a.txt", "b.txt", "c.txt"])
    assert _visible(tmp_path) == ["a.txt", "b.txt", "c.txt"]
    assert [p.name for p in part.glob("*.parquet")] == ["attempt-3.parquet"]


def test_failed_attempt_does_not_hide_the_committed_one(tmp_path: Path) -> None:
    _rejects_run(tmp_path, "attempt-1", ["a.txt"])
    _rejects_run(tmp_path, "attempt-2", ["z.txt"], commit=False)
    failed = write.to_table("runs", [_summary("failed")], {})
    write.write_partition(tmp_path, "runs", failed, DAY, "attempt-2")
    assert _visible(tmp_path) == ["a.txt"]
    assert write.committed_attempts(tmp_path) == {DAY.isoformat(): "attempt-1"}


def test_legacy_data_file_is_renamed_to_its_committed_attempt(tmp_path: Path) -> None:
    rows = [Reject("old.txt", "empty_input", "x", "ingest")]
    write.write_partition(
        tmp_path, "rejects", write.to_table("rejects", rows, {"run_id": "r"}), DAY, "data"
    )
    write.write_partition(
        tmp_path, "runs", write.to_table("runs", [_summary()], {}), DAY, "attempt-0"
    )
    write.prune(tmp_path)
    assert _visible(tmp_path) == ["old.txt"]
    _rejects_run(tmp_path, "attempt-1", ["new.txt"])
    assert _visible(tmp_path) == ["new.txt"]


def test_second_lock_holder_is_refused_with_the_holder(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path)
    try:
        with (
            pytest.raises(write.WarehouseLockedError, match=rf"running newsetl \(pid {holder.pid}"),
            write.warehouse_lock(tmp_path),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with write.warehouse_lock(tmp_path):  # released by the kernel when its holder died
        pass


def test_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    # The CLI takes the lock before anything slow, and the flow it runs takes it again.
    with write.warehouse_lock(tmp_path), write.warehouse_lock(tmp_path):
        pass
    holder = hold_lock(tmp_path)  # released by this process: another one can take it
    holder.kill()
    holder.wait()


def test_superseded_files_stay_for_readers_until_the_grace_period_ends(tmp_path: Path) -> None:
    _rejects_run(tmp_path, "attempt-1", ["a.txt"])
    tables = {
        "rejects": write.to_table(
            "rejects", [Reject("b.txt", "empty_input", "x", "ingest")], {"run_id": "r"}
        ),
        "runs": write.to_table("runs", [_summary()], {}),
    }
    write.write_tables(tmp_path, tables, DAY, "attempt-2")
    part = write.partition_dir(tmp_path, "rejects", DAY)
    committed_at = write.runs_file(tmp_path, DAY, "attempt-2").stat().st_mtime
    # A query that listed the files before the commit may still be reading attempt-1's.
    assert write.prune(tmp_path, grace_seconds=600, now=committed_at + 599) == []
    assert sorted(p.name for p in part.glob("*.parquet")) == ["attempt-1.parquet",
                                                             "attempt-2.parquet"]  # fmt: skip
    assert _visible(tmp_path) == ["b.txt"]
    gone = write.prune(tmp_path, grace_seconds=600, now=committed_at + 601)
    assert [p.name for p in gone] == ["attempt-1.parquet"]


def test_prune_removes_temp_files_of_runs_and_the_database(tmp_path: Path) -> None:
    _rejects_run(tmp_path, "attempt-1", ["a.txt"])
    folder = write.partition_dir(tmp_path, "runs", DAY)
    stray = folder / ".attempt-2.parquet.0123.tmp"
    stray.write_bytes(b"half a file")
    database = tmp_path / ".newsetl.duckdb.tmp"
    database.write_bytes(b"half a database")
    gone = write.prune(tmp_path)
    assert stray in gone and database in gone and not stray.exists() and not database.exists()
    assert [p.name for p in folder.iterdir()] == ["attempt-1.parquet"]


def test_running_attempts_are_marked_abandoned(tmp_path: Path) -> None:
    _rejects_run(tmp_path, "attempt-1", ["a.txt"])
    running = write.to_table("runs", [_summary("running")], {})
    write.write_partition(tmp_path, "runs", running, DAY, "attempt-2")
    marked = write.abandon_running(tmp_path, "attempt-3")
    assert [p.name for p in marked] == ["attempt-2.parquet"]
    row = pq.read_table(write.runs_file(tmp_path, DAY, "attempt-2")).to_pylist()[0]
    assert row["status"] == "abandoned" and "attempt-3" in row["error"]
    assert write.committed_attempts(tmp_path) == {DAY.isoformat(): "attempt-1"}
    assert write.abandon_running(tmp_path, "attempt-4") == []


def test_views_read_a_warehouse_whose_path_holds_glob_characters(tmp_path: Path) -> None:
    warehouse = tmp_path / "w[1]*?{a,b}'s"
    _rejects_run(warehouse, "attempt-1", ["a.txt"])
    assert _visible(warehouse) == ["a.txt"]
    assert query.write_database(warehouse).is_file()
