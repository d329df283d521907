"""Operations: logical dates, backfills, incremental reruns, crash safety, the lock, checks."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from badcorpus import ARTICLE_CHECKS, FLOW_WARNINGS, GOOD, write_hostile
from factories import hold_lock
from typer.testing import CliRunner

from flows import GC_THRESHOLDS
from flows.cli import app
from flows.context import DataCheckError
from flows.pipeline import news_etl
from tasks.core.records import ParsedBatch
from tasks.settings import Settings
from tasks.store import schemas, write
from tasks.warehouse import query

DAY = date(2025, 1, 15)
SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def _stable(warehouse: Path, name: str) -> list[dict[str, object]]:
    """A view's rows without wall-clock columns, sorted."""
    return _stables(warehouse, [name])[name]


def _stables(warehouse: Path, names: Iterable[str]) -> dict[str, list[dict[str, object]]]:
    """`_stable` of each view, read in one session (opening one costs more than the reads)."""
    out = {}
    with query.connect(warehouse) as con:
        for name in names:
            schema = schemas.TABLES.get(name) or schemas.VIEWS[name]
            keep = [f.name for f in schema if not schemas.is_flag(f, schemas.VOLATILE)]
            rows = con.sql(f"SELECT {', '.join(keep)} FROM {name}").fetchall()
            out[name] = sorted((dict(zip(keep, r, strict=True)) for r in rows), key=repr)
    return out


