"""Faults: a failure at any step leaves the committed state visible; bad surfaces are refused."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pytest
from badcorpus import GOOD
from typer.testing import CliRunner

import tasks
from flows.cli import app
from flows.context import EmptyInputError
from flows.pipeline import news_etl
from tasks.entities import mentions as entities
from tasks.quotes import attribution as quotes
from tasks.settings import Settings
from tasks.store import schemas, write
from tasks.warehouse import query

DAY = date(2025, 1, 15)
SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))
NEWSETL = str(Path(sys.executable).parent / "newsetl")


class Injected(RuntimeError):
    """The failure a test injects."""


def _copy_seeds(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in SEEDS[:count]:
        shutil.copy(path, folder / path.name)
    return folder


def _sql(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    with query.connect(warehouse) as con:
        return _on(con, sql)


def _on(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.sql(sql).fetchall()


def _visible(warehouse: Path, *sql: str) -> dict[str, list[tuple[Any, ...]]]:
    """What readers see through the views, without wall-clock columns.

    Every table is read in one session (opening one registers all the views, which costs
    more than the reads); the rows of any further `sql` come back under their own text.
    """
    out = {}
    with query.connect(warehouse) as con:
        for name, schema in schemas.TABLES.items():
            if name == "runs":
                continue
            keep = [f.name for f in schema if not schemas.is_flag(f, schemas.VOLATILE)]
            out[name] = sorted(con.sql(f"SELECT {', '.join(keep)} FROM {name}").fetchall(),
                               key=repr)  # fmt: skip
        for text in sql:
            out[text] = con.sql(text).fetchall()
    return out


def _failing(name: str) -> Callable[..., Any]:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise Injected(f"injected failure in {name}")

    return boom


# Each step of a run before its commit, as the function the flow calls for it.
BEFORE_COMMIT: dict[str, tuple[Any, str]] = {
    "ingest": (tasks.ingest, "read_inputs"),
    "clean": (tasks.clean, "clean_documents"),
    "normalize": (tasks.normalize, "normalize_documents"),
    "entities": (tasks.entities, "extract_mentions"),
    "merge": (tasks.entities, "canonicalize"),
    "quotes": (tasks.quotes, "extract_quotes"),
    "clusters": (tasks.quotes, "cluster_quotes"),
    "links": (tasks.link, "link_articles"),
    "checks": (tasks.warehouse, "run_checks"),
}


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A warehouse with two seeds committed for DAY, and an input folder now holding three."""
    base = tmp_path_factory.mktemp("faults")
    inputs, wh = _copy_seeds(base / "in", 2), base / "wh"
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    _copy_seeds(inputs, 3)
    yield inputs, wh


@pytest.fixture(scope="module")
def committed_rows(committed: tuple[Path, Path]) -> dict[str, list[tuple[Any, ...]]]:
    """What readers see of `committed`: each test's copy of it holds the same files."""
    return _visible(committed[1])


