"""End to end: the real Prefect flow on the seeds, checked through DuckDB over the Parquet."""

from __future__ import annotations

import csv as csv_module
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from pyarrow import csv
from typer.testing import CliRunner

from flows.cli import app
from flows.pipeline import deployment, news_etl
from tasks.core.records import RunSummary
from tasks.store import schemas, write
from tasks.warehouse import query

DAY = date(2025, 1, 15)
BOILERPLATE = [
    "19.8 C",
    "Port Louis",
    "Friday, July 19, 2024",
    "Download The App:",
    "Read in French",
    "Must Read",
    "- Advertisement -spot_img",
    "More Articles",
    "Please enter your comment!",
    "Please enter your name here",
    "Latest Articles",
    "3 MIN READ",
    "A",
    "A+",
    "A-",
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Path:
    """A warehouse written by one real run over the seeds."""
    target = tmp_path_factory.mktemp("warehouse")
    # The repository's alias file, as a user's warehouse has it.
    shutil.copy(Path(__file__).parents[1] / "warehouse" / "aliases.csv", target)
    news_etl(input_dir=seeds_dir, warehouse=target, run_date=DAY)
    return target


@pytest.fixture(scope="module")
def con(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB with the warehouse views."""
    with query.connect(warehouse) as connection:
        yield connection


def rows(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Fetch a query's rows."""
    return con.execute(sql, list(params)).fetchall()


def article_id(con: duckdb.DuckDBPyConnection, prefix: str) -> str:
    """The id of the seed article whose file name starts with a prefix."""
    [(found,)] = rows(con, "SELECT article_id FROM articles WHERE source_uri LIKE ?", f"{prefix}%")
    return str(found)


def test_five_articles_no_rejects(con: duckdb.DuckDBPyConnection) -> None:
    assert rows(con, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(5, 5)]
    assert rows(con, "SELECT count(*) FROM rejects") == [(0,)]
    assert rows(con, "SELECT inputs, articles, rejects, status FROM runs") == [
        (5, 5, 0, "succeeded")
    ]


def test_boilerplate_lines_gone_from_every_body(con: duckdb.DuckDBPyConnection) -> None:
    for source_uri, body in rows(con, "SELECT source_uri, body FROM articles"):
        lines = {line.strip() for line in str(body).splitlines()}
        assert not lines & set(BOILERPLATE), source_uri
    removed = {r[0] for r in rows(con, "SELECT text FROM removed_lines")}
    assert set(BOILERPLATE) <= {t.strip() for t in removed}


def test_every_body_paragraph_of_003_kept(con: duckdb.DuckDBPyConnection, seeds_dir: Path) -> None:
    source = (seeds_dir / "003_16aea1d5657ca7f1.txt").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in source.split("\n") if p.strip()][1:]  # all but the title line
    [(body,)] = rows(con, "SELECT body FROM articles WHERE source_uri LIKE '003_%'")
    for paragraph in paragraphs:
        assert paragraph in str(body)


def test_dates_titles_and_page_header_date(con: duckdb.DuckDBPyConnection) -> None:
    got = {
        str(uri)[:3]: (title, published.date() if published else None, source)
        for uri, title, published, source in rows(
            con, "SELECT source_uri, title, published_at, published_at_source FROM articles"
        )
    }
    assert got["001"] == (
        "Pashinyan, Blinken Discuss Azerbaijan’s Latest Attack on Artsakh",
        date(2023, 9, 19),
        "title_prefix",
    )
    assert (
        got["002"][0]
        == "US, France Call Up Leaders Of Azerbaijan & Armenia Over Offensive At Nagorno-Karabakh"
    )
    assert got["002"][1] != date(2024, 7, 19)
    assert (
        got["003"][0]
        == "United States, France race at UN to stop Azerbaijan offensive in Nagorno-Karabakh"
    )
    assert got["004"][:2] == (
        "France condemns operation in Nagorno-Karabakh, holds Azerbaijan",
        date(2023, 9, 20),
    )
    assert {row[0] for row in rows(con, "SELECT DISTINCT language FROM articles")} == {"en"}


@pytest.mark.parametrize(
    ("canonical", "surname"),
    [
        ("Catherine Colonna", "Colonna"),
        ("Antony J. Blinken", "Blinken"),
        ("Nikol Pashinyan", "Pashinyan"),
        ("Ilham Aliyev", "Aliyev"),
    ],
)
def test_people_merged_with_surname_mentions(
    con: duckdb.DuckDBPyConnection, canonical: str, surname: str
) -> None:
    [(entity_id, label, aliases)] = rows(
        con, "SELECT entity_id, label, aliases FROM entities WHERE canonical_name = ?", canonical
    )
    assert label == "PERSON"
    assert surname in aliases
    surname_mentions = rows(
        con,
        "SELECT DISTINCT entity_id FROM entity_mentions WHERE text = ? AND label = 'PERSON'",
        surname,
    )
    assert surname_mentions == [(entity_id,)]


def test_mention_and_quote_offsets_index_the_body(con: duckdb.DuckDBPyConnection) -> None:
    bad_mentions = rows(
        con,
        """SELECT m.text FROM entity_mentions m JOIN articles a USING (article_id, run_date)
           WHERE substring(a.body, m.start_char + 1, m.end_char - m.start_char) <> m.text""",
    )
    # A quote's text is its parts joined by a space; its offsets run from the first to the last.
    bad_quotes = rows(
        con,
        """SELECT q.text FROM quotes q JOIN articles a USING (article_id, run_date)
           WHERE array_to_string(list_transform(q.spans, lambda s: substring(
                     a.body, s.start_char + 1, s.end_char - s.start_char)), ' ') <> q.text
              OR q.spans[1].start_char <> q.start_char OR q.spans[-1].end_char <> q.end_char""",
    )
    assert bad_mentions == [] and bad_quotes == []


def test_colonna_quote_in_003(con: duckdb.DuckDBPyConnection) -> None:
    found = rows(
        con,
        """SELECT q.speaker, q.speaker_entity_id IS NOT NULL FROM quotes q
           JOIN articles a USING (article_id, run_date)
           WHERE a.source_uri LIKE '003_%' AND q.text LIKE '%illegal, unjustifiable and unacceptable%'""",
    )
    assert found == [("Catherine Colonna", True)]


def test_the_colonna_quote_is_one_cluster_reported_by_three_articles(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # 002 writes "illegal, unjustifiable, and unacceptable"; 003 and 004 drop the serial comma.
    columns, reach = query.fetch(con, query.report_sql("quote_reach"))
    [(speaker, articles)] = [
        (r[columns.index("speaker")], r[columns.index("articles")])
        for r in reach
        if str(r[columns.index("quote")]).startswith("illegal, unjustifiable")
    ]
    assert (speaker, articles) == ("Catherine Colonna", 3)


def test_001_is_an_excerpt_of_000(con: duckdb.DuckDBPyConnection) -> None:
    a000, a001 = article_id(con, "000_"), article_id(con, "001_")
    [(relation, score)] = rows(
        con,
        "SELECT relation, score FROM article_links WHERE article_id = ? AND other_article_id = ?",
        a001,
        a000,
    )
    assert relation == "excerpt" and float(score) >= 0.8  # type: ignore[arg-type]
    [(s0,), (s1,)] = rows(
        con, "SELECT story_id FROM articles WHERE article_id IN (?, ?)", a000, a001
    )
    assert s0 == s1


def test_002_is_a_rewrite_of_003(con: duckdb.DuckDBPyConnection) -> None:
    a002, a003 = article_id(con, "002_"), article_id(con, "003_")
    [(relation,)] = rows(
        con,
        "SELECT relation FROM article_links WHERE article_id IN (?, ?) AND other_article_id IN (?, ?)",
        a002,
        a003,
        a002,
        a003,
    )
    assert relation == "rewrite"


def test_the_five_seeds_are_one_story(con: duckdb.DuckDBPyConnection) -> None:
    [(stories, articles, first, last)] = rows(
        con,
        """SELECT count(DISTINCT a.story_id), any_value(s.article_count),
                  any_value(s.first_published_at)::DATE, any_value(s.last_published_at)::DATE
           FROM articles a JOIN stories s USING (story_id)""",
    )
    assert (stories, articles) == (1, 5)
    # Dated 2023-09-19 (001's title line) and 2023-09-20 (004's dateline).
    assert (str(first), str(last)) == ("2023-09-19", "2023-09-20")


def test_alias_file_and_roles_on_the_seeds(con: duckdb.DuckDBPyConnection) -> None:
    [(label, aliases)] = rows(
        con, "SELECT label, aliases FROM entities WHERE canonical_name = 'Nagorno-Karabakh'"
    )
    assert label == "GPE" and "Artsakh" in aliases  # type: ignore[operator]
    assert rows(con, "SELECT role FROM entities WHERE canonical_name = 'Antony J. Blinken'") == [
        ("Secretary of State",)
    ]
    [(top,)] = rows(con, "SELECT top_entities FROM stories")
    assert {"Nagorno-Karabakh", "Azerbaijan"} <= set(top)  # type: ignore[arg-type]


def test_reports_run(con: duckdb.DuckDBPyConnection) -> None:
    for name in query.report_names():
        columns, result = query.fetch(con, query.report_sql(name))
        assert columns, name
        assert result, name
    columns, result = query.fetch(con, query.report_sql("top_entities"))
    assert "Antony J. Blinken" in {row[columns.index("entity")] for row in result}
    # Colonna is "Catherine" and "she": a woman quoted; Blinken is "Antony" and "he".
    genders = dict(rows(con, "SELECT DISTINCT speaker, speaker_gender FROM quotes"))
    assert (genders["Catherine Colonna"], genders["Antony J. Blinken"]) == ("female", "male")
    assert genders["a senior US official"] == "unknown"
    columns, result = query.fetch(con, query.report_sql("gender_balance"))
    months = [(r[columns.index("women")], r[columns.index("men")]) for r in result]
    # Colonna in the month of one dated article and in that of the undated ones (their run
    # date); Blinken, Miller, Menendez and Mirzoyan in the latter.
    assert sorted(months) == [(1, 0), (1, 4)]


def test_flat_views_unnest_each_list_into_rows_of_scalars(con: duckdb.DuckDBPyConnection) -> None:
    def count(sql: str) -> int:
        [(n,)] = rows(con, sql)
        return int(n)

    # One row per element; a parent with no elements keeps one row.
    for flat, parent, column in [
        ("quote_spans", "quotes", "spans"),
        ("story_entities", "stories", "top_entities"),
        ("entity_aliases", "entity_summary", "aliases"),
        ("article_warnings", "articles", "warnings"),
        ("run_warnings", "runs", "warnings"),
    ]:
        each = f"SELECT sum(greatest(len({column}), 1)) FROM {parent}"
        assert count(f"SELECT count(*) FROM {flat}") == count(each) > 0, flat
    assert count("SELECT count(*) FROM story_articles") == count("SELECT count(*) FROM articles")
    # The elements are the lists' own, in their order: a quote in two spans is two rows.
    assert count("SELECT max(span_index) FROM quote_spans") == 2
    spans = rows(con, "SELECT quote_id, list({'start_char': span_start_char, 'end_char': "
                      "span_end_char} ORDER BY span_index) FROM quote_spans GROUP BY quote_id")  # fmt: skip
    assert dict(spans) == dict(rows(con, "SELECT quote_id, spans FROM quotes"))
    ranked = rows(con, "SELECT story_id, list(entity_name ORDER BY entity_rank) FROM story_entities "
                       "GROUP BY story_id")  # fmt: skip
    assert dict(ranked) == dict(rows(con, "SELECT story_id, top_entities FROM stories"))
    # A CSV writer, which refuses nested columns, takes every flat view.
    for name in schemas.FLAT_VIEWS:
        table = con.sql(f"SELECT * FROM {name}").to_arrow_table()
        assert not [f for f in table.schema if pa.types.is_nested(f.type)], name
        csv.write_csv(table, io.BytesIO())
    with pytest.raises(pa.ArrowException):
        csv.write_csv(con.sql("SELECT * FROM quotes").to_arrow_table(), io.BytesIO())


def test_every_list_column_is_flattened_by_a_view_of_scalar_columns() -> None:
    declared = {**schemas.TABLES, **schemas.VIEWS}
    for name, schema in declared.items():
        nested = [f.name for f in schema if pa.types.is_nested(f.type)]
        if name in schemas.FLAT_VIEWS:
            assert not nested, name
        elif nested and name not in schemas.INDEX_TABLES:
            assert set(schemas.FLATTENED_BY[name]) <= set(schemas.FLAT_VIEWS), name
    assert set(schemas.FLATTENED_BY) <= set(declared)


def test_cli_report_and_sql(warehouse: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(
        app, ["report", "most_quoted_speakers", "--warehouse", str(warehouse), "--format", "csv"]
    )
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0].startswith("speaker,")
    assert "Catherine Colonna" in out.output
    out = runner.invoke(
        app,
        [
            "sql",
            "SELECT count(*) AS n FROM articles",
            "--warehouse",
            str(warehouse),
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0 and out.output.strip() == '{"n": 5}'
    out = runner.invoke(app, ["report", "no_such_report", "--warehouse", str(warehouse)])
    assert out.exit_code == 2 and "unknown report" in out.output
    out = runner.invoke(app, ["sql", "SELECT nope FROM articles", "--warehouse", str(warehouse)])
    assert out.exit_code == 2 and "nope" in out.output


def test_csv_writes_lists_as_json_and_tables_fit_the_terminal(warehouse: Path) -> None:
    out = CliRunner().invoke(app, ["sql", "SELECT ['a', 'b\"c'] AS l, {'x': 1, 'd': DATE "
                                          "'2025-01-02'} AS s, 3 AS n", "--warehouse",
                                   str(warehouse), "--format", "csv"])  # fmt: skip
    assert out.exit_code == 0, out.output
    [header, row] = list(csv_module.reader(io.StringIO(out.stdout)))
    assert header == ["l", "s", "n"]
    assert [json.loads(row[0]), json.loads(row[1]), row[2]] == [
        ["a", 'b"c'], {"x": 1, "d": "2025-01-02"}, "3"
    ]  # fmt: skip
    # In an 80-column terminal each quote is one line, cut to the width, not wrapped.
    newsetl = Path(sys.executable).with_name("newsetl")
    shown = subprocess.run([newsetl, "report", "story_quotes", "--warehouse", str(warehouse)],
                           capture_output=True, text=True, check=True,
                           env={**os.environ, "COLUMNS": "80"}).stdout.splitlines()  # fmt: skip
    with query.connect(warehouse) as con:
        _, quotes = query.fetch(con, query.report_sql("story_quotes"), read_only=True)
    assert len(shown) == len(quotes) + 4  # the head's three lines and the bottom border
    assert max(map(len, shown)) <= 80 and "…" in "".join(shown)


def test_duckdb_file_opens_on_its_own(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse / query.DATABASE_FILE), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone() == (5,)


def _stable_rows(warehouse: Path, name: str) -> list[dict[str, object]]:
    """A view's rows without its volatile (wall-clock) columns, in a canonical order."""
    schema = schemas.TABLES[name]
    keep = [f.name for f in schemas.file_schema(schema) if not schemas.is_flag(f, schemas.VOLATILE)]
    with query.connect(warehouse) as con:
        rows = con.sql(f"SELECT {', '.join(keep)} FROM {name}").fetchall()
    return sorted((dict(zip(keep, r, strict=True)) for r in rows), key=repr)


def test_second_run_gives_identical_rows(warehouse: Path, seeds_dir: Path, tmp_path: Path) -> None:
    before = {name: _stable_rows(warehouse, name) for name in schemas.TABLES if name != "runs"}
    again = CliRunner().invoke(
        app,
        [
            "run",
            "--input",
            str(seeds_dir),
            "--warehouse",
            str(warehouse),
            "--date",
            DAY.isoformat(),
        ],
    )
    assert again.exit_code == 0, again.output
    assert "articles" in again.output
    after = {name: _stable_rows(warehouse, name) for name in schemas.TABLES if name != "runs"}
    assert after == before
    runs = [r for r in _stable_rows(warehouse, "runs") if r["status"] != "running"]
    first, second = sorted(runs, key=lambda r: r["reused_articles"])
    # The rerun found the date up to date: all five articles reused, nothing extracted.
    assert (first["reused_articles"], second["reused_articles"]) == (0, 5)
    assert {**first, "reused_articles": 5} == second


def test_bad_inputs_are_accounted_for(seeds_dir: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(seeds_dir / "003_16aea1d5657ca7f1.txt", inputs / "good.txt")
    (inputs / "empty.txt").write_bytes(b"")
    (inputs / "binary.txt").write_bytes(bytes(range(256)) * 16)
    latin = (seeds_dir / "004_83c3496164c9cac2.txt").read_text(encoding="utf-8")
    latin = (
        latin.replace("\u201c", '"')
        .replace("\u201d", '"')
        .replace("\u2019", "'")
        .replace("\u2014", "-")
    )
    (inputs / "latin1.txt").write_bytes(latin.replace("Nagorno", "Nagörno").encode("latin-1"))
    summary: RunSummary = news_etl(input_dir=inputs, warehouse=tmp_path / "wh", run_date=DAY)
    assert (summary.status, summary.inputs, summary.articles, summary.rejects) == (
        "succeeded",
        4,
        2,
        2,
    )
    with query.connect(tmp_path / "wh") as db:
        assert sorted(db.execute("SELECT source_uri, reason FROM rejects").fetchall()) == [
            ("binary.txt", "binary_content"),
            ("empty.txt", "empty_input"),
        ]
        [(body, encoding)] = db.execute(
            "SELECT body, encoding FROM articles WHERE source_uri = 'latin1.txt'"
        ).fetchall()
    assert "Nagörno" in body and encoding != "utf-8"


def test_serve_deployment_has_the_cron_schedule(tmp_path: Path) -> None:
    dep = deployment("0 6 * * *", tmp_path / "in", tmp_path / "wh")
    assert [s.schedule.cron for s in dep.schedules] == ["0 6 * * *"]  # type: ignore[union-attr]
    assert dep.parameters["input_dir"] == str((tmp_path / "in").resolve())


def test_failed_run_is_recorded_and_keeps_earlier_rows(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "wh"
    shutil.copytree(warehouse, copy)
    with pytest.raises(FileNotFoundError):
        news_etl(input_dir=tmp_path / "missing", warehouse=copy, run_date=DAY)
    with query.connect(copy) as db:
        statuses = sorted(r[0] for r in db.execute("SELECT status FROM runs").fetchall())
        articles = db.execute("SELECT count(*) FROM articles").fetchall()
        [(error,)] = db.execute("SELECT error FROM runs WHERE status = 'failed'").fetchall()
    assert statuses[-1] == "succeeded" and "failed" in statuses
    assert articles == [(5,)]
    assert "FileNotFoundError" in error


def test_a_run_reads_the_warehouse_commits_once_before_and_once_after_its_commit(
    tmp_path: Path, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in sorted(seeds_dir.glob("*.txt"))[:2]:
        shutil.copy(path, inputs / path.name)
    wh = tmp_path / "wh"
    news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    reads: list[str] = []
    real = write.committed

    def counted(warehouse: Path) -> write.Commits:
        reads.append(str(warehouse))
        return real(warehouse)

    monkeypatch.setattr(write, "committed", counted)
    shutil.copy(sorted(seeds_dir.glob("*.txt"))[2], inputs)  # a changed run: extract, commit
    summary = news_etl(input_dir=inputs, warehouse=wh, run_date=DAY)
    assert summary.status == "succeeded" and summary.reused_articles == 2
    # Pruning, the committed run, reuse and the history store share the first read; the
    # second is the prune after the commit, which must see the run's own commit.
    assert len(reads) == 2
    reads.clear()
    assert news_etl(input_dir=inputs, warehouse=wh, run_date=DAY).articles == 3  # unchanged
    assert len(reads) == 2
