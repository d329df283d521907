"""Write stage: records to Arrow tables by the declared schemas, one file per attempt, committed by `runs`.

In each date folder of a table, the current file is that of the latest committed attempt that
wrote one there: a run writes every table of its own date, and may write cross-date tables into
other dates' folders, all committed at once by its own `runs` row (tasks/warehouse/sql/views.sql reads the
same rule).
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import os
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tasks.core.records import Article, Reject, RunOutput, RunSummary
from tasks.store.schemas import APPEND_ONLY, PARTITION, TABLES, file_schema, is_flag

# Partitions written before attempt files (newsetl 0.1) hold one `data.parquet`: current while
# no committed attempt has a file in its folder, and renamed after the date's committed attempt
# by the next prune (see `_migrate_legacy`).
LEGACY_STEM = "data"
# The pages a run fetched, kept beside its `fetches` file as `<attempt>.warc.gz`.
ARCHIVE_SUFFIX = ".warc.gz"
LOCK_FILE = ".newsetl.lock"

# Every committed attempt by file stem: (its run date, ISO; its commit time). A run reads
# it once before its commit (`committed`) and passes it on.
Commits = Mapping[str, tuple[str, float]]


class WarehouseLockedError(Exception):
    """Another run holds the warehouse lock."""


def run_id_for(
    run_date: date, article_ids: Sequence[str], rejects: Sequence[Reject], salt: str = ""
) -> str:
    """Derive the run id from the logical date, the inputs and `salt` (the settings' fingerprint).

    Reruns on the same input keep it, and an equal id means an up-to-date partition.
    """
    digest = hashlib.sha256(f"{run_date.isoformat()}\x00{salt}".encode())
    for key in sorted([*article_ids, *(f"{r.source_uri}\x00{r.reason}" for r in rejects)]):
        digest.update(key.encode() + b"\n")
    return f"{run_date.isoformat()}-{digest.hexdigest()[:12]}"


def summarize(
    out: RunOutput,
    run_id: str,
    flow_run_id: str | None,
    input_dir: str,
    started: datetime,
    finished: datetime,
) -> RunSummary:
    """The `runs` row of a successful run: its identity, timing and counts per stage."""
    return RunSummary(
        run_id=run_id,
        flow_run_id=flow_run_id,
        input_dir=input_dir,
        started_at=started,
        finished_at=finished,
        status="succeeded",
        error=None,
        inputs=out.inputs,
        articles=len(out.articles),
        rejects=len(out.rejects),
        removed_lines=sum(len(a.removed) for a in out.articles),
        entity_mentions=len(out.mentions),
        entities=len(out.entities),
        quotes=len(out.quotes),
        article_links=len(out.links),
        stories=len(out.stories),
    )


def run_tables(out: RunOutput, summary: RunSummary, run_date: date) -> dict[str, pa.Table]:
    """Every table a run writes for its own date, built by the declared schemas."""
    run = {"run_id": summary.run_id}
    # A run's own links are within its date; links to other dates go to `history_links`.
    links = {**run, "other_run_date": run_date}
    return {
        "articles": to_table("articles", out.articles, {**run, "ingested_at": summary.started_at}),
        "removed_lines": to_table("removed_lines", removed_lines(out.articles), run),
        "entity_mentions": to_table("entity_mentions", out.mentions, run),
        "entities": to_table("entities", out.entities, run),
        "quotes": to_table("quotes", out.quotes, run),
        "article_links": to_table("article_links", out.links, links),
        "rejects": to_table("rejects", out.rejects, run),
        "fetches": to_table("fetches", out.fetches, run),
        "runs": to_table("runs", [summary], {}),
    }


def to_table(name: str, records: Iterable[object], extra: Mapping[str, Any]) -> pa.Table:
    """Build a table's file content from records' attributes plus run-wide values."""
    schema = file_schema(TABLES[name])
    rows = list(records)
    return pa.Table.from_arrays([_column(f, rows, extra) for f in schema], schema=schema)


def _column(field: pa.Field, records: Sequence[object], extra: Mapping[str, Any]) -> pa.Array:
    """One column of a table, built in one go (a row dict per record cost seconds a run)."""
    if field.name in extra:
        return pa.array([extra[field.name]] * len(records), field.type)
    values = [getattr(rec, field.name) for rec in records]
    if _nested(field.type):
        values = [_cell(v) for v in values]
    return pa.array(values, field.type)


def _nested(type_: pa.DataType) -> bool:
    """A struct column, or a list of structs: its values are records to turn into dicts."""
    inner = type_.value_type if pa.types.is_list(type_) else type_
    return bool(pa.types.is_struct(inner))


def _cell(value: object) -> object:
    """A record attribute as pyarrow reads it: nested records become structs (dicts)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _cell(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple) and value and is_dataclass(value[0]):
        return [_cell(v) for v in value]
    return value


@dataclass(frozen=True)
class ArticleRemovedLine:
    """A removed line with the id of the article it came from."""

    article_id: str
    line_no: int
    text: str
    reason: str


def removed_lines(articles: Iterable[Article]) -> list[ArticleRemovedLine]:
    """Flatten each article's removed lines, keyed by article id."""
    return [
        ArticleRemovedLine(a.article_id, r.line_no, r.text, r.reason)
        for a in articles
        for r in a.removed
    ]


def archive_file(warehouse: Path, run_date: date, attempt: str) -> Path:
    """The WARC file the pages an attempt fetched are kept in, beside its `fetches` file."""
    return partition_dir(warehouse, "fetches", run_date) / f"{attempt}{ARCHIVE_SUFFIX}"


def partition_dir(warehouse: Path, name: str, run_date: date) -> Path:
    """The Hive partition folder of a table for a logical date."""
    return warehouse / name / f"{_partition_key(name)}={run_date.isoformat()}"


def _partition_key(name: str) -> str:
    """The Hive partition column of a table."""
    key: str = next(f.name for f in TABLES[name] if is_flag(f, PARTITION))
    return key


def write_partition(
    warehouse: Path, name: str, table: pa.Table, run_date: date, attempt: str
) -> Path:
    """Write one table's file of an attempt atomically (temp file, fsync, rename)."""
    folder = partition_dir(warehouse, name, run_date)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{attempt}.parquet"
    # The temp name does not end in .parquet, so readers globbing *.parquet never see it.
    tmp = folder / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        pq.write_table(table, tmp, compression="zstd")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_tables(
    warehouse: Path, tables: Mapping[str, pa.Table], run_date: date, attempt: str
) -> dict[str, int]:
    """Write every table of a run for its date, then commit the attempt: `runs` goes last.

    Until the `runs` file lands, the views keep showing each folder's previous current file,
    so a crash at any point leaves no partial or duplicate rows behind. The attempt's files in
    other dates' folders must be written before this call, as its `runs` row commits them too.
    Nothing that can fail comes after the commit here: pruning and the DuckDB file are the
    caller's, and optional.
    """
    counts: dict[str, int] = {}
    for name in sorted(tables, key=lambda n: n == "runs"):
        write_partition(warehouse, name, tables[name], run_date, attempt)
        counts[name] = tables[name].num_rows
    return counts


def recommit(warehouse: Path, run_date: date, attempt: str, runs: pa.Table) -> None:
    """Commit an up-to-date rerun by its `runs` row alone.

    It writes no other file, so every folder keeps its current file: the date's rows stand.
    """
    write_partition(warehouse, "runs", runs, run_date, attempt)


def runs_file(warehouse: Path, run_date: date, attempt: str) -> Path:
    """The `runs` file of one attempt."""
    return partition_dir(warehouse, "runs", run_date) / f"{attempt}.parquet"


def is_committed(warehouse: Path, run_date: date, attempt: str) -> bool:
    """Tell whether an attempt's `runs` row says it committed."""
    path = runs_file(warehouse, run_date, attempt)
    return path.is_file() and "succeeded" in _statuses(path)


def abandon_running(warehouse: Path, found_by: str) -> list[Path]:
    """Mark every `running` attempt `abandoned`: under the lock, its process is gone."""
    marked: list[Path] = []
    for path in sorted(warehouse.glob("runs/*/*.parquet")):
        table = pq.read_table(path)
        if "running" not in table.column("status").to_pylist():
            continue
        status = pa.array(["abandoned"] * table.num_rows, pa.string())
        error = pa.array(
            [f"its process ended before the attempt finished (found by {found_by})"]
            * table.num_rows,
            pa.string(),
        )
        table = table.set_column(table.schema.get_field_index("status"), "status", status)
        table = table.set_column(table.schema.get_field_index("error"), "error", error)
        write_partition(warehouse, "runs", table, _folder_day(path.parent), path.stem)
        marked.append(path)
    return marked


def committed_run(
    warehouse: Path, run_date: date, commits: Commits | None = None
) -> tuple[str, RunSummary] | None:
    """The committed attempt of a date and its `runs` row, if the date has one."""
    attempt = committed_attempts(warehouse, commits).get(run_date.isoformat())
    if attempt is None:
        return None
    path = partition_dir(warehouse, "runs", run_date) / f"{attempt}.parquet"
    row = next(r for r in pq.read_table(path).to_pylist() if r["status"] == "succeeded")
    names = {f.name for f in fields(RunSummary)}
    values = {k: v for k, v in row.items() if k in names}
    values["warnings"] = tuple(values.get("warnings") or ())
    return attempt, RunSummary(**values)


def attempt_name(started: datetime) -> str:
    """File stem of one attempt's files: sortable by start time."""
    return "attempt-" + started.strftime("%Y%m%dT%H%M%S%fZ")


def committed_attempts(warehouse: Path, commits: Commits | None = None) -> dict[str, str]:
    """The committed attempt of each run date: its latest succeeded `runs` file."""
    return _latest_per_date(committed(warehouse) if commits is None else commits)


def committed_stems(warehouse: Path) -> dict[str, float]:
    """Every committed attempt, on any date, with its commit time (its `runs` file's mtime)."""
    return commit_times(committed(warehouse))


def commit_times(commits: Mapping[str, tuple[str, float]]) -> dict[str, float]:
    """The commit time of each committed attempt, from `committed`'s answer."""
    return {stem: at for stem, (_, at) in commits.items()}


def value_set(values: Iterable[str]) -> pa.Array:
    """Strings to filter a column by, as an Arrow array (sorted: the same array every time)."""
    return pa.array(sorted(values), pa.string())


def current_file(
    warehouse: Path, name: str, day: date, stems: Collection[str] | None = None
) -> Path | None:
    """The file the views read for one table and date, if any (`stems`: `committed_stems()`)."""
    stems = _stems(warehouse, name, stems)
    return _current(partition_dir(warehouse, name, day), stems)


def current_files(
    warehouse: Path,
    name: str,
    stems: Collection[str] | None = None,
    days: Iterable[date] | None = None,
) -> dict[date, Path]:
    """The current file of each date folder of a table (of the given `days` only, if given)."""
    stems = _stems(warehouse, name, stems)
    if days is None:
        pattern = f"{_partition_key(name)}=*"
        folders = sorted(p for p in (warehouse / name).glob(pattern) if p.is_dir())
    else:
        folders = [partition_dir(warehouse, name, d) for d in days]
    found: dict[date, Path] = {}
    for folder in folders:
        path = _current(folder, stems)
        if path is not None:
            found[_folder_day(folder)] = path
    return found


def read_current(
    warehouse: Path,
    name: str,
    day: date,
    stems: Collection[str] | None = None,
    columns: Sequence[str] | None = None,
) -> pa.Table | None:
    """The rows of one table's current file for a date (only `columns`, if given); None if none."""
    path = current_file(warehouse, name, day, stems)
    if path is None:
        return None
    return pq.read_table(path, columns=None if columns is None else list(columns))


def _stems(warehouse: Path, name: str, stems: Collection[str] | None) -> Collection[str]:
    """The committed stems to judge a table's files by, read now unless given."""
    if name in APPEND_ONLY:
        # Every file of an append-only table is read: none of them is "the current one".
        raise ValueError(f"{name} is append-only: it has no current file")
    return committed_stems(warehouse) if stems is None else stems


def _current(folder: Path, stems: Collection[str]) -> Path | None:
    """The current file of one date folder, by the rule of tasks/warehouse/sql/views.sql."""
    chain = _committed_files(folder, stems)
    if chain:
        return chain[-1]
    legacy = folder / f"{LEGACY_STEM}.parquet"
    return legacy if legacy.is_file() else None


def _committed_files(folder: Path, stems: Collection[str]) -> list[Path]:
    """The files of committed attempts in one folder, oldest attempt first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("*.parquet") if p.stem != LEGACY_STEM and p.stem in stems]
    return sorted(found, key=lambda p: p.stem)


def _folder_day(folder: Path) -> date:
    """The run date of a Hive partition folder (`run_date=YYYY-MM-DD`)."""
    return date.fromisoformat(folder.name.partition("=")[2])


def _statuses(path: Path) -> list[str]:
    """The statuses of one `runs` file."""
    statuses: list[str] = pq.read_table(path, columns=["status"]).column("status").to_pylist()
    return statuses


def committed(warehouse: Path) -> Commits:
    """Every committed attempt: its date (ISO) and commit time, read from the `runs` files once."""
    found: dict[str, tuple[str, float]] = {}
    for path in sorted(warehouse.glob("runs/*/*.parquet")):
        if "succeeded" in _statuses(path):
            # The `runs` file lands at the commit, so its mtime is the commit time.
            found[path.stem] = (path.parent.name.partition("=")[2], path.stat().st_mtime)
    return found


def _latest_per_date(commits: Mapping[str, tuple[str, float]]) -> dict[str, str]:
    """The latest committed attempt of each date (ISO) whose `runs` row it wrote."""
    latest: dict[str, str] = {}
    for stem, (day, _) in sorted(commits.items()):
        latest[day] = stem  # stems sort by start time: the last one per date wins
    return latest


def prune(
    warehouse: Path,
    grace_seconds: float = 0.0,
    now: float | None = None,
    commits: Commits | None = None,
) -> list[Path]:
    """Delete the files the views no longer read: uncommitted attempts, temp files, and
    superseded files once no query can still be reading them.

    A query that started before a commit reads the files current until then; such a file stays
    until `grace_seconds` after the commit of the next newer file in its folder.
    """
    now = time.time() if now is None else now
    commits = committed(warehouse) if commits is None else commits
    stems = commit_times(commits)
    owners = _latest_per_date(commits)
    gone: list[Path] = []
    for name in TABLES:
        for folder in sorted(p for p in warehouse.glob(f"{name}/*=*") if p.is_dir()):
            keep: set[Path] = set()
            if name not in APPEND_ONLY:
                _migrate_legacy(folder, stems, owners.get(folder.name.partition("=")[2]))
                keep = _readable(folder, stems, grace_seconds, now)
            for path in sorted(folder.iterdir()):
                stale = path.suffix == ".tmp" or (
                    name not in APPEND_ONLY and path.suffix == ".parquet" and path not in keep
                )
                # The pages an attempt kept go with its `fetches` file.
                if path.name.endswith(ARCHIVE_SUFFIX):
                    stale = folder / f"{path.name.removesuffix(ARCHIVE_SUFFIX)}.parquet" not in keep
                if stale:
                    path.unlink(missing_ok=True)
                    gone.append(path)
    for leftover in warehouse.glob(".*.tmp"):  # e.g. a DuckDB file being written when killed
        leftover.unlink(missing_ok=True)
        gone.append(leftover)
    return gone


def _readable(
    folder: Path, stems: Mapping[str, float], grace_seconds: float, now: float
) -> set[Path]:
    """The files of a folder a query may still read: the current one, and those superseded lately."""
    legacy = folder / f"{LEGACY_STEM}.parquet"
    # A 0.1 file is older than any attempt's: the first committed file supersedes it.
    chain = [legacy] if legacy.is_file() else []
    chain += _committed_files(folder, stems)
    keep = set(chain[-1:])
    for older, newer in itertools.pairwise(chain):
        if now - stems[newer.stem] < grace_seconds:
            keep.add(older)
    return keep


def _migrate_legacy(folder: Path, stems: Collection[str], owner: str | None) -> None:
    """Give a 0.1 partition's `data.parquet` the name of its date's committed attempt `owner`.

    Only while it is current: `owner` then becomes the folder's only committed file, so the same
    rows stay current. Once a committed file is beside it, it is superseded and pruned instead.
    """
    legacy = folder / f"{LEGACY_STEM}.parquet"
    if owner is None or not legacy.is_file() or _committed_files(folder, stems):
        return
    target = folder / f"{owner}.parquet"
    if not target.exists():
        os.replace(legacy, target)


# Warehouses whose lock this process holds: the CLI takes the lock before anything slow
# starts, and the flow it then runs takes it again.
_held: set[Path] = set()


@contextmanager
def warehouse_lock(warehouse: Path) -> Iterator[None]:
    """Hold the warehouse's run lock; a second run fails at once with who holds it.

    Re-entrant within a process: a nested hold of the same warehouse is a no-op.
    """
    warehouse.mkdir(parents=True, exist_ok=True)
    key = warehouse.resolve()
    if key in _held:
        yield
        return
    path = warehouse / LOCK_FILE
    with path.open("a+", encoding="utf-8") as fh:
        try:
            # flock is released by the kernel when the holder dies, so a killed run never
            # leaves a stale lock behind.
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise WarehouseLockedError(
                f"warehouse {warehouse} is locked by a running newsetl ({holder}); "
                "wait for it to finish, then run again"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}")
        fh.flush()
        _held.add(key)
        try:
            yield
        finally:
            _held.discard(key)
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
