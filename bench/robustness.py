"""Robustness: the hostile corpus mixed into N good articles, through the real flow.

The good articles are the first N of ../shared/data/bbc_news (plain text, as collected); the
hostile inputs are every kind of `tests/badcorpus.py` (binary files, bombs, broken gzip and
JSONL, pages nested too deep, lines that make regular expressions backtrack, special files
and symbolic links). The real `news_etl` runs on the good articles alone (the baseline) and on
the mix, each into a warehouse of its own, in this process. It prints the inputs, articles
and rejects by reason of the mix, the inputs whose outcome is not the corpus's, how many good
articles were lost (must be 0: exit 1 otherwise), both wall times, the peak memory, and the
slowest documents of each stage, timed one by one through the bare stages.

    .venv/bin/python bench/robustness.py [--n 500]
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import duckdb

from flows.pipeline import news_etl
from tasks import ingest
from tasks.clean import cleaner as clean
from tasks.core.records import Article, RawDocument, Reject, RunSummary
from tasks.entities import mentions as entities
from tasks.normalize import fields as normalize
from tasks.quotes import attribution as quotes
from tasks.settings import Settings
from tasks.warehouse import query

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DAY = date(2030, 1, 1)  # after every article's date, so none is refused as "future"
GOOD_FOLDER = "bbc"  # the good articles' folder inside the mixed input
SLOWEST = 3  # documents listed per stage


def load_corpus() -> ModuleType:
    """The hostile corpus module, tests/badcorpus.py."""
    sys.path.insert(0, str(ROOT / "tests"))
    return importlib.import_module("badcorpus")


def good_texts(n: int) -> list[tuple[str, str]]:
    """The first N BBC articles as (file name, raw text); empty when the data is absent."""
    source = DATA / "bbc_news" / "articles.jsonl.gz"
    if not source.is_file():
        return []
    with gzip.open(source, "rt", encoding="utf-8") as fh:
        items = [json.loads(line) for line in fh]
    return [(f"{a['id'].replace('/', '_')}.txt", a["raw"]) for a in items[:n]]


def write_good(folder: Path, texts: Sequence[tuple[str, str]]) -> list[str]:
    """Write the good articles into a folder; return their source_uri under its parent."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts:
        (folder / name).write_text(text, encoding="utf-8")
    return [f"{folder.name}/{name}" for name, _ in texts]


@dataclass
class FlowResult:
    """One flow run: its summary, wall time, and outcome per input."""

    summary: RunSummary
    seconds: float
    outcomes: dict[str, str]  # source_uri -> "article" or the reject reason
    warned: dict[str, set[str]] = field(default_factory=dict)  # source_uri -> warning reasons


def run_flow(inputs: Path, warehouse: Path) -> FlowResult:
    """Run the real flow on a folder; read back what became of each input."""
    started = time.perf_counter()
    summary = news_etl(input_dir=inputs, warehouse=warehouse, run_date=DAY)
    seconds = time.perf_counter() - started
    with query.connect(warehouse) as con:
        outcomes = _rows(con, "SELECT source_uri, 'article' FROM articles UNION ALL "
                              "SELECT source_uri, reason FROM rejects")  # fmt: skip
        warned = _rows(con, "SELECT source_uri, w FROM articles, unnest(warnings) AS t(w)")
    result = FlowResult(summary, seconds, dict(outcomes))
    for uri, warning in warned:
        result.warned.setdefault(uri, set()).add(warning.split(":", 1)[0])
    return result


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, str]]:
    """A two-column query's rows."""
    return [(str(a), str(b)) for a, b in con.execute(sql).fetchall()]


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory so far of this process and of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def own_peak_mb() -> float:
    """Peak resident memory of this process image (VmHWM: a child's starts afresh at exec)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mb()[0]


def warm_up(tmp: Path) -> None:
    """One small run first, so neither measured run pays for Prefect's API and spaCy's load."""
    news_etl(input_dir=ROOT / "seeds", warehouse=tmp / "warm", run_date=DAY)


# --------------------------------------------------------------------------------------------
# The slowest documents of each stage, timed one by one through the bare stages
# --------------------------------------------------------------------------------------------


@dataclass
class Timings:
    """Seconds per document of each stage, and the documents that raised the peak memory."""

    by_stage: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    rises: list[tuple[float, str, str]] = field(default_factory=list)  # MB, stage, uri

    def time(self, stage: str, uri: str, work: Callable[..., T], *args: Any) -> T:
        """Run one document's work, record its seconds and any rise of the peak, return it."""
        peak = own_peak_mb()
        started = time.perf_counter()
        try:
            return work(*args)
        finally:
            self.by_stage.setdefault(stage, []).append((time.perf_counter() - started, uri))
            rise = own_peak_mb() - peak
            if rise > 0:
                self.rises.append((rise, stage, uri))

    def report(self) -> None:
        """Print each stage's slowest documents and its total, then the memory raisers."""
        for stage, times in self.by_stage.items():
            times.sort(reverse=True)
            slow = ", ".join(f"{uri} {s:.2f} s" for s, uri in times[:SLOWEST])
            total = sum(s for s, _ in times)
            print(f"  {stage:<10} {len(times):>4} docs, {total:6.1f} s in all; slowest: {slow}")
        self.rises.sort(reverse=True)
        raisers = ", ".join(f"{uri} ({stage}) +{mb:.0f} MB" for mb, stage, uri in self.rises[:5])
        print(f"  peak RSS {own_peak_mb():.0f} MB; raised most by: {raisers}")


