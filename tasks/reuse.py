"""Incremental runs: find articles already in the warehouse and read their rows back as records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tasks import write
from tasks.records import Article, Mention, Quote, QuoteSpan, RemovedLine

R = TypeVar("R")


@dataclass(frozen=True)
class Stored:
    """Where an article of an earlier run lives: its id, and the committed attempt holding it."""

    article_id: str
    run_date: str
    attempt: str


@dataclass(frozen=True)
class Reused:
    """The extracted rows of articles read back from the warehouse."""

    articles: dict[str, Article]  # by source_hash
    mentions: dict[str, list[Mention]]  # by article_id, in written order
    quotes: dict[str, list[Quote]]  # by article_id, in written order


def index(warehouse: Path) -> dict[str, Stored]:
    """Every committed article by its input hash; the latest run date wins."""
    found: dict[str, Stored] = {}
    for day, attempt in sorted(write.committed_attempts(warehouse).items()):
        path = _file(warehouse, "articles", day, attempt)
        if path is None or "source_hash" not in pq.read_schema(path).names:
            continue  # a partition of newsetl 0.1, written before input hashes
        table = pq.read_table(path, columns=["article_id", "source_hash"])
        for article_id, source_hash in zip(
            table.column("article_id").to_pylist(),
            table.column("source_hash").to_pylist(),
            strict=True,
        ):
            found[source_hash] = Stored(article_id, day, attempt)
    return found


def load(warehouse: Path, wanted: Iterable[Stored]) -> Reused:
    """Read the articles, mentions and quotes of stored articles back as records."""
    by_file: dict[tuple[str, str], set[str]] = defaultdict(set)
    for item in wanted:
        by_file[item.run_date, item.attempt].add(item.article_id)
    out = Reused({}, defaultdict(list), defaultdict(list))
    for (day, attempt), ids in sorted(by_file.items()):
        rows = {name: _rows(warehouse, name, day, attempt, ids) for name in _READ}
        removed: dict[str, list[RemovedLine]] = defaultdict(list)
        for row in rows["removed_lines"]:
            removed[row["article_id"]].append(_record(RemovedLine, row))
        for row in rows["articles"]:
            # Links and stories are decided run-wide again, so the old ones are not kept.
            article = _record(Article, row, removed=tuple(removed[row["article_id"]]),
                              duplicate_of=None, story_id=None,
                              warnings=tuple(row.get("warnings") or ()))  # fmt: skip
            out.articles[article.source_hash] = article
        for row in rows["entity_mentions"]:
            out.mentions[row["article_id"]].append(_mention(row))
        for row in rows["quotes"]:
            spans = tuple(QuoteSpan(**s) for s in row["spans"])
            out.quotes[row["article_id"]].append(_record(Quote, row, spans=spans))
    return out


_READ = ("articles", "removed_lines", "entity_mentions", "quotes")


def _file(warehouse: Path, name: str, day: str, attempt: str) -> Path | None:
    """The committed file of one table and date, if the table has one."""
    path = write.partition_dir(warehouse, name, date.fromisoformat(day)) / f"{attempt}.parquet"
    return path if path.is_file() else None


def _rows(
    warehouse: Path, name: str, day: str, attempt: str, ids: set[str]
) -> list[dict[str, Any]]:
    """Rows of one committed file whose article is wanted, in written order."""
    path = _file(warehouse, name, day, attempt)
    if path is None:
        return []
    table = pq.read_table(path)
    keep = pc.is_in(table.column("article_id"), value_set=pa.array(sorted(ids), pa.string()))
    rows: list[dict[str, Any]] = table.filter(keep).to_pylist()
    return rows


def _mention(row: Mapping[str, Any]) -> Mention:
    """A mention as NER and the rules found it, from its `entity_mentions` row."""
    return Mention(row["article_id"], row["text"], row["ner_label"], row["start_char"],
                   row["end_char"], row["role"])  # fmt: skip


def _record(cls: type[R], row: Mapping[str, Any], **given: Any) -> R:
    """Build a record from a row's columns of the same names, with some fields given."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {k: v for k, v in row.items() if k in names and k not in given}
    return cls(**values, **given)
