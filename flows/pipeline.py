"""The news_etl Prefect flow: thin tasks, each calling one stage function on a whole batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.deployments.runner import RunnerDeployment
from prefect.runtime import flow_run

from tasks import clean, dedup, entities, ingest, normalize, query, quotes, write
from tasks.records import (
    Article,
    ArticleLink,
    CleanDocument,
    Entity,
    EntityMention,
    Mention,
    ParsedBatch,
    Quote,
    RawDocument,
    Reject,
    RunOutput,
    RunSummary,
    Story,
)
from tasks.settings import Settings

T = TypeVar("T")
# The user's alias file, beside the Parquet tables: one alias per line, applied every run.
ALIAS_FILE = "aliases.csv"


class InvariantError(Exception):
    """The run lost track of an input: inputs != articles + rejects."""


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Split a sequence into consecutive batches."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def ingest_batch(
    paths: Sequence[Path], input_dir: Path, settings: Settings
) -> tuple[list[RawDocument], list[Reject]]:
    """Read and decode a batch of input files."""
    return ingest.read_inputs(paths, input_dir, settings.ingest)


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
def mentions_batch(
    articles: Sequence[Article], settings: Settings
) -> tuple[list[Mention], ParsedBatch]:
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
) -> list[Quote]:
    """Extract quotes and speakers from a parsed batch."""
    return quotes.extract_quotes(articles, parsed, mentions, known, settings.quotes)


@task(cache_policy=NO_CACHE)
def cluster_quotes(found: Sequence[Quote], settings: Settings) -> list[Quote]:
    """Give the same quote reported by several articles of the run one cluster id."""
    return quotes.cluster_quotes(found, settings.quotes)


@task(cache_policy=NO_CACHE)
def link_articles(
    articles: Sequence[Article],
    mentions: Sequence[EntityMention],
    known: Sequence[Entity],
    found: Sequence[Quote],
    settings: Settings,
) -> tuple[list[Article], list[ArticleLink], list[Story]]:
    """Link duplicates, excerpts, rewrites and stories across the run."""
    return dedup.link_articles(articles, settings.dedup, mentions, found, known)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def write_warehouse(
    warehouse: Path, tables: dict[str, pa.Table], run_date: date, attempt: str
) -> dict[str, int]:
    """Replace the run date's partitions and refresh the DuckDB views file."""
    counts = write.write_tables(warehouse, tables, run_date, attempt)
    query.write_database(warehouse)
    return counts


def logical_date(run_date: date | None) -> date:
    """The run's logical date: given, else the scheduled start of a deployment run, else today."""
    if run_date is not None:
        return run_date
    scheduled = flow_run.scheduled_start_time
    return scheduled.date() if scheduled is not None else datetime.now(UTC).date()


@flow(name="news_etl", log_prints=True)
def news_etl(
    input_dir: Path = Path("seeds"),
    warehouse: Path = Path("warehouse"),
    run_date: date | None = None,
    settings: Settings | None = None,
) -> RunSummary:
    """Ingest, clean, normalize, extract entities and quotes, link stories, write Parquet."""
    settings = settings or Settings()
    day = logical_date(run_date)
    started = datetime.now(UTC)
    try:
        return _run(Path(input_dir), Path(warehouse), day, settings, started)
    except Exception as err:
        _record_failure(Path(input_dir), Path(warehouse), day, started, err)
        raise


def _run(
    input_dir: Path, warehouse: Path, day: date, settings: Settings, started: datetime
) -> RunSummary:
    """The body of the flow: prepare articles, analyse them, write every table once."""
    if not input_dir.is_dir():
        raise FileNotFoundError(f"input folder {input_dir} does not exist")
    settings = with_aliases(settings, warehouse / ALIAS_FILE)
    inputs, articles, rejects = _prepare(input_dir, day, settings)
    mentions, known, found_quotes = _analyse(articles, settings)
    linked, links, stories = link_articles(articles, mentions, known, found_quotes, settings)
    get_run_logger().info(
        "%d mentions of %d entities, %d quotes, %d links, %d stories",
        len(mentions), len(known), len(found_quotes), len(links), len(stories),
    )  # fmt: skip
    out = RunOutput(inputs, linked, rejects, mentions, known, found_quotes, links, stories)
    run_id = write.run_id_for(day, linked, rejects)
    summary = write.summarize(out, run_id, flow_run.id, str(input_dir), started, datetime.now(UTC))
    write_warehouse(warehouse, write.run_tables(out, summary), day, write.attempt_name(started))
    return summary


