"""Views: each date's ids mapped across dates, the views over all dates, and the reports.

The warehouses here are written by hand, file by file, as runs of several dates would leave
them: a later run writes the cross-date tables of an earlier date into that date's folder,
and an attempt that never committed leaves files that no view may read.
"""

from __future__ import annotations

import csv as csv_module
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.store import schemas, write
from tasks.warehouse import query

D1, D2, D3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)
A1 = write.attempt_name(datetime(2025, 3, 1, 6, tzinfo=UTC))  # the run of D1
A2 = write.attempt_name(datetime(2025, 3, 2, 6, tzinfo=UTC))  # the run of D2, also into D1
A3 = write.attempt_name(datetime(2025, 3, 3, 6, tzinfo=UTC))  # the run of D3: never commits


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _default(field: pa.Field) -> object:
    """A value for a column a test does not care about."""
    if field.nullable:
        return None
    kind = field.type
    if pa.types.is_list(kind):
        return []
    if pa.types.is_string(kind):
        return "-"
    if pa.types.is_boolean(kind):
        return False
    if pa.types.is_integer(kind):
        return 1
    if pa.types.is_floating(kind):
        return 0.0
    if pa.types.is_date(kind):
        return D1
    if pa.types.is_timestamp(kind):
        return at(D1, 0)
    raise AssertionError(f"no default for {field}")