def time_stages(folder: Path, settings: Settings) -> Timings:
    """Each input through ingest, clean, normalize, entities and quotes on its own."""
    timings = Timings()
    reference = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    # Models load on first use (py3langid, spaCy): once here, so no document is charged it.
    warm = RawDocument("warm-up.txt", load_corpus().GOOD, "text", "utf-8")
    cleaned, _ = clean.clean_documents([warm], settings.clean)
    done, _ = normalize.normalize_documents(cleaned, settings.normalize, reference)
    _analyse(done[0], settings)
    articles: list[Article] = []
    for item in ingest.discover(folder).inputs:
        docs, _ = timings.time(
            "ingest", item.uri, ingest.read_inputs, [item], folder, settings.ingest
        )
        for doc in docs:
            cleaned, _ = timings.time(
                "clean", doc.source_uri, clean.clean_documents, [doc], settings.clean
            )
            for c in cleaned:
                done, _ = timings.time(
                    "normalize",
                    c.source_uri,
                    normalize.normalize_documents,
                    [c],
                    settings.normalize,
                    reference,
                )
                articles += done
    for article in articles:
        if article.nlp_skip_reason is None:
            timings.time("analysis", article.source_uri, _analyse, article, settings)
    return timings


def stages_process(folder: Path) -> str:
    """`time_stages` in a Python process of its own: its peak memory is the stages' alone."""
    command = [sys.executable, __file__, "--stages-of", str(folder)]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _analyse(article: Article, settings: Settings) -> list[Reject]:
    """Entities and quotes of one article, as the flow finds them for a batch."""
    batch = entities.extract_mentions([article], settings.entities)
    linked, known = entities.canonicalize(list(batch.mentions), settings.entities)
    _, rejects = quotes.extract_quotes([article], batch.parsed, linked, known, settings.quotes)
    return [*batch.rejects, *rejects]


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the baseline and the mixed corpus; print the figures; 1 if a good article was lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="good articles (default 500)")
    parser.add_argument("--no-timings", action="store_true", help="skip the per-document timing")
    parser.add_argument("--stages-of", type=Path, help="only time the stages on DIR (internal)")
    args = parser.parse_args(argv)
    if args.stages_of is not None:
        time_stages(args.stages_of, Settings()).report()
        return 0
    texts = good_texts(args.n)
    if not texts:
        print(f"bbc_news: {DATA / 'bbc_news'} absent, skipped")
        return 0
    if len(texts) < args.n:
        print(f"bbc_news has {len(texts)} articles, fewer than --n {args.n}: using them all")
    badcorpus = load_corpus()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        warm_up(tmp)
        alone = tmp / "alone"
        write_good(alone / GOOD_FOLDER, texts)
        baseline = run_flow(alone, tmp / "wh-alone")
        rss_alone = peak_rss_mb()
        mixed = tmp / "mixed"
        expected: dict[str, str] = badcorpus.write_hostile(mixed)
        good = write_good(mixed / GOOD_FOLDER, texts)
        kinds = len(expected)
        expected |= dict.fromkeys(good, "article")
        result = run_flow(mixed, tmp / "wh-mixed")
        rss_mixed = peak_rss_mb()
        lost = [uri for uri in good if result.outcomes.get(uri) != "article"]
        lost_alone = [uri for uri in good if baseline.outcomes.get(uri) != "article"]
        wrong = {uri: (outcome, result.outcomes.get(uri, "(none)"))
                 for uri, outcome in expected.items() if result.outcomes.get(uri) != outcome}  # fmt: skip
        missing = {uri: reason for uri, reason in badcorpus.FLOW_WARNINGS.items()
                   if reason not in result.warned.get(uri, set())}  # fmt: skip
        warnings = Counter(w for reasons in result.warned.values() for w in reasons)
        summary = result.summary
        rejects = Counter(o for o in result.outcomes.values() if o != "article")
        print(f"inputs: {summary.inputs} (of {len(expected)}: {len(good)} good articles, "
              f"{kinds} hostile inputs)")  # fmt: skip
        print(f"articles: {summary.articles}   rejects: {summary.rejects}")
        print("rejects by reason: " + ", ".join(f"{r} {n}" for r, n in rejects.most_common()))
        print("articles with warnings: " + ", ".join(f"{w} {n}" for w, n in warnings.items()))
        print(f"good articles lost: {len(lost)} of {len(good)} (alone: {len(lost_alone)})"
              + (f": {', '.join(lost[:10])}" if lost else ""))  # fmt: skip
        print(f"inputs whose outcome is not the corpus's: {len(wrong)}")
        for uri, (want, got) in sorted(wrong.items()):
            print(f"  {uri!r}: expected {want}, got {got}")
        for uri, reason in missing.items():
            print(f"  {uri!r}: no {reason} warning")
        extra = result.seconds - baseline.seconds
        print(f"wall time: {baseline.seconds:.1f} s for the good articles alone, "
              f"{result.seconds:.1f} s with the hostile inputs (+{extra:.1f} s)")  # fmt: skip
        print(f"peak RSS: {rss_alone[0]:.0f} MB after the baseline, {rss_mixed[0]:.0f} MB "
              f"after the mixed run (children: {rss_mixed[1]:.0f} MB)")  # fmt: skip
        if not args.no_timings:
            print("per document, bare stages, one document at a time, in a fresh process:")
            print(stages_process(mixed), end="")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