def with_aliases(settings: Settings, path: Path) -> Settings:
    """Add the warehouse's alias file, read afresh on every run, to the entity settings."""
    found = entities.read_aliases(path)
    if found:
        get_run_logger().info("%d aliases from %s", len(found), path)
    merged = replace(settings.entities, aliases=settings.entities.aliases + found)
    return replace(settings, entities=merged)


def _prepare(
    input_dir: Path, day: date, settings: Settings
) -> tuple[int, list[Article], list[Reject]]:
    """Ingest, clean and normalize every input in batches; check that none is lost."""
    log = get_run_logger()
    paths = ingest.discover(input_dir)
    log.info("run_date=%s: %d input files in %s", day, len(paths), input_dir)
    # Publication dates after the logical day are impossible for that day's collection.
    reference_time = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    articles: list[Article] = []
    rejects: list[Reject] = []
    inputs = 0
    for n, chunk in enumerate(batched(paths, settings.batch_size), start=1):
        raw, bad = ingest_batch(chunk, input_dir, settings)
        cleaned, bad_clean = clean_batch(raw, settings)
        normal, bad_norm = normalize_batch(cleaned, settings, reference_time)
        inputs += len(raw) + len(bad)
        articles += normal
        rejects += bad + bad_clean + bad_norm
        log.info("batch %d: %d files -> %d articles, %d rejects", n, len(chunk), len(normal),
                 len(bad) + len(bad_clean) + len(bad_norm))  # fmt: skip
    if inputs != len(articles) + len(rejects):
        raise InvariantError(
            f"inputs {inputs} != articles {len(articles)} + rejects {len(rejects)}"
        )
    return inputs, articles, rejects


def _analyse(
    articles: Sequence[Article], settings: Settings
) -> tuple[list[EntityMention], list[Entity], list[Quote]]:
    """Parse each batch once for mentions, merge entities run-wide, then find quotes."""
    mentions: list[Mention] = []
    parsed: list[tuple[Sequence[Article], ParsedBatch]] = []
    for chunk in batched(articles, settings.batch_size):
        found, batch = mentions_batch(chunk, settings)
        mentions += found
        parsed.append((chunk, batch))
    linked, known = canonicalize_entities(mentions, articles, settings)
    found_quotes: list[Quote] = []
    for chunk, batch in parsed:
        found_quotes += quotes_batch(chunk, batch, linked, known, settings)
    return linked, known, cluster_quotes(found_quotes, settings)


def _record_failure(
    input_dir: Path, warehouse: Path, day: date, started: datetime, err: Exception
) -> None:
    """Record a failed run in `runs` so schedules and dashboards see it."""
    nothing = RunOutput(0, (), (), (), (), (), (), ())
    run_id = f"{day.isoformat()}-failed"
    done = write.summarize(nothing, run_id, flow_run.id, str(input_dir), started, datetime.now(UTC))
    summary = replace(done, status="failed", error=f"{type(err).__name__}: {err}")
    table = write.to_table("runs", [summary], {})
    write.write_partition(warehouse, "runs", table, day, write.attempt_name(started))


def deployment(
    cron: str, input_dir: Path, warehouse: Path, name: str = "daily"
) -> RunnerDeployment:
    """A scheduled deployment of news_etl; each run's logical date is its scheduled day."""
    return RunnerDeployment.from_flow(
        news_etl,
        name=name,
        cron=cron,
        parameters={"input_dir": str(input_dir.resolve()), "warehouse": str(warehouse.resolve())},
    )
