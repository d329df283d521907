"""Incremental runs: find articles already in the warehouse and read their rows back as records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tasks.core.records import Article, Mention, PriorFetch, Quote, QuoteSpan, RemovedLine
from tasks.store import write

R = TypeVar("R")


@dataclass(frozen=True)
class Stored:
    """An article of an earlier run: its id, and the run date whose current files hold it."""

    article_id: str
    run_date: date


@dataclass(frozen=True)
class Reused:
    """The extracted rows of articles read back from the warehouse."""

    articles: dict[str, Article]  # by source_hash
    mentions: dict[str, list[Mention]]  # by article_id, in written order
    quotes: dict[str, list[Quote]]  # by article_id, in written order


def index(warehouse: Path, commits: write.Commits | None = None) -> dict[str, Stored]:
    """Every committed article by its input hash; the latest run date wins."""
    found: dict[str, Stored] = {}
    stems = None if commits is None else write.commit_times(commits)
    for day, path in sorted(write.current_files(warehouse, "articles", stems).items()):
        if "source_hash" not in pq.read_schema(path).names:
            continue  # a partition of newsetl 0.1, written before input hashes
        table = pq.read_table(path, columns=["article_id", "source_hash"])
        for article_id, source_hash in zip(
            table.column("article_id").to_pylist(),
            table.column("source_hash").to_pylist(),
            strict=True,
        ):
            found[source_hash] = Stored(article_id, day)
    return found


def fetched(warehouse: Path, commits: write.Commits | None = None) -> dict[str, list[PriorFetch]]:
    """Every kept copy of each page earlier runs fetched, by URL, oldest fetch first: what a
    conditional request names, and the copies a rerun reads again."""
    found: dict[str, list[tuple[datetime, PriorFetch]]] = defaultdict(list)
    stems = None if commits is None else write.commit_times(commits)
    for day, path in sorted(write.current_files(warehouse, "fetches", stems).items()):
        for row in pq.read_table(path).to_pylist():
            if row["archive"] is None or not (warehouse / row["archive"]).is_file():
                continue  # nothing kept to read again: the next fetch asks unconditionally
            prior = PriorFetch(day, row["etag"], row["last_modified"], row["archive"],
                               row["archive_offset"], row["archive_length"])  # fmt: skip
            found[row["url"]].append((row["fetched_at"], prior))
    return {url: [p for _at, p in sorted(kept, key=lambda k: k[0])] for url, kept in found.items()}


def load(warehouse: Path, wanted: Iterable[Stored], commits: write.Commits | None = None) -> Reused:
    """Read the articles, mentions and quotes of stored articles back as records."""
    by_day: dict[date, set[str]] = defaultdict(set)
    for item in wanted:
        by_day[item.run_date].add(item.article_id)
    stems = write.committed_stems(warehouse) if commits is None else write.commit_times(commits)
    out = Reused({}, defaultdict(list), defaultdict(list))
    for day, ids in sorted(by_day.items()):
        rows = {name: _rows(write.read_current(warehouse, name, day, stems), ids) for name in _READ}
        removed: dict[str, list[RemovedLine]] = defaultdict(list)
        for row in rows["removed_lines"]:
            removed[row["article_id"]].append(record(RemovedLine, row))
        for row in rows["articles"]:
            # Links and stories are decided run-wide again, so the old ones are not kept.
            article = record(Article, row, removed=tuple(removed[row["article_id"]]),
                              duplicate_of=None, story_id=None,
                              warnings=tuple(row.get("warnings") or ()))  # fmt: skip
            out.articles[article.source_hash] = article
        for row in rows["entity_mentions"]:
            out.mentions[row["article_id"]].append(_mention(row))
        for row in rows["quotes"]:
            spans = tuple(QuoteSpan(**s) for s in row["spans"])
            out.quotes[row["article_id"]].append(record(Quote, row, spans=spans))
    return out


_READ = ("articles", "removed_lines", "entity_mentions", "quotes")


def _rows(table: pa.Table | None, ids: set[str]) -> list[dict[str, Any]]:
    """Rows of a date's current file whose article is wanted, in written order."""
    if table is None:
        return []
    keep = pc.is_in(table.column("article_id"), value_set=write.value_set(ids))
    rows: list[dict[str, Any]] = table.filter(keep).to_pylist()
    return rows


def _mention(row: Mapping[str, Any]) -> Mention:
    """A mention as NER and the rules found it, from its `entity_mentions` row."""
    return Mention(row["article_id"], row["text"], row["ner_label"], row["start_char"],
                   row["end_char"], row["role"])  # fmt: skip


def record(cls: type[R], row: Mapping[str, Any], **given: Any) -> R:
    """Build a record from a row's columns of the same names, with some fields given."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {k: v for k, v in row.items() if k in names and k not in given}
    return cls(**values, **given)
