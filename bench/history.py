"""A run into a long history: 60 run dates of ~1,000 articles each, then one more date.

Usage:
    .venv/bin/python bench/history.py [--dates 60] [--per-date 1000] [--cache DIR]
                                      [--data ../shared/data] [--seed 7] [--repeat 1]
                                      [--middle]

The goal: a run of 1,000 articles into a warehouse holding 60 run dates takes at most 1.3x
the time of the same run into an empty warehouse, and its peak RSS stays under 1.5 GB.

Corpora (read from ../shared/data at run time, skipped when absent): BBC News, PolNeAR (as
JSONL with its publication dates and publishers) and the pages of the extraction benchmarks
(the plain-text pages, and the HTML of article_extraction_benchmark, trafilatura_eval and
wcxb_articles), as `bench/dedup.py --mixed` reads them. `--per-date` inputs (seeded) are kept
apart for the final date; the rest is the pool the history dates draw from.

The history is built without spaCy on every date, but through the real stage functions:
the pool is extracted once as `flows/batches.py` chains the stages (ingest, clean,
normalize, entities.extract_mentions per batch of `Settings.batch_size`, one
entities.canonicalize over the pool, quotes.extract_quotes per batch). Each history date
(built in a seeded shuffled order) samples `--per-date` pool articles and gives them its own
identity: source_uri `YYYY-MM-DD/<file>`, and the article_id, source_hash and quote_id the
stages derive from it; mentions and quotes are re-keyed with offsets kept. Then it does what
`_run` does after extraction: the merge of the date's entities (the quotes' speakers are
pointed at them as `_remap_speakers` does), the quote clusters, `dedup.link_articles`, the
date's tables, the cross-date step of `link_history` (timed apart: `history.index_date`,
`across.Store.open`, `across.update`) and the commit of `write_warehouse`. Publication dates
of the corpora all precede the run dates (2030), so the pool's reference time changes nothing.

The built warehouse is cached under `--cache` (a date's commit is atomic: an interrupted
build resumes); the pool's extraction is cached beside it. Then, each in a fresh process of
its own (its `ru_maxrss` is the run's peak), the final date's inputs go through `news_etl`:
first into an empty warehouse, then into a copy of the history warehouse. The Prefect
temporary server is started before the clock in both. `--middle` also runs the final
inputs as the middle history date, in place of its articles, into another copy of the
history: the window then holds dates on both sides, as in a backfill or a rerun.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import pickle
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = Path("/tmp/newsetl-history-bench")
FIRST_DAY = date(2030, 1, 1)  # after every corpus's publication dates
RSS_GOAL_MB = 1536.0
RATIO_GOAL = 1.3
# The code a cached history warehouse was built with: a change is reported, not rebuilt.
BUILT_WITH = ("tasks/link/across.py", "tasks/link/history.py", "tasks/link/dedup.py",
              "tasks/store/schemas.py", "tasks/store/write.py", "tasks/entities/mentions.py",
              "tasks/quotes/attribution.py")  # fmt: skip


def peak_mb() -> float:
    """This process's peak resident memory in MB: `ru_maxrss`, or VmHWM where Linux has it.

    Linux carries `ru_maxrss` over `fork` and `exec`: a child of a large process (this one,
    after a build) starts at its parent's peak. VmHWM is that of the process's own image.
    """
    found = status_mb("VmHWM")
    return found if found is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def status_mb(field: str) -> float | None:
    """A memory figure of this process's /proc status in MB (None where it is not there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------------------------


