"""Write stage: turn records into Arrow tables by the declared schemas and replace partitions atomically."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tasks.records import Article, Reject, RunOutput, RunSummary
from tasks.schemas import APPEND_ONLY, PARTITION, TABLES, file_schema, is_flag

DATA_FILE = "data.parquet"


def run_id_for(run_date: date, articles: Sequence[Article], rejects: Sequence[Reject]) -> str:
    """Derive the run id from the logical date and the inputs, so reruns keep it."""
    digest = hashlib.sha256(run_date.isoformat().encode())
    for key in sorted(
        [a.article_id for a in articles] + [f"{r.source_uri}\x00{r.reason}" for r in rejects]
    ):
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


def run_tables(out: RunOutput, summary: RunSummary) -> dict[str, pa.Table]:
    """Every table of a run, built by the declared schemas."""
    run = {"run_id": summary.run_id}
    return {
        "articles": to_table("articles", out.articles, {**run, "ingested_at": summary.started_at}),
        "removed_lines": to_table("removed_lines", removed_lines(out.articles), run),
        "entity_mentions": to_table("entity_mentions", out.mentions, run),
        "entities": to_table("entities", out.entities, run),
        "quotes": to_table("quotes", out.quotes, run),
        "article_links": to_table("article_links", out.links, run),
        "stories": to_table("stories", out.stories, run),
        "rejects": to_table("rejects", out.rejects, run),
        "runs": to_table("runs", [summary], {}),
    }


def to_table(name: str, records: Iterable[object], extra: Mapping[str, Any]) -> pa.Table:
    """Build a table's file content from records' attributes plus run-wide values."""
    schema = file_schema(TABLES[name])
    rows = [
        {f.name: extra[f.name] if f.name in extra else _cell(getattr(rec, f.name)) for f in schema}
        for rec in records
    ]
    return pa.Table.from_pylist(rows, schema=schema)


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


def partition_dir(warehouse: Path, name: str, run_date: date) -> Path:
    """The Hive partition folder of a table for a logical date."""
    key = next(f.name for f in TABLES[name] if is_flag(f, PARTITION))
    return warehouse / name / f"{key}={run_date.isoformat()}"


def write_partition(
    warehouse: Path, name: str, table: pa.Table, run_date: date, attempt: str
) -> Path:
    """Write one table's partition atomically (temp file, fsync, rename over the old one)."""
    folder = partition_dir(warehouse, name, run_date)
    folder.mkdir(parents=True, exist_ok=True)
    append = name in APPEND_ONLY
    target = folder / (f"{attempt}.parquet" if append else DATA_FILE)
    # The temp name does not end in .parquet, so readers globbing *.parquet never see it.
    tmp = folder / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        pq.write_table(table, tmp, compression="zstd")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    if not append:
        for stray in folder.glob("*.parquet"):
            if stray != target:
                stray.unlink()
    return target


def write_tables(
    warehouse: Path, tables: Mapping[str, pa.Table], run_date: date, attempt: str
) -> dict[str, int]:
    """Write every table of a run; `runs` goes last so its row marks a complete run."""
    counts: dict[str, int] = {}
    for name in sorted(tables, key=lambda n: n == "runs"):
        write_partition(warehouse, name, tables[name], run_date, attempt)
        counts[name] = tables[name].num_rows
    return counts


def attempt_name(started: datetime) -> str:
    """File stem of an append-only table's row for one attempt: sortable by start time."""
    return "attempt-" + started.strftime("%Y%m%dT%H%M%S%fZ")
