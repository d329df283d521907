"""Write: tables follow the one schema declaration; each date folder's current file is that of
the latest committed attempt that wrote one there, as the views read it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import hold_lock

from tasks.core.records import (
    Article,
    ArticleLink,
    Entity,
    Reject,
    RemovedLine,
    RunOutput,
    RunSummary,
)
from tasks.store import reuse, schemas, write
from tasks.warehouse import query

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
    doc = (Path(__file__).resolve().parents[2] / "warehouse" / "README.md").read_text(
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


# Cross-date commits: an attempt may write files into other dates' folders, committed at once
# by its own `runs` row. Every file below holds its attempt's stem as `run_id`, so a reader
# can tell which file it got.
D1, D2, D3 = date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)


def _rejects(warehouse: Path, day: date, attempt: str, uri: str = "a.txt") -> Path:
    """Write an attempt's `rejects` file for a date."""
    row = Reject(uri, "empty_input", "0 bytes", "ingest")
    table = write.to_table("rejects", [row], {"run_id": attempt})
    return write.write_partition(warehouse, "rejects", table, day, attempt)


def _id_table(attempt: str) -> pa.Table:
    """An attempt's `id_map` content: one story mapped to an id naming the attempt."""
    row = {"kind": "story", "local_id": "s1", "global_id": f"g-{attempt}", "name": None,
           "run_id": attempt}  # fmt: skip
    return pa.Table.from_pylist([row], schema=schemas.file_schema(schemas.ID_MAP))


def _id_map(warehouse: Path, day: date, attempt: str) -> Path:
    """Write an attempt's `id_map` file for a date (a cross-date table)."""
    return write.write_partition(warehouse, "id_map", _id_table(attempt), day, attempt)


def _commit(
    warehouse: Path, day: date, attempt: str, status: str = "succeeded", at: float | None = None
) -> Path:
    """Write an attempt's `runs` row; `at` sets its commit time (the file's mtime)."""
    path = write.write_partition(
        warehouse, "runs", write.to_table("runs", [_summary(status)], {}), day, attempt
    )
    if at is not None:
        os.utime(path, (at, at))
    return path


def _macro(warehouse: Path, name: str) -> dict[date, list[str]]:
    """The attempts whose rows `warehouse_table(name)` of views.sql reads, by run date."""
    sql = f"SELECT DISTINCT run_date, run_id FROM warehouse_table('{name}')"
    found: dict[date, list[str]] = {}
    with query.connect(warehouse) as con:
        for day, run_id in con.sql(sql).fetchall():
            found.setdefault(day, []).append(run_id)
    return {day: sorted(ids) for day, ids in found.items()}


def _current(warehouse: Path, name: str) -> dict[date, list[str]]:
    """The attempts whose rows `current_files` reads, by run date."""
    return {
        day: sorted(set(pq.read_table(path).column("run_id").to_pylist()))
        for day, path in write.current_files(warehouse, name).items()
    }


def _files(warehouse: Path) -> set[Path]:
    """Every file in the warehouse."""
    return {p for p in warehouse.rglob("*") if p.is_file()}


def test_crashed_attempt_writing_two_dates_is_invisible_and_pruned(tmp_path: Path) -> None:
    for day, attempt in ((D1, "attempt-1"), (D2, "attempt-2")):
        _rejects(tmp_path, day, attempt)
        _id_map(tmp_path, day, attempt)
        _commit(tmp_path, day, attempt)
    # attempt-3 (of D2) writes D2's files and D1's id_map, then dies before its commit.
    crashed = {_rejects(tmp_path, D2, "attempt-3"), _id_map(tmp_path, D2, "attempt-3"),
               _id_map(tmp_path, D1, "attempt-3")}  # fmt: skip
    _commit(tmp_path, D2, "attempt-3", status="running")
    expected = {D1: ["attempt-1"], D2: ["attempt-2"]}
    assert _current(tmp_path, "id_map") == _macro(tmp_path, "id_map") == expected
    assert _current(tmp_path, "rejects") == _macro(tmp_path, "rejects") == expected
    assert (
        write.current_file(tmp_path, "id_map", D1)
        == write.partition_dir(tmp_path, "id_map", D1) / "attempt-1.parquet"
    )
    assert "attempt-3" not in write.committed_stems(tmp_path)
    # The next run marks it abandoned, then prunes: no grace period keeps files never committed.
    write.abandon_running(tmp_path, "attempt-4")
    assert set(write.prune(tmp_path, grace_seconds=3600)) == crashed
    assert not any(p.exists() for p in crashed)
    assert _current(tmp_path, "id_map") == expected
    assert write.runs_file(tmp_path, D2, "attempt-3").is_file()  # the log keeps every attempt