def _sql(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    with query.connect(warehouse) as con:
        return con.sql(sql).fetchall()


def _copy_seeds(folder: Path, count: int = 5) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in SEEDS[:count]:
        shutil.copy(path, folder / path.name)
    return folder


def test_dated_layout_reads_only_the_days_folder(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    _copy_seeds(inputs / "2025-01-14", 2)
    (inputs / "2025-01-15").mkdir()
    shutil.copy(SEEDS[2], inputs / "2025-01-15" / SEEDS[2].name)
    wh = tmp_path / "wh"
    summary = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    assert (summary.inputs, summary.articles) == (1, 1)
    [(uri,)] = _sql(wh, "SELECT source_uri FROM articles")
    assert uri == f"2025-01-15/{SEEDS[2].name}"
    # A day without a folder has no input: an empty, successful run, not the whole folder.
    empty = news_etl(input_dir=inputs, warehouse=wh, run_date=date(2025, 1, 16))
    assert (empty.status, empty.inputs, empty.articles) == ("succeeded", 0, 0)


def test_backfill_runs_each_date_and_skips_complete_ones(tmp_path: Path) -> None:
    inputs, wh = tmp_path / "in", tmp_path / "wh"
    _copy_seeds(inputs / "2025-01-14", 2)
    _copy_seeds(inputs / "2025-01-15", 1)
    args = ["backfill", "--start", "2025-01-14", "--end", "2025-01-16",
            "--input", str(inputs), "--warehouse", str(wh)]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    by_date = _sql(wh, "SELECT run_date, count(*) FROM articles GROUP BY 1 ORDER BY 1")
    assert by_date == [(date(2025, 1, 14), 2), (date(2025, 1, 15), 1)]
    assert len(_sql(wh, "SELECT * FROM committed_attempts")) == 3
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and again.output.count("complete, skipped") == 3
    assert len(_sql(wh, "SELECT * FROM runs")) == 3
    forced = CliRunner().invoke(app, [*args, "--force"])
    assert forced.exit_code == 0 and "skipped" not in forced.output
    runs = _sql(wh, "SELECT run_date, reused_articles FROM runs ORDER BY started_at DESC LIMIT 3")
    assert sorted(runs) == [(date(2025, 1, 14), 2), (date(2025, 1, 15), 1), (date(2025, 1, 16), 0)]
    assert _sql(wh, "SELECT count(*) FROM articles") == [(3,)]


def test_new_input_is_extracted_and_the_rest_reused(tmp_path: Path) -> None:
    inputs = _copy_seeds(tmp_path / "in")
    wh = tmp_path / "wh"
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    (inputs / "flood.txt").write_text(GOOD, encoding="utf-8")
    summary = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    assert (summary.articles, summary.reused_articles) == (6, 5)
    # The same input in a fresh warehouse, every article extracted: the same rows.
    fresh = tmp_path / "fresh"
    assert news_etl(input_dir=inputs, warehouse=fresh, run_date=DAY).reused_articles == 0
    names = ("articles", "entity_mentions", "entities", "quotes", "article_links", "stories")
    reused, extracted = _stables(wh, names), _stables(fresh, names)
    for name in names:
        assert reused[name] == extracted[name], name


def test_changed_settings_extract_again(tmp_path: Path) -> None:
    inputs = _copy_seeds(tmp_path / "in", 2)
    wh = tmp_path / "wh"
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    settings = Settings()
    other = replace(settings, quotes=replace(settings.quotes, cluster_min_ratio=99))
    assert (
        news_etl(input_dir=inputs, warehouse=wh, run_date=DAY, settings=other).reused_articles == 0
    )


def test_second_run_is_refused_at_once_while_the_lock_is_held(tmp_path: Path) -> None:
    inputs = _copy_seeds(tmp_path / "in", 1)
    wh = tmp_path / "wh"
    holder = hold_lock(wh)
    try:
        cmd = [str(Path(sys.executable).parent / "newsetl"), "run", "--input", str(inputs),
               "--warehouse", str(wh), "--date", "2025-01-15"]  # fmt: skip
        started = time.monotonic()
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        took = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"is locked by a running newsetl (pid {holder.pid}" in lines[0]
    # Told before Prefect or spaCy start: the time is Python's start and the CLI's imports.
    assert took < 5, took
    assert not list(wh.glob("runs/*/*.parquet"))


def test_killed_mid_write_leaves_no_partial_or_duplicate_rows(tmp_path: Path) -> None:
    inputs = _copy_seeds(tmp_path / "in", 3)
    wh = tmp_path / "wh"
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    before = _stables(wh, ("articles", "quotes", "entity_mentions"))
    for path in SEEDS[3:]:
        shutil.copy(path, inputs / path.name)
    cmd = [str(Path(sys.executable).parent / "newsetl"), "run", "--input", str(inputs),
           "--warehouse", str(wh), "--date", DAY.isoformat()]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PREFECT_LOGGING_LEVEL": "ERROR"})  # fmt: skip
    # Kill it as soon as the new attempt's first table file lands (its `running` row of
    # `runs` comes before any).
    old = set(wh.glob("*/*/*.parquet"))
    deadline = time.monotonic() + 240
    while not {p for p in set(wh.glob("*/*/*.parquet")) - old if "runs" not in p.parts}:
        if proc.poll() is not None:
            break
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert set(wh.glob("*/*/*.parquet")) - old, "killed before it wrote anything"
    # Every attempt leaves a `runs` row: the killed one says it was running.
    assert sorted(r[0] for r in _sql(wh, "SELECT status FROM runs")) == ["running", "succeeded"]
    # Readers still see the committed run, once, and nothing of the killed one.
    assert _stables(wh, before) == before
    # No grace for readers of the superseded attempt: its files go with the commit.
    no_grace = replace(Settings(), superseded_grace_seconds=0)
    summary = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY, settings=no_grace)
    assert summary.articles == 5
    assert _sql(wh, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(5, 5)]
    # The next run found the killed attempt's process gone.
    statuses = sorted(r[0] for r in _sql(wh, "SELECT status FROM runs"))
    assert statuses == ["abandoned", "succeeded", "succeeded"]
    for name in schemas.TABLES:
        if name != "runs":
            assert len(list(wh.glob(f"{name}/*/*.parquet"))) <= 1, name


def test_error_check_fails_the_run_and_warnings_are_recorded(tmp_path: Path) -> None:
    inputs = _copy_seeds(tmp_path / "in", 2)
    wh = tmp_path / "wh"
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "long_articles.sql").write_text(
        "-- severity: warn\nSELECT article_id FROM articles WHERE word_count > 10\n"
    )
    warned = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY, checks=sorted(checks.glob("*")))
    assert warned.warnings == ("long_articles: 2 rows",)
    assert _sql(wh, "SELECT warnings FROM runs") == [(["long_articles: 2 rows"],)]
    committed = _stable(wh, "articles")
    (inputs / "flood.txt").write_text(GOOD, encoding="utf-8")
    (checks / "no_flood.sql").write_text(
        "-- severity: error\nSELECT article_id FROM articles WHERE body LIKE '%flood%'\n"
    )
    with pytest.raises(DataCheckError, match="check no_flood failed: 1 rows"):
        news_etl(input_dir=inputs, warehouse=wh, run_date=DAY, checks=sorted(checks.glob("*")))
    assert _stable(wh, "articles") == committed
    [(error,)] = _sql(wh, "SELECT error FROM runs WHERE status = 'failed'")
    assert "no_flood" in str(error)