def _fresh(committed: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    inputs, wh = committed
    copy = tmp_path / "wh"
    shutil.copytree(wh, copy)
    return inputs, copy


@pytest.mark.parametrize("step", [*BEFORE_COMMIT, "write", "commit"])
def test_a_failure_before_the_commit_leaves_the_committed_rows(
    step: str,
    committed: tuple[Path, Path],
    committed_rows: dict[str, list[tuple[Any, ...]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inputs, wh = _fresh(committed, tmp_path)
    if step in BEFORE_COMMIT:
        module, name = BEFORE_COMMIT[step]
        monkeypatch.setattr(module, name, _failing(step))
    else:
        real = write.write_partition

        def partial_write(folder: Path, name: str, table: Any, *args: Any) -> Path:
            # "write": the first table file of the attempt; "commit": its succeeded runs row.
            succeeded = name == "runs" and table.column("status")[0].as_py() == "succeeded"
            if (step == "write" and name != "runs") or (step == "commit" and succeeded):
                raise Injected(f"injected failure writing {name}")
            return real(folder, name, table, *args)

        monkeypatch.setattr(write, "write_partition", partial_write)
    with pytest.raises(Injected):
        news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    monkeypatch.undo()
    runs = "SELECT status, error FROM runs ORDER BY started_at"
    after = _visible(wh, runs)
    statuses = after.pop(runs)
    assert after == committed_rows
    assert [s for s, _ in statuses] == ["succeeded", "failed"]
    assert "Injected: injected failure" in statuses[-1][1]
    # The next run commits the three articles once.
    assert news_etl(input_dir=inputs, warehouse=wh, run_date=DAY).articles == 3
    assert _sql(wh, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(3, 3)]


@pytest.mark.parametrize("step", ["prune", "database"])
def test_a_failure_after_the_commit_keeps_the_commit(
    step: str,
    committed: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inputs, wh = _fresh(committed, tmp_path)
    initial = write.committed_attempts(wh)
    if step == "prune":
        real_prune = write.prune

        def prune_after_commit(*args: Any, **kwargs: Any) -> list[Path]:
            if write.committed_attempts(wh) != initial:  # the run has committed
                raise Injected("injected failure in prune")
            return real_prune(*args, **kwargs)

        monkeypatch.setattr(write, "prune", prune_after_commit)
    else:
        monkeypatch.setattr(tasks.warehouse, "write_database", _failing(step))
    summary = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    monkeypatch.undo()
    assert summary.status == "succeeded" and summary.articles == 3
    assert any(w.startswith(f"after_commit_{step}: Injected") for w in summary.warnings)
    # The failure row must not override the commit: the date shows its new rows.
    assert _sql(wh, "SELECT count(*) FROM articles") == [(3,)]
    assert [s for (s,) in _sql(wh, "SELECT status FROM runs")] == ["succeeded", "succeeded"]
    # The next run is up to date and redoes what failed.
    again = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    assert again.reused_articles == 3 and not again.warnings
    with duckdb.connect(str(wh / query.DATABASE_FILE), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone() == (3,)


def test_a_failed_commit_step_in_a_warehouse_path_with_brackets_keeps_the_date(
    tmp_path: Path,
) -> None:
    inputs = _copy_seeds(tmp_path / "in", 2)
    wh = tmp_path / "ware[house]"
    first = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    _copy_seeds(inputs, 3)
    second = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    assert (first.articles, second.articles, second.warnings) == (2, 3, ())
    assert _sql(wh, "SELECT count(*) FROM articles") == [(3,)]


def test_a_date_is_not_emptied_by_a_stray_dated_folder(tmp_path: Path) -> None:
    inputs, wh = _copy_seeds(tmp_path / "in", 2), tmp_path / "wh"
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    # Not a date: an ordinary folder, whose files are inputs of the undated layout.
    _copy_seeds(inputs / "9999-99-99", 1)
    assert news_etl(input_dir=inputs, warehouse=wh, run_date=DAY).articles == 3
    # A real date folder turns the layout dated, and DAY has no folder in it.
    _copy_seeds(inputs / "2025-01-01", 1)
    with pytest.raises(EmptyInputError, match=r"has 3 committed articles.*--allow-empty"):
        news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    assert _sql(wh, "SELECT count(*) FROM articles") == [(3,)]
    out = CliRunner().invoke(app, ["run", "--input", str(inputs), "--warehouse", str(wh),
                                   "--date", DAY.isoformat()])  # fmt: skip
    assert out.exit_code == 2 and "--allow-empty" in out.output
    assert len(out.output.strip().splitlines()) == 1
    emptied = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY, allow_empty=True)
    assert (emptied.status, emptied.articles) == ("succeeded", 0)
    assert _sql(wh, "SELECT count(*) FROM articles") == [(0,)]


def test_an_emptied_day_folder_needs_allow_empty(tmp_path: Path) -> None:
    inputs, wh = tmp_path / "in", tmp_path / "wh"
    day = _copy_seeds(inputs / DAY.isoformat(), 1)
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    for path in day.iterdir():
        path.unlink()
    with pytest.raises(EmptyInputError, match="is empty"):
        news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    # A date with nothing committed yet may well have no input: an empty, successful run.
    assert news_etl(input_dir=inputs, warehouse=wh, run_date=date(2025, 1, 16)).inputs == 0


def test_an_article_the_quote_stage_fails_on_becomes_a_reject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, wh = _copy_seeds(tmp_path / "in", 3), tmp_path / "wh"
    victim = SEEDS[2].name
    real = quotes.article_quotes

    def fails_on_one(article: Any, *args: Any) -> Any:
        if article.source_uri == victim:
            raise Injected("one article's quotes fail")
        return real(article, *args)

    monkeypatch.setattr(quotes, "article_quotes", fails_on_one)
    summary = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    assert (summary.inputs, summary.articles, summary.rejects) == (3, 2, 1)
    with query.connect(wh) as con:  # one session for every read: opening one is the cost
        [(uri, reason, stage)] = _on(con, "SELECT source_uri, reason, stage FROM rejects")
        assert (uri, reason, stage) == (victim, "extraction_error", "quotes")
        assert _on(con, "SELECT count(*) FROM articles WHERE source_uri = ?".replace("?", f"'{victim}'")) == [(0,)]  # fmt: skip
        # Its mentions left with it, and the entities were merged again without them.
        orphans = _on(con, "SELECT count(*) FROM entity_mentions WHERE article_id NOT IN "
                           "(SELECT article_id FROM articles)")  # fmt: skip
        assert orphans == [(0,)]
        counted = _on(con, "SELECT sum(mention_count) FROM entities")
        assert counted == _on(con, "SELECT count(*) FROM entity_mentions")
        speakers = _on(con, "SELECT count(*) FROM quotes WHERE speaker_entity_id IS NOT NULL "
                            "AND speaker_entity_id NOT IN (SELECT entity_id FROM entities)")  # fmt: skip
        assert speakers == [(0,)]


def test_an_article_the_entity_stage_fails_on_becomes_a_reject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, wh = _copy_seeds(tmp_path / "in", 2), tmp_path / "wh"
    (inputs / "flood.txt").write_text(GOOD, encoding="utf-8")
    real = entities.doc_mentions

    def fails_on_floods(article_id: str, doc: Any, settings: Any) -> Any:
        if "flood" in doc.text:
            raise Injected("one article's mentions fail")
        return real(article_id, doc, settings)

    monkeypatch.setattr(entities, "doc_mentions", fails_on_floods)
    summary = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    assert (summary.inputs, summary.articles, summary.rejects) == (3, 2, 1)
    assert _sql(wh, "SELECT source_uri, reason, stage FROM rejects") == [
        ("flood.txt", "extraction_error", "entities")
    ]


def test_a_long_body_is_analysed_in_part_with_a_warning(tmp_path: Path) -> None:
    inputs, wh = tmp_path / "in", tmp_path / "wh"
    inputs.mkdir()
    paragraphs = "\n\n".join(GOOD.replace("Jane Porter", f"Jane Porter{i}") for i in range(40))
    (inputs / "long.txt").write_text(paragraphs, encoding="utf-8")
    small = replace(Settings(), entities=replace(Settings().entities, max_nlp_chars=3_000))
    summary = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY, settings=small)
    assert summary.articles == 1
    with query.connect(wh) as con:  # one session for every read: opening one is the cost
        [(warnings, length)] = _on(con, "SELECT warnings, length(body) FROM articles")
        assert len(warnings) == 1 and warnings[0].startswith("text_too_long: entities and quotes")
        assert length > 3_000
        [(last,)] = _on(con, "SELECT max(end_char) FROM entity_mentions")
        assert last <= 3_000
        [(quoted,)] = _on(con, "SELECT max(end_char) FROM quotes")
        assert quoted <= 3_000


def test_aliases_in_latin_1_are_read(tmp_path: Path) -> None:
    inputs, wh = _copy_seeds(tmp_path / "in", 1), tmp_path / "wh"
    wh.mkdir()
    (wh / "aliases.csv").write_bytes(
        "name,canonical,label\nAntony J. Blinken,Antony Blinkén,PERSON\n".encode("latin-1")
    )
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    names = {n for (n,) in _sql(wh, "SELECT canonical_name FROM entities")}
    assert "Antony Blinkén" in names


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--date", "9999-12-31"], "outside 1900-01-01 .. 2200-12-31"),
        (["--date", "1899-12-31"], "outside"),
        (["--date", "2025-13-01"], "is not a date"),
        (["--input", "/nonexistent/folder"], "is not a folder"),
        (["--input", "nosuchfs://bucket/in/"], "no filesystem for nosuchfs://"),
        (["--dask", "tcp://127.0.0.1:1", "--workers", "2"], "exclude each other"),
        (["--dask", "notanaddress"], "missing port number"),
        (["--dask", "tcp://127.0.0.1:1"], "no scheduler answers"),
        (["--workers", "0"], "at least 1"),
    ],
)
def test_command_line_mistakes_are_one_line_and_exit_2(
    args: list[str], says: str, tmp_path: Path
) -> None:
    wh = tmp_path / "wh"
    out = CliRunner().invoke(app, ["run", "--input", str(SEEDS[0].parent), "--warehouse",
                                   str(wh), *args])  # fmt: skip
    assert out.exit_code == 2
    assert len(out.output.strip().splitlines()) == 1 and says in out.output
    assert not wh.exists()  # refused before any work


def test_backfill_refuses_dates_out_of_range(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["backfill", "--start", "2025-01-01", "--end", "9999-12-31",
                                   "--warehouse", str(tmp_path / "wh")])  # fmt: skip
    assert out.exit_code == 2 and "--end 9999-12-31 is outside" in out.output


@pytest.fixture(scope="module")
def odd_titles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose titles look like markup."""
    base = tmp_path_factory.mktemp("markup")
    inputs, wh = base / "in", base / "wh"
    inputs.mkdir()
    lines = [json.dumps({"text": GOOD, "title": title, "source": "[red]Outlet[/red]"})
             for title in ("[/]", "[bold]Loud[/bold] :smile:")]  # fmt: skip
    (inputs / "feed.jsonl").write_text("\n".join(lines), encoding="utf-8")
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    return wh


def test_output_text_is_never_markup(odd_titles: Path) -> None:
    out = CliRunner().invoke(app, ["sql", "SELECT title, outlet FROM articles ORDER BY 1",
                                   "--warehouse", str(odd_titles)])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "[/]" in out.output and "[bold]Loud[/bold] :smile:" in out.output
    assert "[red]Outlet[/red]" in out.output
    report = CliRunner().invoke(app, ["report", "story_coverage", "--warehouse", str(odd_titles)])
    assert report.exit_code == 0, report.output


def test_reports_are_named_and_read_only(odd_titles: Path, tmp_path: Path) -> None:
    outside = tmp_path / "evil.sql"
    outside.write_text("SELECT 1 AS x")
    for name in (str(outside.with_suffix("")), "../../tmp/evil", "views"):
        out = CliRunner().invoke(app, ["report", name, "--warehouse", str(odd_titles)])
        assert out.exit_code == 2 and "unknown report" in out.output, name
    mine = odd_titles / "reports"
    mine.mkdir(exist_ok=True)
    (mine / "titles.sql").write_text("-- my report\nSELECT title FROM articles ORDER BY 1\n")
    target = tmp_path / "copied.csv"
    (mine / "leak.sql").write_text(f"COPY (SELECT body FROM articles) TO '{target}'")
    ok = CliRunner().invoke(app, ["report", "titles", "--warehouse", str(odd_titles)])
    assert ok.exit_code == 0 and "[/]" in ok.output
    refused = CliRunner().invoke(app, ["report", "leak", "--warehouse", str(odd_titles)])
    assert refused.exit_code == 2 and "one SELECT statement, not COPY" in refused.output
    assert not target.exists()


def test_the_temporary_prefect_server_dies_with_its_parent(tmp_path: Path) -> None:
    cmd = [NEWSETL, "run", "--input", str(SEEDS[0].parent), "--warehouse", str(tmp_path / "wh"),
           "--date", DAY.isoformat()]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server: psutil.Process | None = None
    try:
        deadline = time.monotonic() + 120
        while server is None and proc.poll() is None and time.monotonic() < deadline:
            children = psutil.Process(proc.pid).children(recursive=True)
            server = next((c for c in children if "uvicorn" in " ".join(c.cmdline())), None)
            time.sleep(0.05)
        assert server is not None, "the run started no temporary server"
        proc.send_signal(signal.SIGKILL)  # no exit handler runs
        proc.wait()
        gone, alive = psutil.wait_procs([server], timeout=20)
        assert gone and not alive, "the server outlived its parent"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if server is not None and server.is_running():
            server.kill()


def test_a_run_uses_the_prefect_server_running_on_this_machine(tmp_path: Path) -> None:
    from flows import api

    running = api.TemporaryServer()  # as `prefect server start` would serve, on loopback
    try:
        url = running.wait(120)
        env = {**os.environ, "PREFECT_SERVER_API_PORT": str(running.port)}
        env.pop("PREFECT_API_URL", None)
        cmd = [NEWSETL, "run", "--input", str(SEEDS[0].parent), "--warehouse",
               str(tmp_path / "wh"), "--date", DAY.isoformat(), "--json"]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)  # fmt: skip
        servers = 0
        while proc.poll() is None:
            children = psutil.Process(proc.pid).children(recursive=True)
            servers += any("uvicorn" in " ".join(c.cmdline()) for c in children)
            time.sleep(0.05)
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        assert servers == 0, "the run started a server of its own"
        summary = json.loads(out)
        assert summary["articles"] == len(SEEDS)
        # The running server holds the run, as its UI shows it.
        with urllib.request.urlopen(f"{url}/flow_runs/{summary['flow_run_id']}") as reply:
            assert json.loads(reply.read())["state"]["type"] == "COMPLETED"
    finally:
        running.stop()


@pytest.mark.parametrize(("version", "used"), [("3.0.0", True), ("2.20.4", False)])
def test_a_running_server_is_used_only_of_the_same_major_version(version: str, used: bool) -> None:
    from flows import api

    class Prefectish(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            body = {"/api/health": "true", "/api/admin/version": json.dumps(version)}
            self.send_response(200 if self.path in body else 404)
            self.end_headers()
            self.wfile.write(body.get(self.path, "").encode())

        def log_message(self, *args: Any) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Prefectish) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/api"
            assert (api.running_server(url) == url) is used
        finally:
            server.shutdown()
            thread.join()
    # Nothing listening is an answer at once, not a wait.
    closed = f"http://127.0.0.1:{os.environ['PREFECT_SERVER_API_PORT']}/api"  # conftest's
    started = time.perf_counter()
    assert api.running_server(closed) is None
    assert time.perf_counter() - started < 0.5


READER = """
import sys, time
from pathlib import Path
from tasks.warehouse import query
warehouse, stop = Path(sys.argv[1]), Path(sys.argv[2])
ok = failed = 0
while not stop.exists():
    try:
        with query.connect(warehouse) as con:
            con.sql("SELECT count(*), sum(length(body)) FROM articles").fetchall()
            con.sql("SELECT count(*) FROM entity_mentions").fetchall()
        ok += 1
    except Exception as err:
        failed += 1
        print(type(err).__name__, err, file=sys.stderr)
print(ok, failed)
"""


def test_readers_keep_working_while_runs_commit(tmp_path: Path) -> None:
    inputs, wh = _copy_seeds(tmp_path / "in", 2), tmp_path / "wh"
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(wh), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        # Each run changes the date's input, so each commit supersedes the files read so far.
        for count in (3, 4, 5, 2, 3):
            for path in inputs.iterdir():
                path.unlink()
            _copy_seeds(inputs, count)
            assert news_etl(input_dir=inputs, warehouse=wh, run_date=DAY).articles == count
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    ok, failed = map(int, out.split())
    assert ok > 0 and failed == 0, err