def test_cross_date_file_is_current_for_its_table_only(
    tmp_path: Path, make_article: Callable[..., Article]
) -> None:
    article = make_article("Body of the first day.", "a.txt", story_id="s1", source_hash="h1",
                           removed=(RemovedLine(1, "Share this", "share_link"),))  # fmt: skip
    summary = _summary()
    out = RunOutput(1, [article], [], [], [], [], [], [])
    tables = write.run_tables(out, summary, D1)
    write.write_tables(tmp_path, {**tables, "id_map": _id_table("attempt-1")}, D1, "attempt-1")
    # attempt-2, the run of D2, changes D1's id map: it writes D1's `id_map` and nothing else
    # of D1, and commits with its own `runs` row in D2's folder.
    _rejects(tmp_path, D2, "attempt-2")
    _id_map(tmp_path, D1, "attempt-2")
    committed_at = _commit(tmp_path, D2, "attempt-2").stat().st_mtime
    folder = write.partition_dir(tmp_path, "articles", D1)
    assert write.current_file(tmp_path, "articles", D1) == folder / "attempt-1.parquet"
    assert (
        write.current_file(tmp_path, "id_map", D1)
        == write.partition_dir(tmp_path, "id_map", D1) / "attempt-2.parquet"
    )
    assert _macro(tmp_path, "id_map") == _current(tmp_path, "id_map") == {D1: ["attempt-2"]}
    assert _macro(tmp_path, "articles") == {D1: ["r1"]}  # the run id of D1's own run
    id_map = write.read_current(tmp_path, "id_map", D1, columns=["global_id"])
    assert id_map is not None and id_map.to_pylist() == [{"global_id": "g-attempt-2"}]
    assert write.read_current(tmp_path, "id_map", D3) is None
    # The superseded id map goes once the grace period ends; D1's articles stay current.
    write.prune(tmp_path, grace_seconds=600, now=committed_at + 601)
    assert sorted(p.name for p in folder.iterdir()) == ["attempt-1.parquet"]
    assert [p.name for p in write.partition_dir(tmp_path, "id_map", D1).iterdir()] == [
        "attempt-2.parquet"
    ]
    # An incremental run finds D1's article in D1's current files and reads it back whole.
    known = reuse.index(tmp_path)
    assert known == {"h1": reuse.Stored(article.article_id, D1)}
    back = reuse.load(tmp_path, known.values())
    assert back.articles["h1"].body == article.body
    assert back.articles["h1"].removed == article.removed


def test_reuse_ignores_articles_of_uncommitted_attempts(
    tmp_path: Path, make_article: Callable[..., Article]
) -> None:
    first = make_article("Committed body.", "a.txt", story_id="s1", source_hash="h1")
    later = make_article("Crashed body.", "b.txt", story_id="s1", source_hash="h2")
    for attempt, article, commit in (("attempt-1", first, True), ("attempt-2", later, False)):
        tables = write.run_tables(RunOutput(1, [article], [], [], [], [], [], []), _summary(), D1)
        if not commit:
            del tables["runs"]  # the attempt dies before its commit
        write.write_tables(tmp_path, tables, D1, attempt)
    assert reuse.index(tmp_path) == {"h1": reuse.Stored(first.article_id, D1)}
    assert list(reuse.load(tmp_path, [reuse.Stored(later.article_id, D1)]).articles) == []


def test_superseded_file_stays_until_grace_after_the_next_newer_commit(tmp_path: Path) -> None:
    # Three committed attempts write D1's id map; each commits 1000 s after the one before.
    for n, day in enumerate((D1, D2, D3), start=1):
        _id_map(tmp_path, D1, f"attempt-{n}")
        _commit(tmp_path, day, f"attempt-{n}", at=1000.0 * n)
    folder = write.partition_dir(tmp_path, "id_map", D1)

    def left() -> list[str]:
        return sorted(p.stem for p in folder.iterdir())

    # attempt-1 was superseded at 2000 (attempt-2's commit), attempt-2 at 3000.
    assert write.prune(tmp_path, grace_seconds=1500, now=3400) == []
    assert left() == ["attempt-1", "attempt-2", "attempt-3"]
    assert write.prune(tmp_path, grace_seconds=1500, now=3600) == [folder / "attempt-1.parquet"]
    assert left() == ["attempt-2", "attempt-3"]
    assert write.prune(tmp_path, grace_seconds=1500, now=4600) == [folder / "attempt-2.parquet"]
    assert left() == ["attempt-3"]
    assert write.prune(tmp_path, grace_seconds=0, now=10_000) == []  # the current file stays