def test_shipped_checks_pass_on_a_real_run_and_catch_bad_rows(tmp_path: Path) -> None:
    inputs = _copy_seeds(tmp_path / "in", 3)
    wh = tmp_path / "wh"
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    ok = CliRunner().invoke(app, ["check", "--warehouse", str(wh)])
    assert ok.exit_code == 0, ok.output
    # Corrupt one committed file of each checked table, as a buggy writer would.
    attempt = write.committed_attempts(wh)[DAY.isoformat()]

    def corrupt(name: str, column: str, value: object) -> None:
        path = write.partition_dir(wh, name, DAY) / f"{attempt}.parquet"
        table = pq.read_table(path)
        values = table.column(column).to_pylist()
        values[0] = value
        index = table.schema.get_field_index(column)
        field = table.schema.field(index)
        fixed = table.set_column(index, field, pa.array(values, field.type))
        pq.write_table(fixed, path)

    corrupt("quotes", "end_char", 10**6)
    corrupt("entity_mentions", "start_char", -1)
    corrupt("articles", "body", " ")
    corrupt("runs", "inputs", 99)
    failed = CliRunner().invoke(app, ["check", "--warehouse", str(wh)])
    assert failed.exit_code == 1
    with query.connect(wh) as con:
        results = {r.name: r.failing_rows for r in query.run_checks(con, query.check_files())}
    assert results["quotes_outside_body"] >= 1
    assert results["mention_offsets"] >= 1
    assert results["empty_body"] == 1
    assert results["inputs_accounted"] == 1
    assert results["high_reject_share"] == 0


def test_hostile_corpus_through_the_flow_is_accounted_for(tmp_path: Path) -> None:
    inputs, wh = tmp_path / "in", tmp_path / "wh"
    expected = write_hostile(inputs)
    summary = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    with query.connect(wh) as con:  # one session for every read: opening one is the cost
        got = dict(con.sql("SELECT source_uri, 'article' FROM articles UNION ALL "
                           "SELECT source_uri, reason FROM rejects").fetchall())  # fmt: skip
        rows = con.sql("SELECT source_uri, encoding, body, warnings FROM articles").fetchall()
        given = con.sql("SELECT source_uri, author, input_id FROM articles WHERE input_id "
                        "IS NOT NULL OR source_uri LIKE 'news-please%'").fetchall()  # fmt: skip
        orphaned = (
            "SELECT count(*) FROM {} WHERE article_id NOT IN (SELECT article_id FROM articles)"
        )
        orphans = {t: con.sql(orphaned.format(t)).fetchall() for t in ("entity_mentions", "quotes")}
    assert {u: (o, got.get(u)) for u, o in expected.items() if got.get(u) != o} == {}
    assert got.keys() == expected.keys()
    assert summary.inputs == len(expected) == summary.articles + summary.rejects
    assert summary.status == "succeeded" and not summary.warnings
    assert all("\x00" not in body for _, _, body, _ in rows)
    warned = {uri: warnings for uri, _, _, warnings in rows}
    for uri, reason in {**FLOW_WARNINGS, **{u: c.warning for u, c in ARTICLE_CHECKS.items()
                                           if c.warning}}.items():  # fmt: skip
        assert any(w.startswith(f"{reason}: ") for w in warned[uri]), (uri, warned[uri])
    encodings = {uri: enc for uri, enc, _, _ in rows}
    assert encodings["utf-16.txt"] == "utf-16" and encodings["utf-16-no-bom.txt"] == "utf-16-le"
    assert encodings["invalid-utf8.txt"] == "utf-8" and encodings["latin-1.txt"] != "utf-8"
    # What a record gave (its author, its own id) is what the warehouse holds.
    assert sorted(given) == [
        ("news-please.json", "Ann Lee, Bo Cruz", None),
        ("table.csv#R1", "Di Eze", "4711"),
    ]
    # Nothing of the rejected inputs reached the analysis tables.
    for table in ("entity_mentions", "quotes"):
        assert orphans[table] == [(0,)], table


