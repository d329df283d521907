"""The Prefect tasks: each calls one stage function on a whole batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.context import DataCheckError
from flows.runtime import IO_RETRIES
from tasks import clean, entities, ingest, link, normalize, quotes
from tasks import warehouse as views
from tasks.core.records import (
    Article,
    ArticleLink,
    CleanDocument,
    Entity,
    EntityMention,
    Mention,
    MentionBatch,
    ParsedBatch,
    Quote,
    RawDocument,
    Reject,
    Story,
)
from tasks.settings import Settings
from tasks.store import reuse, write


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def ingest_batch(
    inputs: Sequence[ingest.Input],
    input_dir: Path | None,
    settings: Settings,
    salts: Mapping[str, str],
    pages: ingest.PageReader | None = None,
) -> tuple[list[RawDocument], list[Reject]]:
    """Read and decode a batch of inputs, fetching those that are pages."""
    return ingest.read_inputs(inputs, input_dir, settings.ingest, salts, pages)


@task(cache_policy=NO_CACHE)
def clean_batch(
    docs: Sequence[RawDocument], settings: Settings
) -> tuple[list[CleanDocument], list[Reject]]:
    """Remove boilerplate from a batch."""
    return clean.clean_documents(docs, settings.clean)


@task(cache_policy=NO_CACHE)
def normalize_batch(
    docs: Sequence[CleanDocument], settings: Settings, reference_time: datetime
) -> tuple[list[Article], list[Reject]]:
    """Normalize text and metadata of a batch."""
    return normalize.normalize_documents(docs, settings.normalize, reference_time)


@task(cache_policy=NO_CACHE)
def mentions_batch(articles: Sequence[Article], settings: Settings) -> MentionBatch:
    """Parse a batch once and find its entity mentions."""
    return entities.extract_mentions(articles, settings.entities)


@task(cache_policy=NO_CACHE)
def canonicalize_entities(
    mentions: Sequence[Mention], articles: Sequence[Article], settings: Settings
) -> tuple[list[EntityMention], list[Entity]]:
    """Merge the run's mentions into canonical entities."""
    published = {a.article_id: a.published_at for a in articles if a.published_at is not None}
    return entities.canonicalize(mentions, settings.entities, published)


@task(cache_policy=NO_CACHE)
def quotes_batch(
    articles: Sequence[Article],
    parsed: ParsedBatch,
    mentions: Sequence[EntityMention],
    known: Sequence[Entity],
    settings: Settings,
) -> tuple[list[Quote], list[Reject]]:
    """Extract quotes and speakers from a parsed batch."""
    return quotes.extract_quotes(articles, parsed, mentions, known, settings.quotes)


@task(cache_policy=NO_CACHE)
def cluster_quotes(found: Sequence[Quote], settings: Settings) -> list[Quote]:
    """Give the same quote reported by several articles of the run one cluster id."""
    return quotes.cluster_quotes(found, settings.quotes)


@task(cache_policy=NO_CACHE)
def gender_people(known: Sequence[Entity], found: Sequence[Quote]) -> list[Entity]:
    """Give each person of the run the gender the articles quoting them agree on."""
    return quotes.entity_genders(known, found)


@task(cache_policy=NO_CACHE)
def link_articles(
    articles: Sequence[Article],
    mentions: Sequence[EntityMention],
    known: Sequence[Entity],
    found: Sequence[Quote],
    settings: Settings,
) -> tuple[list[Article], list[ArticleLink], list[Story]]:
    """Link duplicates, excerpts, rewrites and stories across the run."""
    return link.link_articles(articles, settings.dedup, mentions, found, known)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def load_reused(
    warehouse: Path, wanted: Sequence[reuse.Stored], commits: write.Commits | None
) -> reuse.Reused:
    """Read back the rows of articles already in the warehouse."""
    return reuse.load(warehouse, wanted, commits)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def link_history(
    warehouse: Path,
    day: date,
    articles: Sequence[Article],
    mentions: Sequence[EntityMention],
    known: Sequence[Entity],
    found: Sequence[Quote],
    settings: link.AcrossSettings,
    run_id: str,
    attempt: str,
    commits: write.Commits | None,
) -> link.HistoryStore:
    """Index the run's date, link it to the dates around it, and merge ids across dates.

    The files it writes belong to the attempt: they count once its `runs` row commits them.
    """
    index = link.index_date(day, articles, mentions, known, found, settings.dedup,
                               settings.quotes)  # fmt: skip
    store = link.HistoryStore.open(warehouse, day, attempt, commits)
    link.link_history(store, index, {a.article_id: a.body for a in articles}, settings, run_id)
    return store


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def write_warehouse(
    warehouse: Path,
    tables: dict[str, pa.Table],
    run_date: date,
    attempt: str,
    staged: Mapping[tuple[str, date], pa.Table],
) -> dict[str, int]:
    """Write the run's files, those it staged for other dates, then commit with the `runs` row.

    The commit is the last step that can fail.
    """
    for (name, day), table in sorted(staged.items(), key=lambda item: (item[0][1], item[0][0])):
        write.write_partition(warehouse, name, table, day, attempt)
    return write.write_tables(warehouse, tables, run_date, attempt)


@task(cache_policy=NO_CACHE)
def check_tables(tables: dict[str, pa.Table], run_id: str, checks: Sequence[Path]) -> list[str]:
    """Run the data-quality checks on the run's tables before they are committed."""
    with views.connect_tables(tables, run_id) as con:
        results = views.run_checks(con, checks)
    failed = [r for r in results if r.fails_run]
    if failed:
        raise DataCheckError("; ".join(
            f"check {r.name} failed: {r.failing_rows} rows (first: {r.sample})" for r in failed
        ))  # fmt: skip
    return [f"{r.name}: {r.failing_rows} rows" for r in results if r.failing_rows]