def test_recommit_writes_only_a_runs_row(tmp_path: Path) -> None:
    _rejects(tmp_path, D1, "attempt-1", "a.txt")
    _id_map(tmp_path, D1, "attempt-1")
    _commit(tmp_path, D1, "attempt-1")
    before = _files(tmp_path)
    runs = write.to_table("runs", [_summary()], {})
    write.recommit(tmp_path, D1, "attempt-2", runs)
    assert _files(tmp_path) - before == {write.runs_file(tmp_path, D1, "attempt-2")}
    assert before <= _files(tmp_path)
    assert write.committed_attempts(tmp_path) == {D1.isoformat(): "attempt-2"}
    committed = write.committed_run(tmp_path, D1)
    assert committed is not None and committed[0] == "attempt-2"
    # The date's files stay current: no newer attempt wrote any, so prune keeps them all.
    assert write.prune(tmp_path, grace_seconds=0) == []
    for name in ("rejects", "id_map"):
        assert _current(tmp_path, name) == _macro(tmp_path, name) == {D1: ["attempt-1"]}
    assert _visible(tmp_path) == ["a.txt"]


def test_current_file_agrees_with_the_views_macro(tmp_path: Path) -> None:
    d0 = date(2024, 12, 31)
    # D0 is a newsetl 0.1 date: `data.parquet`, committed by an attempt that wrote no file.
    _rejects(tmp_path, d0, write.LEGACY_STEM)
    _commit(tmp_path, d0, "attempt-0")
    # D2 also holds a 0.1 file, superseded by attempt-2's.
    _rejects(tmp_path, D2, write.LEGACY_STEM)
    _rejects(tmp_path, D1, "attempt-1")
    _id_map(tmp_path, D1, "attempt-1")
    _commit(tmp_path, D1, "attempt-1")
    _rejects(tmp_path, D2, "attempt-2")
    for day in (D1, D2):
        _id_map(tmp_path, day, "attempt-2")
    _commit(tmp_path, D2, "attempt-2")
    for day in (D1, D2, D3):  # crashed: no runs row at all
        _id_map(tmp_path, day, "attempt-3")
    _rejects(tmp_path, D1, "attempt-4")  # failed
    _id_map(tmp_path, D1, "attempt-4")
    _commit(tmp_path, D1, "attempt-4", status="failed")
    _rejects(tmp_path, D3, "attempt-5")
    for day in (D2, D3):
        _id_map(tmp_path, day, "attempt-5")
    _commit(tmp_path, D3, "attempt-5")
    _commit(tmp_path, D2, "attempt-6")  # an up-to-date rerun of D2
    expected = {
        "rejects": {d0: ["data"], D1: ["attempt-1"], D2: ["attempt-2"], D3: ["attempt-5"]},
        "id_map": {D1: ["attempt-2"], D2: ["attempt-5"], D3: ["attempt-5"]},
    }
    for name, want in expected.items():
        assert _current(tmp_path, name) == want, name
        assert _macro(tmp_path, name) == want, name
    stems = write.committed_stems(tmp_path)
    assert sorted(stems) == ["attempt-0", "attempt-1", "attempt-2", "attempt-5", "attempt-6"]
    assert stems["attempt-5"] == write.runs_file(tmp_path, D3, "attempt-5").stat().st_mtime
    assert write.current_files(tmp_path, "id_map", stems, days=[D2, date(2025, 2, 1)]) == {
        D2: write.partition_dir(tmp_path, "id_map", D2) / "attempt-5.parquet"
    }
    assert (
        write.current_file(tmp_path, "rejects", d0, stems)
        == write.partition_dir(tmp_path, "rejects", d0) / "data.parquet"
    )
    with pytest.raises(ValueError, match="append-only"):
        write.current_file(tmp_path, "runs", D1)
    # Prune changes which files exist, not which rows the views read.
    gone = write.prune(tmp_path, grace_seconds=0)
    assert {p.parent.name + "/" + p.name for p in gone if p.parent.parent.name == "rejects"} == {
        "run_date=2025-01-02/data.parquet",
        "run_date=2025-01-01/attempt-4.parquet",
    }
    assert _current(tmp_path, "rejects") == _macro(tmp_path, "rejects")
    assert _current(tmp_path, "id_map") == _macro(tmp_path, "id_map") == expected["id_map"]
    # D0's 0.1 file now bears the name of the attempt that committed its date.
    assert (
        write.current_file(tmp_path, "rejects", d0)
        == write.partition_dir(tmp_path, "rejects", d0) / "attempt-0.parquet"
    )