def test_local_dask_cluster_gives_the_single_process_rows(tmp_path: Path) -> None:
    from flows.engine import engine

    inputs = _copy_seeds(tmp_path / "in")
    (inputs / "flood.txt").write_text(GOOD, encoding="utf-8")
    single, parallel = tmp_path / "single", tmp_path / "dask"
    for wh in (single, parallel):
        wh.mkdir()
        shutil.copy(Path(__file__).parents[1] / "warehouse" / "aliases.csv", wh)
    small = replace(Settings(), batch_size=2)  # three batches, spread over both workers
    news_etl(input_dir=inputs, warehouse=single, run_date=DAY, settings=small)
    run = engine(workers=2, settings=small)
    first = run(inputs, parallel, DAY)
    names = [name for name in schemas.TABLES if name != "runs"]
    distributed, one_process = _stables(parallel, names), _stables(single, names)
    for name in names:
        assert distributed[name] == one_process[name], name
    again = run(inputs, parallel, DAY)
    assert again.reused_articles == again.articles == first.articles
    # Up to date: the inputs are read in the flow process and nothing goes to the workers.
    assert set(_task_runs(again.flow_run_id, until="ingest_batch")) == {"ingest_batch"}


def _task_runs(flow_run_id: str | None, until: str, timeout: float = 20.0) -> list[str]:
    """Names of a flow run's task runs in the API, once one named `until` is recorded."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    assert flow_run_id is not None
    wanted = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:  # the server records task runs from their events, a moment later
            names = [
                r.name.rsplit("-", 1)[0]
                for r in client.read_task_runs(
                    flow_run_filter=wanted, sort=TaskRunSort.NAME_ASC, limit=200
                )
            ]
            if until in names or time.monotonic() > deadline:
                return names
            time.sleep(0.5)


def test_local_workers_report_to_the_flows_api_with_glibcs_own_memory_trimming() -> None:
    from dask import config as dask_config
    from distributed import Client, LocalCluster

    from flows.engine import LOCAL_WORKER_CONFIG, local_cluster

    kwargs = local_cluster(1)
    assert local_cluster(1)["env"] == kwargs["env"]  # one temporary server, started once
    with (
        dask_config.set(LOCAL_WORKER_CONFIG),
        LocalCluster(**kwargs) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        listening = _listening(os.getpid())
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert "127.0.0.1" in cluster.dashboard_link
        names = ("PREFECT_API_URL", "MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")
        env = {n: next(iter(client.run(os.getenv, n).values())) for n in names}  # type: ignore[no-untyped-call]
        [profiling] = client.run(dask_config.get, "distributed.worker.profile.enabled").values()  # type: ignore[no-untyped-call]
        [monitor] = client.run(
            dask_config.get, "distributed.admin.system-monitor.interval"
        ).values()  # type: ignore[no-untyped-call]
        [thresholds] = client.run(_gc_thresholds).values()  # type: ignore[no-untyped-call]
    # The scheduler and the dashboard run code on request: never on other hosts' reach.
    assert listening and listening <= {"127.0.0.1"}, listening
    # Else each worker starts a Prefect server of its own, taking CPU from the batches.
    assert env["PREFECT_API_URL"] == kwargs["env"]["PREFECT_API_URL"]
    # Dask's default of 65536 costs spaCy a fifth of its time in page faults.
    assert env["MALLOC_TRIM_THRESHOLD_"] is None
    assert env["OMP_NUM_THREADS"] == "1" and profiling is False
    assert monitor == LOCAL_WORKER_CONFIG["distributed.admin.system-monitor.interval"] == "2s"
    # A worker unpickles its first task from the flows package, which sets them.
    assert tuple(thresholds) == GC_THRESHOLDS == gc.get_threshold()


# Three 8 MB arrays made and freed ten times, as a parse makes and frees a batch's layer
# outputs; the page faults of the second round, in a process of its own.
_FAULTS = """
import resource, sys
if sys.argv[1] == "flows":
    import flows
