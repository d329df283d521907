"""Throughput: the bare stages against the full `newsetl run` on one corpus, and the rerun.

The corpus repeats ../shared/data/bbc_news to N plain-text files, each wrapped in boilerplate
lines of the kind the cleaner removes. "Bare" is the work a run cannot avoid: reading and
cleaning the files and spaCy over the cleaned bodies, on as many processes as the run has
workers, with no Prefect and no Parquet, in a Python process of its own. "Full" is the real
flow on a local Dask cluster of the same size (in this process with one worker), started as
`newsetl run` starts it: from its temporary Prefect server, which starts while Prefect is
imported and the models load, to the commit;
then the same run again (every article already in the warehouse), in the same process and as
a new `newsetl run` process, once starting a temporary Prefect server as a run by hand does
and once against the running server as a deployment's runs do.

The default corpus is the scale of the goals, 20,000 articles (about a quarter of an hour on
2 cores); `--n 2000` gives a quick look, where the run's fixed costs (its Prefect API, the
cluster's start and stop) weigh ten times as much.

    .venv/bin/python bench/throughput.py --n 20000 --workers 2
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from flows import api
from tasks import ingest
from tasks.clean import cleaner as clean
from tasks.nlp import pipeline as nlp
from tasks.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DAY = date(2030, 1, 1)
HEADERS = ["Download The App", "Sunday, 3 March 2024", "19.8 C", "A A+ A-", "3 MIN READ"]
FOOTERS = ["- Advertisement -", "More Articles", "Please enter your comment!", "Latest Articles"]


def build_corpus(folder: Path, n: int) -> int:
    """Write N files from the BBC articles with boilerplate lines around each; return N or 0."""
    source = DATA / "bbc_news" / "articles.jsonl.gz"
    if not source.is_file():
        return 0
    with gzip.open(source, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["raw"] for line in fh]
    for i in range(n):
        head = "\n".join(HEADERS[: 2 + i % 4])
        foot = "\n".join(FOOTERS[: 1 + i % 4])
        body = texts[i % len(texts)]
        (folder / f"bbc_{i:06d}.txt").write_text(f"{head}\n{body}\n{foot}\n", encoding="utf-8")
    return n


def bare(folder: Path, workers: int) -> tuple[int, float]:
    """Read, clean and parse every file with no orchestration and no output; articles, seconds."""
    settings = Settings()
    started = time.perf_counter()
    paths = ingest.discover(folder).inputs
    bodies: list[str] = []
    for start in range(0, len(paths), settings.batch_size):
        docs, _ = ingest.read_inputs(
            paths[start : start + settings.batch_size], folder, settings.ingest
        )
        cleaned, _ = clean.clean_documents(docs, settings.clean)
        bodies += [d.body for d in cleaned]
    model = nlp.load_model(settings.entities.model)
    docs = model.pipe(bodies, batch_size=settings.entities.pipe_batch_size, n_process=workers)
    return sum(1 for _ in docs), time.perf_counter() - started


def bare_process(folder: Path, workers: int) -> tuple[int, float]:
    """Time `bare` in a fresh Python process of its own.

    spaCy then forks its workers from a process with no Prefect or Dask threads (forked from
    the bench's, they exited with errors), and the full run's peak memory stays its own.
    """
    command = [sys.executable, __file__, "--bare-of", str(folder), "--workers", str(workers)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    count, seconds = json.loads(done.stdout.strip().splitlines()[-1])
    return int(count), float(seconds)


def cli_rerun(folder: Path, warehouse: Path, workers: int, api_url: str | None = None) -> float:
    """Seconds of an up-to-date `newsetl run` in a process of its own.

    With no `api_url` it starts a temporary Prefect server, as a `newsetl run` by hand does;
    with one it reports to that running server, as a scheduled deployment's runs do.
    """
    command = [str(Path(sys.executable).with_name("newsetl")), "run", "--input", str(folder),
               "--warehouse", str(warehouse), "--date", DAY.isoformat()]  # fmt: skip
    if workers > 1:
        command += ["--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    else:  # no server at its address: it starts its own (this process's would be found)
        env["PREFECT_SERVER_API_PORT"] = str(api.free_port())
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def running_api() -> str:
    """The URL of the Prefect API the full run used: its temporary server, still running."""
    from flows.engine import start_api

    return start_api()  # started already: its URL at once


def peak_mb(who: int) -> float:
    """Peak resident memory in MB (RUSAGE_CHILDREN: the largest finished child)."""
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    """Build the corpus, time bare and full runs and the rerun, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="articles in the corpus")
    parser.add_argument("--workers", type=int, default=2, help="processes (Dask workers)")
    parser.add_argument("--skip-bare", action="store_true", help="only the full run and rerun")
    parser.add_argument("--bare-of", type=Path, help="only time bare on this folder (internal)")
    args = parser.parse_args()
    if args.bare_of is not None:
        print(json.dumps(bare(args.bare_of, args.workers)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder, warehouse = Path(tmp) / "in", Path(tmp) / "wh"
        folder.mkdir()
        if not build_corpus(folder, args.n):
            print(f"bbc_news not found under {DATA}: skipped")
            return
        print(f"corpus: {args.n} BBC News articles with boilerplate lines, {args.workers} workers")
        started = time.perf_counter()
        early = api.start_early()  # before Prefect is imported, as `newsetl run` does
        from flows.engine import engine, start_api

        start_api(warm=early is not None)
        run = engine(workers=args.workers) if args.workers > 1 else engine()
        first = run(folder, warehouse, DAY)
        full_s = time.perf_counter() - started
        started = time.perf_counter()
        again = run(folder, warehouse, DAY)
        rerun_s = time.perf_counter() - started
        flow_mb, worker_mb = peak_mb(resource.RUSAGE_SELF), peak_mb(resource.RUSAGE_CHILDREN)
        cli_s = cli_rerun(folder, warehouse, args.workers)
        served_s = cli_rerun(folder, warehouse, args.workers, running_api())
        full_rate = first.articles / full_s
        print(
            f"full run:  {first.articles} articles in {full_s:.1f} s = {full_rate:.1f} articles/s"
        )
        print(f"rerun:     {again.reused_articles} reused in {rerun_s:.1f} s = "
              f"{full_s / rerun_s:.1f}x faster")  # fmt: skip
        print(f"rerun as a new `newsetl run` process: {cli_s:.1f} s = {full_s / cli_s:.1f}x faster")
        print(f"  the same against the running Prefect server (a deployment's runs): "
              f"{served_s:.1f} s = {full_s / served_s:.1f}x faster")  # fmt: skip
        if not args.skip_bare:
            count, bare_s = bare_process(folder, args.workers)
            bare_rate = count / bare_s
            print(f"bare:      {count} articles in {bare_s:.1f} s = {bare_rate:.1f} articles/s")
            print(f"full/bare: {full_rate / bare_rate:.2f}")
        print(f"peak RSS of the full run: flow process {flow_mb:.0f} MB, "
              f"largest worker {worker_mb:.0f} MB")  # fmt: skip
        print(f"finished {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