def test_legacy_data_file_stays_current_until_a_commit_supersedes_it(tmp_path: Path) -> None:
    # A 0.1 date with no `runs` row of its own: nothing to rename the file after.
    legacy = _rejects(tmp_path, D1, write.LEGACY_STEM, "old.txt")
    _commit(tmp_path, D2, "attempt-1")
    assert write.prune(tmp_path) == []
    assert write.current_file(tmp_path, "rejects", D1) == legacy
    assert _macro(tmp_path, "rejects") == {D1: ["data"]}
    _rejects(tmp_path, D1, "attempt-2", "new.txt")
    assert write.current_file(tmp_path, "rejects", D1) == legacy  # not committed yet
    committed_at = _commit(tmp_path, D1, "attempt-2").stat().st_mtime
    assert _macro(tmp_path, "rejects") == _current(tmp_path, "rejects") == {D1: ["attempt-2"]}
    assert write.prune(tmp_path, grace_seconds=600, now=committed_at + 599) == []
    assert write.prune(tmp_path, grace_seconds=600, now=committed_at + 601) == [legacy]


def test_run_tables_fill_link_dates_and_leave_stories_to_the_views() -> None:
    link = ArticleLink("a1", "a2", "excerpt", 0.9)
    out = RunOutput(0, [], [], [], [], [], [link], [])
    tables = write.run_tables(out, _summary(), DAY)
    assert "stories" not in tables and set(tables) <= set(schemas.TABLES)
    for name, table in tables.items():
        assert table.schema == schemas.file_schema(schemas.TABLES[name]), name
    links = tables["article_links"].to_pylist()
    assert links == [{"article_id": "a1", "other_article_id": "a2", "relation": "excerpt",
                      "score": 0.9, "other_run_date": DAY, "run_id": "r1"}]  # fmt: skip


def test_kept_pages_go_with_their_attempts_fetches_file(tmp_path: Path) -> None:
    fetches = write.to_table("fetches", [], {"run_id": "r"})
    runs = write.to_table("runs", [_summary()], {})

    def attempt(name: str, commit: bool) -> Path:
        archive = write.archive_file(tmp_path, DAY, name)
        archive.parent.mkdir(parents=True, exist_ok=True)
        archive.write_bytes(b"pages")
        if commit:
            write.write_tables(tmp_path, {"fetches": fetches, "runs": runs}, DAY, name)
        return archive

    first = attempt("attempt-1", commit=True)
    crashed = attempt("attempt-2", commit=False)  # died before writing its fetches
    assert crashed in write.prune(tmp_path)
    assert first.exists() and not crashed.exists()
    # Superseded by a later commit, the first attempt's pages go once no reader needs them.
    later = attempt("attempt-3", commit=True)
    assert first.exists() and first not in write.prune(tmp_path, grace_seconds=600)
    assert first in write.prune(tmp_path, grace_seconds=0)
    assert later.exists() and not first.exists()


@pytest.mark.parametrize(
    ("reasons", "warned"),
    [
        (["not_modified"] * 8, False),  # a daily feed: most pages seen before
        (["not_modified"] * 6 + ["timeout"] * 3, True),  # 3 of the 4 pages fetched failed
        (["timeout"] * 6, True),
        (["timeout"] * 5, False),
    ],
)
def test_unchanged_pages_are_no_rejected_inputs_to_the_reject_share_check(
    reasons: list[str], warned: bool
) -> None:
    rejects = [Reject(f"http://a.test/{i}", r, "", "ingest") for i, r in enumerate(reasons)]
    summary = dataclasses.replace(
        _summary(), inputs=10, rejects=len(rejects), articles=10 - len(rejects)
    )
    tables = {
        "runs": write.to_table("runs", [summary], {}),
        "rejects": write.to_table("rejects", rejects, {"run_id": summary.run_id}),
    }
    check = next(f for f in query.check_files() if f.stem == "high_reject_share")
    with query.connect_tables(tables, summary.run_id) as con:
        [result] = query.run_checks(con, [check])
    assert (result.failing_rows > 0) == warned