def rows_table(schema: pa.Schema, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """A file's table of `schema` from the given values, the other columns defaulted."""
    for row in rows:
        unknown = set(row) - set(schema.names)
        assert not unknown, unknown
    columns = [pa.array([row.get(f.name, _default(f)) for row in rows], f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


@dataclass(frozen=True)
class Attempt:
    """One run attempt writing into one date folder (its own date's, or another's)."""

    warehouse: Path
    day: date
    name: str

    def put(self, table: str, *rows: Mapping[str, Any], schema: pa.Schema | None = None) -> None:
        """Write the attempt's file of a table in the folder, as the writer does."""
        schema = schema or schemas.file_schema(schemas.TABLES[table])
        run_id = f"{self.day.isoformat()}-{self.name[-8:]}"
        full = [{"run_id": run_id, **r} if "run_id" in schema.names else r for r in rows]
        table_rows = rows_table(schema, full)
        write.write_partition(self.warehouse, table, table_rows, self.day, self.name)

    def commit(self, status: str = "succeeded") -> None:
        """The attempt's `runs` row, written last: `succeeded` makes its files visible."""
        self.put("runs", {"status": status, "input_dir": "in"})


# `article_links` as the previous release wrote it: no `other_run_date`.
OLD_LINKS = pa.schema(
    [f for f in schemas.file_schema(schemas.ARTICLE_LINKS) if f.name != "other_run_date"]
)


def article(article_id: str, story_id: str, outlet: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "content_hash": f"h-{article_id}",
        "source_uri": f"{article_id}.txt",
        "outlet": outlet,
        "story_id": story_id,
        "body": f"Body of {article_id}.",
        "language": "en",
        **fields,
    }


def entity(
    entity_id: str,
    name: str,
    label: str,
    aliases: list[str],
    mentions: int,
    articles: int,
    role: str | None = None,
    seen: datetime | None = None,
) -> dict[str, Any]:
    return {
        "entity_id": entity_id,
        "canonical_name": name,
        "label": label,
        "aliases": aliases,
        "mention_count": mentions,
        "article_count": articles,
        "role": role,
        "first_seen_at": seen,
    }


def mention(
    article_id: str, entity_id: str, text: str, label: str, role: str | None = None
) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "entity_id": entity_id,
        "text": text,
        "label": label,
        "start_char": 0,
        "end_char": len(text),
        "ner_label": label,
        "role": role,
    }


def quote(
    quote_id: str,
    article_id: str,
    text: str,
    cluster: str,
    speaker: str | None,
    entity_id: str | None,
) -> dict[str, Any]:
    return {
        "quote_id": quote_id,
        "article_id": article_id,
        "text": text,
        "start_char": 0,
        "end_char": len(text),
        "spans": [{"start_char": 0, "end_char": len(text)}],
        "speaker": speaker,
        "speaker_mention": speaker,
        "speaker_entity_id": entity_id,
        "verb": "said",
        "speaker_type": "person" if entity_id else "anonymous",
        "quote_cluster_id": cluster,
    }


def link(article_id: str, other: str, relation: str, score: float, **more: Any) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "other_article_id": other,
        "relation": relation,
        "score": score,
        **more,
    }


def id_row(kind: str, local_id: str, global_id: str, name: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "local_id": local_id, "global_id": global_id, "name": name}


QUOTE = "We will rebuild the coast together"
OFFICIAL = "The storm damage is worse than the first reports said"
SOS = "Secretary of State"


def write_day1(warehouse: Path) -> None:
    """D1 as its own run wrote it: a storm story of two articles and a budget story."""
    d1 = Attempt(warehouse, D1, A1)
    d1.put(
        "articles",
        article("a1", "s1", "Herald", title="Storm hits coast", published_at=at(D1, 8)),
        article("a2", "s1", "Courier", title="Coast storm", published_at=at(D1, 9)),
        article("a3", "s1b", "Herald", title="Budget vote", published_at=None),
    )
    d1.put("removed_lines", {"article_id": "a1", "line_no": 3, "text": "Ad", "reason": "ads"})
    d1.put(
        "entities",
        entity("e1", "Antony J. Blinken", "PERSON", ["Antony J. Blinken", "Blinken"], 2, 2, SOS),
        entity("gP", "Paris", "GPE", ["Paris"], 2, 2),
        entity("o1", "Elysee Palace", "ORG", ["Elysee Palace"], 1, 1),
    )
    d1.put(
        "entity_mentions",
        mention("a1", "e1", "Antony J. Blinken", "PERSON", SOS),
        mention("a2", "e1", "Blinken", "PERSON", SOS),
        mention("a1", "gP", "Paris", "GPE"),
        mention("a2", "gP", "Paris", "GPE"),
        mention("a2", "o1", "Elysee Palace", "ORG"),
    )
    d1.put(
        "quotes",
        quote("q1", "a1", QUOTE, "c1", "Antony J. Blinken", "e1"),
        quote("q4", "a2", OFFICIAL, "c3", "a senior official", None),
    )
    d1.put("article_links", link("a2", "a1", "same_story", 0.4, run_id="r1"), schema=OLD_LINKS)
    d1.put("rejects", {"source_uri": "empty.txt", "reason": "empty_input"})
    # What D1's own run decided: the later run that rewrote D1's id map supersedes it.
    d1.put("id_map", id_row("story", "s1", "STALE"))
    d1.commit()


def write_day2(warehouse: Path) -> None:
    """D2's run: the storm story goes on; it rewrites D1's id map, and links to D1."""
    d2 = Attempt(warehouse, D2, A2)
    d2.put(
        "articles",
        article("b1", "s2", "Gazette", title="Storm aftermath", published_at=at(D2, 7)),
        # A copy of a1: its date alone saw no original. Undated, its title is not the story's.
        article("b2", "s2", "Herald", title="A storm: early copy", published_at=None),
    )
    d2.put(
        "entities",
        entity("e2b", "Blinken", "PERSON", ["Blinken"], 1, 1, seen=at(D2, 9)),
        entity("e2c", "Tony Blinken", "PERSON", ["Tony Blinken"], 1, 1, "Secretary", at(D2, 7)),
        entity("gP", "Paris", "ORG", ["Paris"], 1, 1),
        entity("o2", "Elysee", "ORG", ["Elysee"], 3, 1),
    )
    d2.put(
        "entity_mentions",
        mention("b1", "e2b", "Blinken", "PERSON"),
        mention("b1", "e2c", "Tony Blinken", "PERSON", "Secretary"),
        mention("b1", "gP", "Paris", "ORG"),
        *(mention("b1", "o2", "Elysee", "ORG") for _ in range(3)),
    )
    d2.put(
        "quotes",
        quote("q2", "b1", QUOTE, "c2", "Blinken", "e2b"),
        quote("q3", "b2", QUOTE, "c2", "Blinken", "e2b"),
    )
    d2.put("article_links", link("b2", "b1", "same_story", 0.5, other_run_date=D2))
    d2.put("rejects")
    d2.put(
        "history_links",
        link("b2", "a1", "exact_duplicate", 1.0, article_run_date=D2, other_run_date=D1),
        link("a2", "b1", "excerpt", 0.8, article_run_date=D1, other_run_date=D2),
    )
    d2.put(
        "quote_links",
        {
            "quote_cluster_id": "c2",
            "cluster_run_date": D2,
            "other_quote_cluster_id": "c1",
            "other_run_date": D1,
        },
    )
    d2.put(
        "id_map",
        id_row("story", "s2", "S"),
        id_row("duplicate_of", "b2", "a1"),
        id_row("entity", "e2b", "E1", "Antony Blinken"),
        id_row("entity", "e2c", "E1", "Antony Blinken"),
        id_row("entity", "o2", "o1"),
        id_row("quote_cluster", "c2", "c1"),
    )
    # The same run's decisions about D1, in D1's folder.
    Attempt(warehouse, D1, A2).put(
        "id_map", id_row("story", "s1", "S"), id_row("entity", "e1", "E1", "Antony Blinken")
    )
    d2.commit()


def write_day3_uncommitted(warehouse: Path) -> None:
    """D3's attempt wrote into every date, then failed: none of it may show."""
    d3 = Attempt(warehouse, D3, A3)
    d3.put("articles", article("x1", "sx", "Bogus", title="Never committed"))
    bogus = [
        id_row(kind, local, "BOGUS")
        for kind, local in [("story", "s1"), ("story", "s2"), ("entity", "e1"), ("entity", "gP")]
    ]
    for day in (D1, D2):
        Attempt(warehouse, day, A3).put("id_map", *bogus)
    Attempt(warehouse, D2, A3).put(
        "history_links",
        link("b1", "x1", "rewrite", 0.9, article_run_date=D2, other_run_date=D3),
    )
    d3.commit(status="failed")


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    write_day1(tmp_path)
    write_day2(tmp_path)
    write_day3_uncommitted(tmp_path)
    return tmp_path


@pytest.fixture
def con(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with query.connect(warehouse) as connection:
        yield connection


def records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    rel = con.sql(sql)
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def test_articles_take_story_and_earliest_copy_across_dates(
    con: duckdb.DuckDBPyConnection,
) -> None:
    got = con.sql(
        "SELECT article_id, story_id, duplicate_of, run_date FROM articles ORDER BY article_id"
    ).fetchall()
    assert got == [
        ("a1", "S", None, D1),  # D1's own map said STALE: the later run's file replaces it
        ("a2", "S", None, D1),
        ("a3", "s1b", None, D1),  # no id_map row: the id stands
        ("b1", "S", None, D2),
        ("b2", "S", "a1", D2),
    ]


def test_stories_merge_a_story_over_its_dates(con: duckdb.DuckDBPyConnection) -> None:
    stories = {r["story_id"]: r for r in records(con, "SELECT * FROM stories")}
    assert sorted(stories) == ["S", "s1b"]
    storm = stories["S"]
    assert storm["title"] == "Storm hits coast"  # earliest dated; the undated copy is not
    assert storm["article_count"] == 4
    assert storm["outlets"] == ["Courier", "Gazette", "Herald"]
    assert (storm["first_run_date"], storm["last_run_date"], storm["run_dates"]) == (D1, D2, 2)
    assert (storm["first_published_at"], storm["last_published_at"]) == (at(D1, 8), at(D2, 7))
    # Most articles first (E1 and Paris: 3), then mentions; o2 counts as o1 on D2.
    assert storm["top_entities"] == ["Antony Blinken", "Paris", "Elysee Palace"]
    budget = stories["s1b"]
    assert budget["title"] == "Budget vote"  # undated, but the only titled article
    assert (budget["article_count"], budget["run_dates"], budget["top_entities"]) == (1, 1, [])


def test_entity_summary_is_one_row_per_entity_over_dates(con: duckdb.DuckDBPyConnection) -> None:
    rows = {r["entity_id"]: r for r in records(con, "SELECT * FROM entity_summary")}
    assert sorted(rows) == ["E1", "gP", "o1"]
    blinken = rows["E1"]
    # The alias file's name wins over the fullest written one ("Antony J. Blinken").
    assert blinken["canonical_name"] == "Antony Blinken"
    assert blinken["aliases"] == ["Antony J. Blinken", "Blinken", "Tony Blinken"]
    assert (blinken["mention_count"], blinken["article_count"], blinken["outlet_count"]) == (
        4,
        3,
        3,
    )
    assert blinken["role"] == "Secretary of State"
    assert (blinken["first_seen_at"], blinken["last_seen_at"]) == (at(D1, 8), at(D2, 7))
    assert (blinken["first_run_date"], blinken["last_run_date"]) == (D1, D2)
    # No alias: the name with most words wins over the one with more mentions.
    assert rows["o1"]["canonical_name"] == "Elysee Palace"
    assert rows["o1"]["mention_count"] == 4
    # The label with most mentions over its dates (GPE: 2, ORG: 1).
    assert rows["gP"]["label"] == "GPE"
    assert (rows["gP"]["first_run_date"], rows["gP"]["last_run_date"]) == (D1, D2)


def test_entities_are_one_row_per_entity_and_date(con: duckdb.DuckDBPyConnection) -> None:
    rows = records(con, "SELECT * FROM entities ORDER BY entity_id, run_date")
    keys = [(r["entity_id"], r["run_date"]) for r in rows]
    assert keys == [("E1", D1), ("E1", D2), ("gP", D1), ("gP", D2), ("o1", D1), ("o1", D2)]
    day2 = rows[1]
    assert day2["canonical_name"] == "Antony Blinken"
    assert day2["aliases"] == ["Blinken", "Tony Blinken"]
    assert day2["mention_count"] == 2
    assert day2["article_count"] == 1  # both merged rows mention b1: counted once
    assert day2["role"] == "Secretary"
    assert day2["first_seen_at"] == at(D2, 7)
    assert day2["run_id"].startswith("2025-03-02-")
    assert rows[3]["label"] == "GPE"  # Paris on D2, written ORG: labelled as over all dates
    assert rows[5]["canonical_name"] == "Elysee Palace"


def test_quotes_take_cluster_and_speaker_across_dates(con: duckdb.DuckDBPyConnection) -> None:
    got = con.sql(
        "SELECT quote_id, quote_cluster_id, speaker, speaker_entity_id, speaker_mention"
        " FROM quotes ORDER BY quote_id"
    ).fetchall()
    assert got == [
        ("q1", "c1", "Antony Blinken", "E1", "Antony J. Blinken"),
        ("q2", "c1", "Antony Blinken", "E1", "Blinken"),
        ("q3", "c1", "Antony Blinken", "E1", "Blinken"),
        ("q4", "c3", "a senior official", None, "a senior official"),
    ]


def test_article_links_add_the_links_across_dates(con: duckdb.DuckDBPyConnection) -> None:
    got = con.sql(
        "SELECT article_id, other_article_id, relation, run_date, other_run_date"
        " FROM article_links ORDER BY run_date, article_id, relation"
    ).fetchall()
    assert got == [
        ("a2", "b1", "excerpt", D1, D2),  # stated for the earlier article, kept on its date
        ("a2", "a1", "same_story", D1, D1),  # an old file: the date's own link
        ("b2", "a1", "exact_duplicate", D2, D1),
        ("b2", "b1", "same_story", D2, D2),
    ]


def declared(name: str) -> list[tuple[str, str]]:
    schema = schemas.TABLES.get(name, schemas.VIEWS.get(name))
    assert schema is not None, name
    return [(f.name, schemas.sql_type(f.type)) for f in schema]


def shown(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[str, str]]:
    rel = con.sql(f"SELECT * FROM {name}")
    return [(c, str(t)) for c, t in zip(rel.columns, rel.types, strict=True)]


def assert_views_as_declared(con: duckdb.DuckDBPyConnection) -> None:
    for name in [*schemas.TABLES, *schemas.VIEWS]:
        assert shown(con, name) == declared(name), name


def run_reports(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for name in query.report_names():
        columns, rows = query.fetch(con, query.report_sql(name), read_only=True)
        out[name] = [dict(zip(columns, row, strict=True)) for row in rows]
    return out


def test_every_view_has_the_declared_columns_and_types(con: duckdb.DuckDBPyConnection) -> None:
    assert_views_as_declared(con)


def test_uncommitted_attempt_shows_nowhere(con: duckdb.DuckDBPyConnection) -> None:
    assert con.sql(
        "SELECT count(*) FROM articles WHERE run_date = DATE '2025-03-03'"
    ).fetchall() == [(0,)]
    assert con.sql("SELECT count(*) FROM id_map WHERE global_id = 'BOGUS'").fetchall() == [(0,)]
    assert con.sql("SELECT count(*) FROM history_links").fetchall() == [(2,)]
    assert con.sql("SELECT count(*) FROM quote_links").fetchall() == [(1,)]


def test_reports_run_and_quote_reach_names_later_outlets(con: duckdb.DuckDBPyConnection) -> None:
    reports = run_reports(con)
    assert {"story_coverage", "story_quotes", "quote_reach", "top_entities"} <= set(reports)
    reach = {r["quote"]: r for r in reports["quote_reach"]}
    spread = reach[QUOTE]
    assert spread["speaker"] == "Antony Blinken"
    assert (spread["articles"], spread["outlets"]) == (3, 2)
    assert spread["outlet_names"] == ["Gazette", "Herald"]
    assert (spread["first_run_date"], spread["first_outlet"]) == (D1, "Herald")
    assert spread["first_published_at"] == at(D1, 8)
    assert spread["later_outlets"] == ["Gazette"]  # Herald's first report was on D1
    assert reach[OFFICIAL]["later_outlets"] == []
    assert [r["quote"] for r in reports["quote_reach"]] == [QUOTE, OFFICIAL]

    coverage = [r for r in reports["story_coverage"] if r["story_id"] == "S"]
    assert [(r["outlet"], r["articles"], r["duplicates"]) for r in coverage] == [
        ("Herald", 2, 1),
        ("Courier", 1, 0),
        ("Gazette", 1, 0),
    ]
    assert {(r["story_articles"], r["first_run_date"], r["last_run_date"]) for r in coverage} == {
        (4, D1, D2)
    }
    assert len(reports["story_coverage"]) == 4  # one row per story and outlet

    story_quotes = reports["story_quotes"]
    assert {(r["story_id"], r["story_title"]) for r in story_quotes} == {("S", "Storm hits coast")}
    assert len(story_quotes) == 3  # q3 is in the copy b2, left out

    top = reports["top_entities"]
    assert [(r["entity"], r["mentions"]) for r in top] == [
        ("Antony Blinken", 4),
        ("Elysee Palace", 4),
        ("Paris", 3),
    ]
    speakers = {r["speaker"]: r for r in reports["most_quoted_speakers"]}
    assert speakers["Antony Blinken"]["quotes"] == 3
    assert speakers["Antony Blinken"]["outlets"] == 2
    assert reports["cleaning_audit"][0]["reason"] == "ads"


def write_previous_release(warehouse: Path) -> None:
    """A warehouse of the previous release: no cross-date tables, a `stories` table, and
    `article_links` without `other_run_date`."""
    for day, attempt in ((D1, A1), (D2, A2)):
        tag = day.isoformat()
        run = Attempt(warehouse, day, attempt)
        run.put("articles", article(f"p-{tag}", f"st-{tag}", "Herald", published_at=at(day, 8)))
        run.put("entities", entity("gP", "Paris", "GPE", ["Paris"], 1, 1))
        run.put("entity_mentions", mention(f"p-{tag}", "gP", "Paris", "GPE"))
        run.put("quotes", quote(f"q-{tag}", f"p-{tag}", QUOTE, f"c-{tag}", "Paris", "gP"))
        run.put("article_links", link(f"p-{tag}", "p-x", "same_story", 0.3), schema=OLD_LINKS)
        run.put("removed_lines")
        run.put("rejects")
        # The stories table of the previous release: its folder is no table any more.
        folder = warehouse / "stories" / f"run_date={tag}"
        folder.mkdir(parents=True)
        old = {"story_id": ["OLD"], "title": ["Old"], "article_count": [9], "run_id": ["r"]}
        pq.write_table(pa.table(old), folder / f"{attempt}.parquet")
        run.commit()


def test_a_warehouse_of_the_previous_release_still_reads(tmp_path: Path) -> None:
    write_previous_release(tmp_path)
    with query.connect(tmp_path) as con:
        assert_views_as_declared(con)
        stories = con.sql(
            "SELECT story_id, article_count, first_run_date FROM stories ORDER BY 1"
        ).fetchall()
        assert stories == [("st-2025-03-01", 1, D1), ("st-2025-03-02", 1, D2)]
        links = con.sql("SELECT run_date, other_run_date FROM article_links ORDER BY 1").fetchall()
        assert links == [(D1, D1), (D2, D2)]
        summary = con.sql(
            "SELECT entity_id, mention_count, first_run_date, last_run_date FROM entity_summary"
        ).fetchall()
        assert summary == [("gP", 2, D1, D2)]
        assert con.sql("SELECT count(*) FROM id_map").fetchall() == [(0,)]
        reports = run_reports(con)
    assert len(reports["story_coverage"]) == 2
    # Two clusters of one date each: no later outlets without a map across dates.
    assert [r["later_outlets"] for r in reports["quote_reach"]] == [[], []]
    assert [r["entity"] for r in reports["top_entities"]] == ["Paris"]


def test_a_warehouse_with_no_table_files_reads_empty(tmp_path: Path) -> None:
    # Only `runs`: even the views over all dates that read files themselves read as empty.
    Attempt(tmp_path, D1, A1).commit()
    with query.connect(tmp_path) as con:
        assert_views_as_declared(con)
        runs = {"runs", *schemas.FLATTENED_BY["runs"]}  # the attempt's row, flat or not
        for name in [*schemas.TABLES, *schemas.VIEWS]:
            rows = 1 if name in runs else 0
            assert con.sql(f"SELECT count(*) FROM {name}").fetchall() == [(rows,)], name
        reports = run_reports(con)
    assert all(rows == [] for rows in reports.values())


def test_database_file_holds_the_views_over_all_dates(warehouse: Path) -> None:
    path = query.write_database(warehouse)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM stories").fetchall() == [(2,)]
        assert con.sql("SELECT count(*) FROM entity_summary").fetchall() == [(3,)]


def test_empty_view_sql_serves_the_views_over_all_dates() -> None:
    with duckdb.connect() as con:
        con.execute(query.empty_view_sql("stories"))
        assert shown(con, "stories") == declared("stories")
    with pytest.raises(query.WarehouseError, match="no declaration"):
        query.empty_view_sql("nothing")


def filtered(con: duckdb.DuckDBPyConnection, name: str, **bounds: Any) -> list[dict[str, Any]]:
    """A report's rows with its filters bound."""
    sql = query.report_sql(name)
    columns, rows = query.fetch(con, sql, read_only=True, filters=query.Filters(**bounds))
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_every_report_takes_the_period_outlet_and_limit(con: duckdb.DuckDBPyConnection) -> None:
    every = run_reports(con)
    for name in query.report_names():
        assert every[name], name
        assert filtered(con, name, since=D1, until=D2, outlet=None) == every[name], name
        assert filtered(con, name, since=D3) == [], name
        assert filtered(con, name, until=date(2025, 2, 28)) == [], name
        assert filtered(con, name, outlet="Nowhere") == [], name
        # A bound is a value, never SQL: a quote in it does not end the string.
        assert filtered(con, name, outlet="Herald' OR 'a' = 'a") == [], name
        assert len(filtered(con, name, limit=1)) == 1, name
    # An article's day is its run date when it has no publication day: b1 is D2's only
    # article with mentions, and its entities are merged under their ids across dates.
    top = filtered(con, "top_entities", since=D2)
    assert [(r["entity"], r["mentions"], r["articles"]) for r in top] == [
        ("Elysee Palace", 3, 1),
        ("Antony Blinken", 2, 1),
        ("Paris", 1, 1),
    ]
    herald = filtered(con, "story_coverage", outlet="herald")  # any case
    assert [(r["outlet"], r["articles"], r["duplicates"]) for r in herald] == [
        ("Herald", 2, 1),
        ("Herald", 1, 0),
    ]
    speakers = filtered(con, "most_quoted_speakers", until=D1)
    assert {(r["speaker"], r["quotes"]) for r in speakers} == {
        ("Antony Blinken", 1),
        ("a senior official", 1),
    }
    # The outlet picks the quotes it reported; their reach counts every outlet's articles.
    [gazette] = filtered(con, "quote_reach", outlet="Gazette")
    assert (gazette["quote"], gazette["articles"], gazette["outlets"]) == (QUOTE, 3, 2)
    assert [r["quote"] for r in filtered(con, "story_quotes", outlet="Courier")] == [OFFICIAL]
    assert [r["reason"] for r in filtered(con, "cleaning_audit", until=D1)] == ["ads"]
    # One person quoted by each outlet in March, of no known gender (these rows tell none);
    # the same person over two dates is one person.
    balance = filtered(con, "gender_balance")
    assert [(r["outlet"], r["month"], r["people"], r["unknown_gender"], r["quotes"],
             r["share_women"]) for r in balance] == [
        ("Gazette", date(2025, 3, 1), 1, 1, 1, None),
        ("Herald", date(2025, 3, 1), 1, 1, 2, None),
    ]  # fmt: skip


def test_a_filter_that_a_report_does_not_name_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    own = "SELECT outlet FROM articles WHERE within_dates(run_date, $since, $until)"
    _, rows = query.fetch(con, own, filters=query.Filters(since=D2))
    assert sorted(rows) == [("Gazette",), ("Herald",)]
    with pytest.raises(query.WarehouseError, match="takes no --outlet"):
        query.fetch(con, own, filters=query.Filters(outlet="Herald"))
    with pytest.raises(query.WarehouseError, match=r"names \$region"):
        query.fetch(con, "SELECT 1 WHERE $region IS NULL")


def test_each_report_in_each_format_with_every_filter(warehouse: Path) -> None:
    options = [
        "--since",
        "2025-03-01",
        "--until",
        "2025-03-02",
        "--outlet",
        "herald",
        "--limit",
        "2",
    ]
    bounds = query.Filters(since=D1, until=D2, outlet="herald", limit=2)
    out = warehouse / "out.parquet"
    for name in query.report_names():
        with query.connect(warehouse) as con:
            columns, rows = query.fetch(con, query.report_sql(name), True, bounds)
        expected = [dict(zip(columns, row, strict=True)) for row in rows]
        assert expected, name
        for fmt in ["table", "csv", "json", "parquet"]:
            args = ["report", name, "--warehouse", str(warehouse), "--format", fmt, *options]
            args += ["--out", str(out)] if fmt == "parquet" else []
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, (name, fmt, result.output)
            if fmt == "parquet":
                assert pq.read_table(out).to_pylist() == expected, name
            elif fmt == "csv":
                lines = list(csv_module.DictReader(io.StringIO(result.stdout)))
                assert [list(line) for line in lines] == [columns] * len(expected), name
            elif fmt == "json":
                lines = [json.loads(line) for line in result.stdout.splitlines()]
                assert [list(line) for line in lines] == [columns] * len(expected), name
            else:  # the head's three lines and the bottom border
                assert len(result.stdout.splitlines()) == len(expected) + 4, name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "ten"], "--limit 'ten' is not a whole number"),
        (["--limit", "0"], "--limit '0' is not a whole number"),
        (["--since", "2025-02-30"], "--since '2025-02-30' is not a date"),
        (["--until", "yesterday"], "--until 'yesterday' is not a date"),
        (["--since", "2025-03-02", "--until", "2025-03-01"], "is after --until"),
        (["--format", "xml"], "--format must be table, csv, json or parquet"),
        (["--format", "table", "--out", "x.txt"], "--out writes csv, json or parquet"),
    ],
)
def test_a_wrong_report_option_is_one_line_and_exit_2(
    warehouse: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(
        app, ["report", "top_entities", "--warehouse", str(warehouse), *args]
    )
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_persons_gender_over_dates_is_the_one_they_agree_on(tmp_path: Path) -> None:
    rows = {
        D1: [("pA", "Ann Lee", "female", "first_name"), ("pB", "Bo Cruz", "male", "honorific"),
             ("pC", "Cy Dunn", "unknown", "conflicting"), ("gX", "Paris", None, None)],
        D2: [("pA", "Ann Lee", "female", "honorific+pronouns"), ("pB", "Bo Cruz", "female",
             "pronouns"), ("pC", "Cy Dunn", "male", "first_name")],
    }  # fmt: skip
    for day, attempt in ((D1, A1), (D2, A2)):
        run = Attempt(tmp_path, day, attempt)
        run.put("articles", article(f"a-{day}", "s", "Herald"))
        run.put(
            "entities",
            *(
                {**entity(i, n, "GPE" if g is None else "PERSON", [n], 1, 1),
                 "gender": g, "gender_evidence": e}
                for i, n, g, e in rows[day]
            ),
        )  # fmt: skip
        run.commit()
    with query.connect(tmp_path) as con:
        summary = con.sql("SELECT canonical_name, gender, gender_evidence FROM entity_summary")
        assert sorted(summary.fetchall()) == [
            ("Ann Lee", "female", "honorific+pronouns"),  # the date with the most evidence
            ("Bo Cruz", "unknown", "conflicting"),  # the dates disagree
            ("Cy Dunn", "male", "first_name"),  # one date's conflict, the other's answer
            ("Paris", None, None),  # no gender for a place
        ]
        per_date = con.sql("SELECT gender FROM entities WHERE canonical_name = 'Bo Cruz'")
        assert sorted(per_date.fetchall()) == [("female",), ("male",)]
