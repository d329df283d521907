"""WARC ingest speed: the same pages as records of one WARC.gz and as HTML files, in one process.

Usage: .venv/bin/python bench/warc.py [--records N] [--repeat R] [--stage ingest|full]
                                      [--data ../shared/data]

The development HTML pages (wcxb_articles, trafilatura_eval, article_extraction_benchmark:
about 1,100) are cycled to N inputs (default 5,000), each a distinct URL, and written to a
temp folder twice: as the response records of one `.warc.gz` and as N `.html` files. Two
stages are timed on each, in pages (inputs) per second: ingest alone (`discover` and
`read_inputs`, a WARC's scan included) and ingest + clean + normalize in the flow's batches
(`clean_documents`, `normalize_documents`). The file folder is the baseline. A warm-up on a
few pages of each loads the models first; then each of R rounds times both sources,
swapping which goes first, and the best round of each is printed, so neither gains from
coming second. `--stage` times one stage only: the full one takes about 0.1 s a page.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import cycle, islice
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tasks.clean import clean_documents
from tasks.ingest import Input, discover, read_inputs
from tasks.normalize import normalize_documents
from tasks.settings import Settings

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# The flow's reference time for run date 2030-01-01: the end of that day (no later
# publication date is kept), after every dev page's date.
REFERENCE = datetime(2030, 1, 2, tzinfo=UTC)
URL = "https://bench.invalid/page-{:05d}"
WARMUP_PAGES = 20

Stage = Callable[[Path, Settings], int]


def dev_pages(data: Path) -> list[bytes]:
    """Every development HTML page (bytes as crawled), in a fixed order; none if absent."""
    evaldata = data / "trafilatura_eval" / "evaldata.json"
    traf: list[Path] = []
    if evaldata.is_file():
        items: dict[str, dict[str, object]] = json.loads(evaldata.read_text(encoding="utf-8"))
        traf = [data / "trafilatura_eval" / str(items[k]["html_file"]) for k in sorted(items)]
    paths = [
        *sorted((data / "wcxb_articles" / "html").glob("*.html.gz")),
        *traf,
        *sorted((data / "article_extraction_benchmark" / "html").glob("*.html.gz")),
    ]
    return [gzip.decompress(p.read_bytes()) for p in paths if p.is_file()]


def build(root: Path, pages: Sequence[bytes], n: int) -> tuple[Path, Path]:
    """Write N pages (cycled) as one WARC.gz folder and as a folder of .html files."""
    archive, files = root / "warc", root / "files"
    archive.mkdir(parents=True)
    files.mkdir(parents=True)
    with (archive / "pages.warc.gz").open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i, body in enumerate(islice(cycle(pages), n)):
            # No charset in the header: a file has none either, so both decode alike.
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                URL.format(i), "response", payload=io.BytesIO(body), http_headers=http
            )
            writer.write_record(record)
            (files / f"page-{i:05d}.html").write_bytes(body)
    return archive, files


def _batches(folder: Path, settings: Settings) -> list[list[Input]]:
    """The folder's inputs in the flow's batches."""
    inputs = discover(folder).inputs
    size = settings.batch_size or len(inputs) or 1
    return [inputs[i : i + size] for i in range(0, len(inputs), size)]


def ingest_only(folder: Path, settings: Settings) -> int:
    """List and read every input; the documents read."""
    return sum(
        len(read_inputs(batch, folder, settings.ingest)[0]) for batch in _batches(folder, settings)
    )


def through_normalize(folder: Path, settings: Settings) -> int:
    """List, read, clean and normalize every input batch by batch; the articles made."""
    made = 0
    for batch in _batches(folder, settings):
        docs, _ = read_inputs(batch, folder, settings.ingest)
        cleaned, _ = clean_documents(docs, settings.clean)
        articles, _ = normalize_documents(cleaned, settings.normalize, REFERENCE)
        made += len(articles)
    return made


def timed(stage: Stage, folder: Path, settings: Settings) -> tuple[int, float]:
    """The stage's output count and its seconds."""
    started = time.perf_counter()
    count = stage(folder, settings)
    return count, time.perf_counter() - started


def compare(
    name: str, stage: Stage, sources: dict[str, Path], settings: Settings, repeat: int, n: int
) -> None:
    """Time one stage on both sources, alternating which goes first; print the best rounds."""
    best: dict[str, float] = {}
    counts: dict[str, set[int]] = {}
    order = list(sources)
    for round_no in range(repeat):
        for source in order if round_no % 2 == 0 else order[::-1]:
            count, seconds = timed(stage, sources[source], settings)
            best[source] = min(best.get(source, seconds), seconds)
            counts.setdefault(source, set()).add(count)
    for source in order:
        made = "/".join(str(c) for c in sorted(counts[source]))
        print(f"{name:<26} {source:<6} {n:>6} {made:>7} {best[source]:>8.2f} "
              f"{n / best[source]:>9.1f}")  # fmt: skip
    print(f"{name:<26} warc/files pages per second: {best['files'] / best['warc']:.2f}")


def main() -> None:
    """Build both corpora, warm up, time both stages on both sources, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000, help="pages (WARC records)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of each measurement")
    parser.add_argument("--stage", choices=["ingest", "full"], help="time only this stage")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    pages = dev_pages(args.data)
    if not pages:
        print(f"no development HTML pages under {args.data}: skipped")
        return
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        archive, files = build(root / "main", pages, args.records)
        size = (archive / "pages.warc.gz").stat().st_size
        total = sum(p.stat().st_size for p in files.iterdir())
        print(f"{args.records} pages from {len(pages)} distinct dev pages: WARC.gz "
              f"{size / 1e6:.1f} MB, files {total / 1e6:.1f} MB, written in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        # Models and caches load on first use: charged to neither source.
        for folder in build(root / "warm", pages, WARMUP_PAGES):
            through_normalize(folder, settings)
        print(f"batch size {settings.batch_size}; best of {args.repeat} rounds, alternating "
              "which source goes first")  # fmt: skip
        print(f"{'stage':<26} {'source':<6} {'pages':>6} {'out':>7} {'best s':>8} {'pages/s':>9}")
        sources = {"files": files, "warc": archive}
        if args.stage in (None, "ingest"):
            compare("ingest", ingest_only, sources, settings, args.repeat, args.records)
        if args.stage in (None, "full"):
            compare("ingest+clean+normalize", through_normalize, sources, settings, args.repeat,
                    args.records)  # fmt: skip
    print(f"finished {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