import numpy as np
def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        arrays = [np.ones(1 << 20) for _ in range(3)]
        del arrays
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
faults()
print(faults())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's malloc")
def test_the_flows_package_keeps_freed_arrays_for_reuse_unless_the_user_tunes_malloc() -> None:
    def faults(imported: str, **env: str) -> int:
        done = subprocess.run([sys.executable, "-c", _FAULTS, imported], check=True,
                              capture_output=True, text=True, env={**os.environ, **env})  # fmt: skip
        return int(done.stdout)

    # glibc's own thresholds give the freed arrays back and fault them in again each round.
    assert faults("numpy only") > 3000
    assert faults("flows") < 100
    # A user's own glibc setting stays in charge.
    assert faults("flows", MALLOC_TRIM_THRESHOLD_="131072") > 3000


def _listening(pid: int) -> set[str]:
    """The addresses a process listens on."""
    import psutil

    return {
        c.laddr.ip
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }


def _gc_thresholds() -> tuple[int, int, int]:
    """The cycle collector's thresholds in this process, once the flows package is imported."""
    import flows  # noqa: F401  # what a worker's first task imports

    return gc.get_threshold()


class _Counted:
    """A record that counts how often it is pickled."""

    pickled = 0

    def __reduce__(self) -> tuple[type[_Counted], tuple[()]]:
        _Counted.pickled += 1
        return (_Counted, ())


def test_dask_names_a_batch_by_identity_without_pickling_it() -> None:
    from dask.tokenize import tokenize

    from flows.runtime import Sealed, register_dask_tokens

    register_dask_tokens()
    batch, same = Sealed([_Counted()] * 1000), Sealed([_Counted()] * 1000)
    parsed = ParsedBatch(("a",), b"\x00" * 1_000_000)
    assert tokenize(batch) == tokenize(batch) != tokenize(same)
    assert tokenize(parsed) == tokenize(parsed) != tokenize(ParsedBatch(("a",), parsed.docbin))
    # Dask's own token pickles and unpickles an argument twice, on every submit.
    assert _Counted.pickled == 0


def test_settings_fingerprints_are_the_same_in_every_process() -> None:
    # String hashing is seeded afresh per process: a fingerprint that followed it would make
    # every scheduled run (a new process) find none of its inputs already stored.
    code = (
        "from tasks.settings import Settings, extraction_fingerprint, run_fingerprint; "
        "print(extraction_fingerprint(Settings(), 'html'), run_fingerprint(Settings()))"
    )
    printed = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(printed) == 1 and len(printed.pop().split()) == 2


def test_streamed_batches_come_back_in_order_with_two_per_worker_in_flight() -> None:
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.batches import stream
    from flows.context import Context

    @task
    def slow(i: int) -> int:
        time.sleep(0.3 if i % 3 == 0 else 0.01)  # every third batch is slow
        return i

    pulled: list[int] = []

    def calls() -> Iterator[tuple[int, tuple[int]]]:
        for i in range(10):
            pulled.append(i)
            yield i, (i,)

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def fan_out() -> tuple[list[int], int]:
        ctx = Context(Path("."), Path("."), DAY, Settings(), datetime.now(UTC), concurrency=2)
        results, ahead = [], 0
        for batch, result in stream(slow, calls(), ctx):
            assert batch == result  # each batch comes back with its own result
            ahead = max(ahead, len(pulled) - len(results))
            results.append(result)
        return results, ahead

    results, ahead = fan_out()
    assert results == list(range(10))
    # Two batches per worker submitted and the next call read, never the whole run.
    assert ahead == 2 * 2 + 1


