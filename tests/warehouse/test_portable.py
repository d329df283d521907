"""A warehouse that travels: newsetl.duckdb reads the copy it sits in, from any folder, with
the Python package and with the DuckDB 1.4 (long-term) command line.

One real run over the seeds; its warehouse is copied under a folder a Hive reader would take
for a partition (`env=prod`) and a name with glob characters, and the original is renamed
away, so a view that still read the original's files (or its path) would fail or differ.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.pipeline import news_etl
from tasks.store import schemas
from tasks.warehouse import query

DAY = date(2025, 1, 15)
# DuckDB 1.4's storage number: what `storage_compatibility_version = 'v1.4.0'` writes.
STORAGE_V1_4 = 67
COUNTED = ["articles", "entities", "entity_summary", "quotes", "stories", "runs"]
CLI = Path(sys.executable).parent / "duckdb"  # the duckdb-cli package of the dev extra


@dataclass(frozen=True)
class Moved:
    """A copied warehouse, a third folder to read it from, and what the original showed."""

    copy: Path
    cwd: Path
    counts: dict[str, int]
    columns: dict[str, list[tuple[str, str]]]


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Moved:
    """The copy of a real run's warehouse (original renamed away), and the original's counts."""
    root = tmp_path_factory.mktemp("portable")
    original = root / "wh"
    news_etl(input_dir=seeds_dir, warehouse=original, run_date=DAY)
    with query.connect(original) as con:
        counts = {n: con.sql(f"SELECT count(*) FROM {n}").fetchall()[0][0] for n in COUNTED}
        columns = {n: _described(con, n) for n in [*schemas.TABLES, *schemas.VIEWS]}
    copy = root / "env=prod" / "wh [copy]"
    shutil.copytree(original, copy)
    original.rename(root / "gone")
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return Moved(copy, elsewhere, counts, columns)


def _described(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[str, str]]:
    rel = con.sql(f"SELECT * FROM {name}")
    return [(c, str(t)) for c, t in zip(rel.columns, rel.types, strict=True)]


def _python(cwd: Path, script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


COUNT_SCRIPT = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
names = sys.argv[2:]
print(json.dumps({n: con.sql(f"SELECT count(*) FROM {n}").fetchall()[0][0] for n in names}))
"""


def test_file_is_in_duckdb_1_4_storage_format(moved: Moved) -> None:
    header = (moved.copy / query.DATABASE_FILE).read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    assert struct.unpack("<Q", header[12:20])[0] == STORAGE_V1_4


def test_python_reads_the_copy_from_another_folder(moved: Moved) -> None:
    cwd, database = moved.cwd, moved.copy / query.DATABASE_FILE
    # By absolute path, and by a path relative to the working folder.
    for path in (str(database), f"../{database.relative_to(cwd.parent)}"):
        got = json.loads(_python(cwd, COUNT_SCRIPT, path, *COUNTED))
        assert got == moved.counts, path
    assert moved.counts["articles"] == 5


def test_views_of_the_copy_keep_their_declared_columns(moved: Moved) -> None:
    with duckdb.connect(str(moved.copy / query.DATABASE_FILE), read_only=True) as con:
        got = {n: _described(con, n) for n in [*schemas.TABLES, *schemas.VIEWS]}
    # No `env` column from the folder above, and the same columns as where it was written.
    assert got == moved.columns


def test_attached_copy_reads_with_the_session_variable(moved: Moved) -> None:
    copy = moved.copy
    with duckdb.connect() as con:
        con.execute("SET VARIABLE newsetl_warehouse = ?", [copy.as_posix()])
        con.execute("ATTACH ? AS news (READ_ONLY)", [str(copy / query.DATABASE_FILE)])
        assert con.sql("SELECT count(*) FROM news.articles").fetchall() == [(5,)]


@pytest.mark.skipif(not CLI.is_file(), reason="no duckdb CLI: pip install -e '.[dev]'")
def test_duckdb_1_4_cli_reads_the_copy_from_another_folder(moved: Moved) -> None:
    version = subprocess.run([str(CLI), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1.4."), version.stdout
    selects = " UNION ALL ".join(f"SELECT '{n}', count(*) FROM {n}" for n in COUNTED)
    done = subprocess.run(
        [str(CLI), "-readonly", "-csv", "-noheader", str(moved.copy / query.DATABASE_FILE)],
        input=selects + ";\n",
        cwd=moved.cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    got = {name: int(n) for name, n in (line.split(",") for line in done.stdout.split())}
    assert got == moved.counts