def read_corpora(data: Path) -> dict[str, bytes]:
    """Every input file of the corpora that are there, by file name."""
    files: dict[str, bytes] = {}
    bbc = data / "bbc_news" / "articles.jsonl.gz"
    if bbc.is_file():
        with gzip.open(bbc, "rt", encoding="utf-8") as fh:
            for a in map(json.loads, fh):
                files["bbc_" + a["id"].replace("/", "_") + ".txt"] = a["raw"].encode("utf-8")
    polnear = data / "polnear" / "articles.jsonl.gz"
    if polnear.is_file():
        with gzip.open(polnear, "rt", encoding="utf-8") as fh:
            for a in map(json.loads, fh):
                row = {"text": a["text"], "title": a["title"], "source": a["publisher"],
                       "published_at": a["publication_date"]}  # fmt: skip
                files[f"polnear_{a['id']}.jsonl"] = json.dumps(row).encode("utf-8")
    plain = data / "plaintext_boilerplate" / "items.jsonl.gz"
    if plain.is_file():
        with gzip.open(plain, "rt", encoding="utf-8") as fh:
            for n, item in enumerate(map(json.loads, fh)):
                files[f"plain_{n:04d}.txt"] = item["page_text"].encode("utf-8")
    for path in sorted((data / "article_extraction_benchmark" / "html").glob("*.html.gz")):
        files[f"aeb_{path.name}"] = path.read_bytes()
    evaldata = data / "trafilatura_eval" / "evaldata.json"
    if evaldata.is_file():
        items = json.loads(evaldata.read_text("utf-8"))
        for n, (_key, item) in enumerate(sorted(items.items())):
            page = data / "trafilatura_eval" / item["html_file"]
            if page.is_file():
                files[f"traf_{n:04d}.html.gz"] = page.read_bytes()
    for path in sorted((data / "wcxb_articles" / "html").glob("*.html.gz")):
        files[f"wcxb_{path.name}"] = path.read_bytes()
    return files


def corpus_key(files: dict[str, bytes]) -> str:
    """A hash of the corpora's files."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\x00" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()[:12]


def write_inputs(folder: Path, files: dict[str, bytes], names: Sequence[str]) -> None:
    """Write some input files into a folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(files[name])


# --------------------------------------------------------------------------------------------
# The pool: its articles extracted once
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pooled:
    """A pool article as extracted: its input, article, mentions (raw and merged), quotes."""

    name: str  # its source_uri after the date folder ("bbc_x.txt", "polnear_y.jsonl#L1")
    raw: Any  # RawDocument
    article: Any  # Article
    mentions: tuple[Any, ...]  # Mention, in extraction order
    linked: tuple[Any, ...]  # the same mentions merged over the pool (EntityMention)
    quotes: tuple[Any, ...]  # Quote, before clustering