def test_the_flows_package_sets_arrow_to_an_allocator_that_returns_memory() -> None:
    code = "import flows, pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    ours = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert ours.stdout.strip() == "jemalloc"
    # A user's own choice stays in charge.
    env["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    theirs = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert theirs.stdout.strip() == "system"


def test_version_answers_without_starting_prefect() -> None:
    from importlib import metadata

    code = (
        "import sys; from typer.testing import CliRunner; from flows.cli import app; "
        "r = CliRunner().invoke(app, ['--version']); "
        "print(r.exit_code, r.output.strip(), 'prefect' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == f"0 newsetl {metadata.version('newsetl')} False", done.stderr


def test_run_json_prints_the_committed_summary_as_one_object(tmp_path: Path) -> None:
    import json

    wh = tmp_path / "wh"
    command = [str(Path(sys.executable).parent / "newsetl"), "run", "--json", "--input",
               str(SEEDS[0].parent), "--warehouse", str(wh), "--date", "2024-05-01"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)  # stdout holds the object and nothing else
    committed = write.committed_run(wh, date(2024, 5, 1))
    assert committed is not None
    row = committed[1]
    assert (summary["run_id"], summary["articles"], summary["status"]) == (
        row.run_id,
        row.articles,
        "succeeded",
    )
    assert summary["articles"] == len(SEEDS) and summary["warehouse"] == str(wh)
    assert datetime.fromisoformat(summary["finished_at"]) >= datetime.fromisoformat(
        summary["started_at"]
    )


def test_a_test_session_leaves_no_process_behind(tmp_path: Path) -> None:
    import uuid

    import psutil

    # A session of its own (its Prefect server starts and stops with it), marked in the
    # environment every process it starts inherits.
    probe = f"newsetl-probe-{uuid.uuid4().hex}"
    node = "tests/test_faults.py::test_backfill_refuses_dates_out_of_range"
    env = {**os.environ, "NEWSETL_TEST_PROBE": probe}
    env.pop("PREFECT_API_URL", None)  # else it would use this session's server
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
                          cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]

    def left() -> list[str]:
        found = []
        for proc in psutil.process_iter(["pid", "cmdline"]):
            try:
                if proc.environ().get("NEWSETL_TEST_PROBE") == probe:
                    found.append(f"{proc.pid}: {' '.join(proc.info['cmdline'] or [])}")
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    deadline = time.monotonic() + 15  # a child told to stop may take a moment to exit
    while left() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left()


def test_a_failed_run_is_one_line_and_exit_1_and_a_traceback_with_v(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.engine

    def failing(*args: object) -> None:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(flows.engine, "engine", lambda dask, workers: failing)
    args = ["run", "--input", str(SEEDS[0].parent), "--warehouse", str(tmp_path / "wh")]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 1 and out.stdout == ""
    (line,) = out.stderr.strip().splitlines()
    logs = sorted((tmp_path / "wh" / "logs").glob("run-*.log"))
    assert len(logs) == 1
    assert (
        line == f"error: RuntimeError: the disk went away (log: {logs[0]}; -v shows the traceback)"
    )
    # The log holds what the line leaves out: the traceback.
    logged = logs[0].read_text(encoding="utf-8")
    assert "Traceback" in logged and "RuntimeError: the disk went away" in logged
    verbose = CliRunner().invoke(app, ["-v", *args])
    assert isinstance(verbose.exception, RuntimeError) and verbose.exit_code == 1
    both = CliRunner().invoke(app, ["-v", "-q", *args])
    assert both.exit_code == 2 and "exclude each other" in both.output


def test_quiet_run_says_nothing_when_all_is_well(tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    command = [str(Path(sys.executable).parent / "newsetl"), "-q", "run", "--input",
               str(SEEDS[0].parent), "--warehouse", str(wh), "--date", "2024-05-02"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_LEVEL"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "" and "| INFO" not in done.stderr, done.stderr[-2000:]
    assert write.committed_run(wh, date(2024, 5, 2)) is not None


def test_a_configured_prefect_api_that_does_not_answer_is_one_line_and_exit_2(
    tmp_path: Path,
) -> None:
    from flows import api

    port = api.free_port()  # nothing listens on it
    env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    command = [str(Path(sys.executable).parent / "newsetl"), "run", "--input",
               str(SEEDS[0].parent), "--warehouse", str(tmp_path / "wh")]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert f"PREFECT_API_URL http://127.0.0.1:{port}/api: no answer" in line
    assert time.monotonic() - started < 10
    assert not list((tmp_path / "wh").glob("runs/*/*.parquet"))