def extract_pool(files: dict[str, bytes], names: Sequence[str], day: date) -> list[Pooled]:
    """Extract the pool as `flows/batches.py` chains the stages, for inputs of `day`."""
    from tasks import ingest
    from tasks.clean import cleaner as clean
    from tasks.entities import mentions as entities
    from tasks.normalize import fields as normalize
    from tasks.quotes import attribution as quotes
    from tasks.settings import Settings, extraction_fingerprints

    s = Settings()
    salts = extraction_fingerprints(s)
    reference_time = datetime.combine(day + timedelta(days=1), day_time(), tzinfo=UTC)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_inputs(root / day.isoformat(), files, names)
        paths = ingest.discover(root / day.isoformat(), root).inputs
        raws: dict[str, Any] = {}
        articles: list[Any] = []
        rejects: Counter[str] = Counter()
        for start in range(0, len(paths), s.batch_size):
            raw, bad = ingest.read_inputs(
                paths[start : start + s.batch_size], root, s.ingest, salts
            )
            raws.update((d.source_uri, d) for d in raw)
            docs, bad_clean = clean.clean_documents(raw, s.clean)
            new, bad_norm = normalize.normalize_documents(docs, s.normalize, reference_time)
            articles += new
            rejects.update(r.reason for r in [*bad, *bad_clean, *bad_norm])
    print(f"pool: {len(paths)} inputs -> {len(articles)} articles, rejects {dict(rejects)} "
          f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    found: dict[str, list[Any]] = defaultdict(list)
    parsed: list[tuple[list[Any], Any]] = []
    failed: set[str] = set()
    warnings: dict[str, list[str]] = defaultdict(list)
    for start in range(0, len(articles), s.batch_size):
        chunk = articles[start : start + s.batch_size]
        batch = entities.extract_mentions(chunk, s.entities)
        for m in batch.mentions:
            found[m.article_id].append(m)
        for article_id, warning in batch.warnings:
            warnings[article_id].append(warning)
        failed |= {r.source_uri for r in batch.rejects}
        analysed = set(batch.parsed.article_ids)
        parsed.append(([a for a in chunk if a.article_id in analysed], batch.parsed))
        print(f"  mentions: {start + len(chunk)} of {len(articles)} articles "
              f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    articles = [
        replace(a, warnings=a.warnings + tuple(warnings[a.article_id]))
        for a in articles
        if a.source_uri not in failed
    ]
    ordered = [m for a in articles for m in found.get(a.article_id, ())]
    published = {a.article_id: a.published_at for a in articles if a.published_at is not None}
    linked, known = entities.canonicalize(ordered, s.entities, published)
    by_article: dict[str, list[Any]] = defaultdict(list)
    for em in linked:
        by_article[em.article_id].append(em)
    quoted: dict[str, list[Any]] = defaultdict(list)
    for chunk, batch in parsed:
        mine = [m for a in chunk for m in by_article[a.article_id]]
        got, bad = quotes.extract_quotes(chunk, batch, mine, known, s.quotes)
        failed |= {r.source_uri for r in bad}
        for q in got:
            quoted[q.article_id].append(q)
    pool = []
    for a in articles:
        if a.source_uri in failed:
            continue
        pool.append(Pooled(a.source_uri.partition("/")[2], raws[a.source_uri], a,
                           tuple(found.get(a.article_id, ())),
                           tuple(by_article.get(a.article_id, ())),
                           tuple(quoted.get(a.article_id, ()))))  # fmt: skip
    print(f"pool: {len(pool)} articles ({len(failed)} rejected by entities/quotes), "
          f"{len(ordered)} mentions, {sum(len(p.quotes) for p in pool)} quotes "
          f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    return pool


def load_pool(
    cache: Path, key: str, files: dict[str, bytes], names: Sequence[str], day: date
) -> list[Pooled]:
    """The extracted pool, from the cache or extracted now (and cached)."""
    path = cache / f"pool-{key}.pickle"
    if path.is_file():
        with path.open("rb") as fh:
            pool: list[Pooled] = pickle.load(fh)
        print(f"pool: {len(pool)} articles from {path}", flush=True)
        return pool
    pool = extract_pool(files, names, day)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(pool, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    return pool


# --------------------------------------------------------------------------------------------
# The history: each date as `_run` does it after extraction
# --------------------------------------------------------------------------------------------


def on_date(
    p: Pooled, day: date, salts: dict[str, str], hex_chars: int
) -> tuple[Any, list[Any], list[Any], list[Any]]:
    """A pool article given a date's identity: article, mentions, pool-merged mentions, quotes."""
    from tasks.core.records import short_hash
    from tasks.ingest.inputs import source_hash as input_hash

    uri = f"{day.isoformat()}/{p.name}"
    a = p.article
    article_id = short_hash(f"{uri}\x00{a.body}", hex_chars)
    source_hash = input_hash(replace(p.raw, source_uri=uri), salts[p.raw.content_type])
    article = replace(a, article_id=article_id, source_uri=uri, source_hash=source_hash)
    mentions = [replace(m, article_id=article_id) for m in p.mentions]
    linked = [replace(m, article_id=article_id) for m in p.linked]
    quotes = [
        replace(q, article_id=article_id,
                quote_id=short_hash(f"{article_id}:{q.start_char}:{q.end_char}"))
        for q in p.quotes
    ]  # fmt: skip
    return article, mentions, linked, quotes


class Attempts:
    """Attempt stems of distinct, increasing start times."""

    def __init__(self) -> None:
        self.last = datetime.min.replace(tzinfo=UTC)

    def next(self) -> datetime:
        now = datetime.now(UTC)
        if now <= self.last:
            now = self.last + timedelta(milliseconds=1)
        self.last = now
        return now


def build_date(
    warehouse: Path, day: date, chosen: Sequence[Pooled], started: datetime
) -> dict[str, float]:
    """Commit one history date from pool articles; the seconds of each step."""
    from flows.batches import remap_speakers
    from flows.context import Context
    from flows.pipeline import _forget_damaged, across_settings
    from flows.steps import canonicalize_entities, cluster_quotes, link_articles, write_warehouse
    from tasks.core.records import RunOutput
    from tasks.link import across, history
    from tasks.settings import Settings, extraction_fingerprints, run_fingerprint
    from tasks.store import write

    s = Settings()
    salts = extraction_fingerprints(s)
    ctx = Context(warehouse.parent / "inputs", warehouse, day, s, started, 1)
    times: dict[str, float] = {}
    clock = time.perf_counter()
    articles, mentions, before, quoted = [], [], [], defaultdict(list)
    for p in sorted(chosen, key=lambda p: p.name):  # input order: `ingest.discover` sorts
        article, ms, linked_ms, qs = on_date(p, day, salts, s.normalize.id_hex_chars)
        articles.append(article)
        mentions += ms
        before += linked_ms
        quoted[article.article_id] += qs
    linked, known = canonicalize_entities.fn(mentions, articles, s)
    quoted = remap_speakers(quoted, before, linked, known)
    ordered_quotes = [q for a in articles for q in quoted.get(a.article_id, ())]
    found_quotes = cluster_quotes.fn(ordered_quotes, s)
    times["merge"] = time.perf_counter() - clock
    clock = time.perf_counter()
    linked_articles, links, stories = link_articles.fn(articles, linked, known, found_quotes, s)
    times["link_articles"] = time.perf_counter() - clock
    clock = time.perf_counter()
    run_id = write.run_id_for(day, [a.article_id for a in linked_articles], [],
                              run_fingerprint(s))  # fmt: skip
    out = RunOutput(len(linked_articles), linked_articles, [], linked, known, found_quotes,
                    links, stories)  # fmt: skip
    summary = write.summarize(out, run_id, None, str(ctx.input_dir), started, datetime.now(UTC))
    tables = write.run_tables(out, summary, day)
    times["tables"] = time.perf_counter() - clock
    # link_history, step by step
    settings = across_settings(ctx)
    clock = time.perf_counter()
    index = history.index_date(day, linked_articles, linked, known, found_quotes,
                               settings.dedup, settings.quotes)  # fmt: skip
    times["index_date"] = time.perf_counter() - clock
    clock = time.perf_counter()
    store = across.Store.open(warehouse, day, ctx.attempt)  # writes its files as it goes
    times["store_open"] = time.perf_counter() - clock
    clock = time.perf_counter()
    across.update(store, index, {a.article_id: a.body for a in linked_articles}, settings, run_id)
    times["across_update"] = time.perf_counter() - clock
    clock = time.perf_counter()
    summary = replace(summary, warnings=tuple(store.warnings), finished_at=datetime.now(UTC),
                      aliases_fingerprint=across.aliases_fingerprint(s.entities.aliases))  # fmt: skip
    tables["runs"] = write.to_table("runs", [summary], {})
    write_warehouse.fn(warehouse, tables, day, ctx.attempt, store.pending)
    _forget_damaged(store)
    times["commit"] = time.perf_counter() - clock
    own = store.read("history_links", day, ["article_id"])
    times["staged_files"] = len(store.staged())
    times["links_in_date"] = 0 if own is None else own.num_rows
    times["articles"] = len(linked_articles)
    return times


def code_hashes() -> dict[str, str]:
    """The hash of each source file a cached history depends on."""
    return {
        name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:12]
        for name in BUILT_WITH
        if (ROOT / name).is_file()
    }


def build_history(
    warehouse: Path,
    get_pool: Callable[[], list[Pooled]],
    days: Sequence[date],
    per_date: int,
    seed: int,
) -> dict[str, Any]:
    """Build (or finish building) the history warehouse; the build's record."""
    from flows import package_version
    from tasks.store import write

    record_path = warehouse / "bench-build.json"
    if record_path.is_file():
        record: dict[str, Any] = json.loads(record_path.read_text())
        print(f"history: cached in {warehouse} (built in {record['build_seconds']:.0f} s)")
        changed = [n for n, h in code_hashes().items() if record["code"].get(n) != h]
        if record.get("version") != package_version():
            changed.insert(0, f"the version ({record.get('version')} -> {package_version()})")
        if changed:
            print(f"  NOTE: {', '.join(changed)} changed since the build; --rebuild to rebuild")
        return record
    code = code_hashes()  # as the build starts: its modules are imported by now
    pool = get_pool()
    warehouse.mkdir(parents=True, exist_ok=True)
    write.prune(warehouse, 0.0)  # an interrupted build's uncommitted files
    done = {date.fromisoformat(d) for d in write.committed_attempts(warehouse)}
    rng = random.Random(seed)
    order = list(days)
    rng.shuffle(order)
    samples = {d: rng.sample(range(len(pool)), min(per_date, len(pool))) for d in sorted(days)}
    attempts = Attempts()
    log_path = warehouse / "bench-build.log"
    per_date_times: list[dict[str, float]] = []
    if log_path.is_file():
        per_date_times = [json.loads(line) for line in log_path.read_text().splitlines()]
    started = time.perf_counter()
    for n, day in enumerate(order, 1):
        if day in done:
            continue
        clock = time.perf_counter()
        times = build_date(warehouse, day, [pool[i] for i in samples[day]], attempts.next())
        times["seconds"] = time.perf_counter() - clock
        times["day"] = day.toordinal()
        per_date_times.append(times)
        with log_path.open("a") as fh:
            fh.write(json.dumps(times) + "\n")
        print(
            f"  date {day} ({n}/{len(order)}): {times['articles']:.0f} articles, "
            f"{times['links_in_date']:.0f} links to earlier dates in its partition, "
            f"{times['staged_files']:.0f} files staged; {times['seconds']:.1f} s = "
            f"merge {times['merge']:.1f} + link {times['link_articles']:.1f} + "
            f"index {times['index_date']:.1f} + across.update {times['across_update']:.1f} + "
            f"commit {times['commit']:.1f}; peak RSS {peak_mb():.0f} MB",
            flush=True,
        )
    write.prune(warehouse, 0.0)  # the superseded cross-date files: a daily prune's work
    seconds = sum(t["seconds"] for t in per_date_times)
    record = {
        "dates": len(days),
        "per_date": per_date,
        "seed": seed,
        "build_seconds": seconds,
        "this_session_seconds": time.perf_counter() - started,
        "per_date_seconds": [t["seconds"] for t in per_date_times],
        "across_update_seconds": [t["across_update"] for t in per_date_times],
        "build_peak_mb": peak_mb(),
        "code": code,
        "version": package_version(),
    }
    record_path.write_text(json.dumps(record, indent=1))
    return record


def spread(values: Sequence[float]) -> str:
    """Mean, median and max of some seconds."""
    if not values:
        return "-"
    ordered = sorted(values)
    mean = sum(ordered) / len(ordered)
    return f"mean {mean:.1f} s, median {ordered[len(ordered) // 2]:.1f} s, max {ordered[-1]:.1f} s"


def history_figures(warehouse: Path) -> dict[str, int]:
    """Dates, articles, cross-date links and stories of a warehouse (DuckDB views)."""
    from tasks.warehouse import query

    with query.connect(warehouse) as con:
        dates, articles, stories = con.execute(
            "SELECT count(DISTINCT run_date), count(*), count(DISTINCT story_id) FROM articles"
        ).fetchone()
        (links,) = con.execute("SELECT count(*) FROM history_links").fetchone()
        (qlinks,) = con.execute("SELECT count(*) FROM quote_links").fetchone()
        (local,) = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT run_date, story_id"
            " FROM warehouse_table('articles'))"
        ).fetchone()
    return {"dates": dates, "articles": articles, "stories": stories, "links": links,
            "quote_links": qlinks, "local_stories": local}  # fmt: skip


def final_links(warehouse: Path, day: date) -> tuple[dict[str, int], int, int]:
    """The cross-date links of one date by relation, its quote links, and dates it links to."""
    from tasks.warehouse import query

    with query.connect(warehouse) as con:
        rows = con.execute(
            "SELECT relation, count(*) FROM history_links"
            " WHERE article_run_date = ? OR other_run_date = ? GROUP BY 1 ORDER BY 1",
            [day, day],
        ).fetchall()
        (qlinks,) = con.execute(
            "SELECT count(*) FROM quote_links WHERE cluster_run_date = ? OR other_run_date = ?",
            [day, day],
        ).fetchone()
        (others,) = con.execute(
            "SELECT count(DISTINCT other_run_date) FROM history_links WHERE article_run_date = ?",
            [day],
        ).fetchone()
    return dict(rows), qlinks, others


# --------------------------------------------------------------------------------------------
# The measured runs, each in a process of its own
# --------------------------------------------------------------------------------------------


def rss_mb() -> float:
    """This process's resident memory now, in MB (0 where /proc is not there)."""
    return status_mb("VmRSS") or 0.0


def measure(input_dir: Path, warehouse: Path, day: date) -> dict[str, Any]:
    """Run `news_etl` for a date (the Prefect server started first); seconds, peak, tasks.

    A thread samples the resident memory every 0.1 s, to tell which task the peak is in.
    """
    from flows.engine import start_api
    from flows.pipeline import news_etl

    start_api()
    before = peak_mb()
    samples: list[tuple[datetime, float]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            samples.append((datetime.now(UTC), rss_mb()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    clock = time.perf_counter()
    summary = news_etl(input_dir, warehouse, day)
    seconds = time.perf_counter() - clock
    stop.set()
    sampler.join()
    seconds_of, peak_of = task_figures(summary.flow_run_id, samples)
    return {
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_before_mb": before,
        "articles": summary.articles,
        "rejects": summary.rejects,
        "reused": summary.reused_articles,
        "warnings": list(summary.warnings),
        "tasks": seconds_of,
        "task_peaks": peak_of,
    }


def task_figures(
    flow_run_id: str | None, samples: Sequence[tuple[datetime, float]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per task of a flow run (summed over its calls, from the Prefect API), and the
    largest resident memory sampled while each ran."""
    if flow_run_id is None:
        return {}, {}
    from uuid import UUID

    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    seconds: dict[str, float] = defaultdict(float)
    peaks: dict[str, float] = defaultdict(float)
    try:
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                limit=200,
            )
    except Exception as err:  # the figures are extra: a failure costs only them
        return {f"unavailable: {err}": 0.0}, {}
    for run in runs:
        if run.start_time is None or run.end_time is None:
            continue
        name = run.name.rsplit("-", 1)[0]
        seconds[name] += (run.end_time - run.start_time).total_seconds()
        during = [mb for at, mb in samples if run.start_time <= at <= run.end_time]
        peaks[name] = max([peaks[name], *during])
    return dict(seconds), dict(peaks)


def measure_process(input_dir: Path, warehouse: Path, day: date, log: Path) -> dict[str, Any]:
    """`measure` in a fresh Python process; its output goes to `log`."""
    command = [sys.executable, __file__, "--measure-input", str(input_dir),
               "--measure-warehouse", str(warehouse), "--measure-date", day.isoformat()]  # fmt: skip
    with log.open("w") as fh:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=fh, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"measured run failed ({done.returncode}): see {log}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def show_run(label: str, run: dict[str, Any]) -> None:
    """One measured run's figures."""
    tasks = ", ".join(f"{k} {v:.1f}" for k, v in sorted(run["tasks"].items(), key=lambda i: -i[1]))
    print(f"  {label:8} {run['seconds']:6.1f} s  peak RSS {run['peak_mb']:6.0f} MB "
          f"({run['articles']} articles, {run['rejects']} rejects, {run['reused']} reused; "
          f"{run['peak_before_mb']:.0f} MB before the run; ru_maxrss {run['ru_maxrss_mb']:.0f} MB)")  # fmt: skip
    print(f"           tasks (s): {tasks}")
    peaks = run.get("task_peaks", {})
    order = sorted(((k, v) for k, v in peaks.items() if v), key=lambda i: -i[1])
    print(f"           RSS peak while each ran (MB): {', '.join(f'{k} {v:.0f}' for k, v in order)}")
    if run["warnings"]:
        print(f"           warnings: {run['warnings']}")


def main() -> None:
    """Build or reuse the history, then time the final date into an empty and a full warehouse."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--dates", type=int, default=60, help="run dates in the history")
    parser.add_argument("--per-date", type=int, default=1000, help="articles per run date")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="pairs of measured runs")
    parser.add_argument("--rebuild", action="store_true", help="build the history again")
    parser.add_argument("--build-only", action="store_true", help="no measured runs")
    parser.add_argument("--middle", action="store_true",
                        help="also run the final inputs as the middle history date, in place "
                             "of its articles (a window of dates on both sides)")  # fmt: skip
    parser.add_argument("--measure-input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure-warehouse", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure-date", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_input is not None:
        print(json.dumps(measure(args.measure_input, args.measure_warehouse, args.measure_date)))
        return
    files = read_corpora(args.data) if args.data.is_dir() else {}
    if len(files) < 2 * args.per_date:
        print(f"{args.data}: {len(files)} input files, fewer than 2 x {args.per_date}: skipped")
        return
    from tasks.core.records import short_hash
    from tasks.settings import Settings, canonical, extraction_settings, run_settings

    s = Settings()
    names = sorted(files)
    final_names = sorted(random.Random(args.seed).sample(names, args.per_date))
    kept = set(final_names)
    pool_names = [n for n in names if n not in kept]
    days = [FIRST_DAY + timedelta(days=i) for i in range(args.dates)]
    final_day = FIRST_DAY + timedelta(days=args.dates)
    # The settings, not the code: a code change does not rebuild the cache by itself (the
    # cross-date code a history was built with is noted when it differs).
    settings_keys = (short_hash(f"\x00{canonical(extraction_settings(s))}"),
                     short_hash(f"\x00{canonical(run_settings(s))}"))  # fmt: skip
    key = hashlib.sha256(
        f"{corpus_key(files)}|{args.seed}|{args.per_date}|{settings_keys[0]}"
        f"|{settings_keys[1]}".encode()
    ).hexdigest()[:12]
    print(f"corpora: {len(files)} inputs; {len(final_names)} kept for the final date "
          f"{final_day}, {len(pool_names)} in the pool; cache key {key}", flush=True)  # fmt: skip
    warehouse = args.cache / f"history-{key}-{args.dates}x{args.per_date}"
    if args.rebuild and warehouse.exists():
        shutil.rmtree(warehouse)
    record = build_history(warehouse, lambda: load_pool(args.cache, key, files, pool_names,
                                                        FIRST_DAY),
                           days, args.per_date, args.seed)  # fmt: skip
    print(f"build: {record['build_seconds']:.0f} s for {record['dates']} dates; per date "
          f"{spread(record['per_date_seconds'])}; of which across.update "
          f"{spread(record['across_update_seconds'])}; build peak RSS "
          f"{record['build_peak_mb']:.0f} MB", flush=True)  # fmt: skip
    figures = history_figures(warehouse)
    print(f"history: {figures['dates']} dates, {figures['articles']} articles, "
          f"{figures['links']} cross-date links, {figures['quote_links']} cross-date quote links, "
          f"{figures['stories']} stories over all dates "
          f"({figures['local_stories']} stories within dates)", flush=True)  # fmt: skip
    if args.build_only:
        return
    logs = args.cache / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.cache) as tmp:
        inputs = Path(tmp) / "inputs"
        write_inputs(inputs / final_day.isoformat(), files, final_names)
        middle_day = days[len(days) // 2]
        if args.middle:
            write_inputs(inputs / middle_day.isoformat(), files, final_names)
        pairs, middles = [], []
        for n in range(args.repeat):
            empty = Path(tmp) / f"empty-{n}"
            base = measure_process(inputs, empty, final_day, logs / f"empty-{n}.log")
            full = Path(tmp) / f"history-{n}"
            shutil.copytree(warehouse, full)
            run = measure_process(inputs, full, final_day, logs / f"history-{n}.log")
            found, qlinks, others = final_links(full, final_day)
            shutil.rmtree(empty)
            shutil.rmtree(full)
            pairs.append((base, run))
            print(f"final date {final_day}, {len(final_names)} inputs (pair {n + 1}):")
            show_run("empty", base)
            show_run("history", run)
            print(f"  cross-date links the final run found: {found} "
                  f"(to {others} earlier dates), quote links {qlinks}", flush=True)  # fmt: skip
            if args.middle:
                again = Path(tmp) / f"middle-{n}"
                shutil.copytree(warehouse, again)
                middles.append(measure_process(inputs, again, middle_day,
                                               logs / f"middle-{n}.log"))  # fmt: skip
                shutil.rmtree(again)
                show_run("middle", middles[-1])
    base_s = statistics.median(b["seconds"] for b, _ in pairs)
    run_s = statistics.median(r["seconds"] for _, r in pairs)
    ratio = run_s / base_s
    peak = max(r["peak_mb"] for _, r in pairs)
    base_peak = max(b["peak_mb"] for b, _ in pairs)
    link = statistics.median(r["tasks"].get("link_history", 0.0) for _, r in pairs)
    if len(pairs) > 1:
        ratios = ", ".join(f"{r['seconds'] / b['seconds']:.2f}" for b, r in pairs)
        print(f"medians of {len(pairs)} pairs (ratio of each pair: {ratios})")
    print(f"empty warehouse:   {base_s:.1f} s, peak RSS {base_peak:.0f} MB")
    print(f"history warehouse: {run_s:.1f} s, peak RSS {peak:.0f} MB "
          f"(link_history task {link:.1f} s)")  # fmt: skip
    print(f"ratio {ratio:.2f} (goal <= {RATIO_GOAL}: {'met' if ratio <= RATIO_GOAL else 'MISSED'}); "
          f"peak {peak:.0f} MB (goal < {RSS_GOAL_MB:.0f} MB: "
          f"{'met' if peak < RSS_GOAL_MB else 'MISSED'})")  # fmt: skip
    if middles:
        mid_peak = max(m["peak_mb"] for m in middles)
        mid_link = statistics.median(m["tasks"].get("link_history", 0.0) for m in middles)
        print(f"middle date {middle_day} in place of its articles: "
              f"{statistics.median(m['seconds'] for m in middles):.1f} s (link_history task "
              f"{mid_link:.1f} s), peak RSS {mid_peak:.0f} MB (goal < {RSS_GOAL_MB:.0f} MB: "
              f"{'met' if mid_peak < RSS_GOAL_MB else 'MISSED'})")  # fmt: skip
    print(f"run logs in {logs}; finished {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
