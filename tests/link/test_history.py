"""Across run dates: links, stories, entities and quote clusters, whatever the order of dates."""

from __future__ import annotations

import dataclasses
import random
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.pipeline import news_etl
from tasks.core.records import Alias, Article, short_hash
from tasks.link import dedup, history
from tasks.link.dedup import DedupSettings
from tasks.quotes.attribution import QuoteSettings
from tasks.store import schemas, write
from tasks.warehouse import query

SEEDS = sorted((Path(__file__).resolve().parents[2] / "seeds").glob("*.txt"))
# The seeds split over three dates: 001 (an excerpt of 000) and 003 (a rewrite of 002) a
# day after the articles they repeat, 004 (another report of the event) two days after.
SPLIT = {
    date(2023, 9, 19): ("000", "002"),
    date(2023, 9, 20): ("001", "003"),
    date(2023, 9, 21): ("004",),
}
DAYS = sorted(SPLIT)


def _split_seeds(folder: Path) -> Path:
    """The dated input folders of the split."""
    for day, prefixes in SPLIT.items():
        target = folder / day.isoformat()
        target.mkdir(parents=True)
        for path in SEEDS:
            if path.name[:3] in prefixes:
                shutil.copy(path, target / path.name)
    return folder


def _sql(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    with query.connect(warehouse) as con:
        return con.sql(sql).fetchall()


def _state(warehouse: Path) -> dict[str, Any]:
    """What must not depend on the order of runs: links, grouping and ids, by the views."""
    # One connection for all: registering the views is most of a small query's time.
    with query.connect(warehouse) as con:
        return _state_of(con)


def _state_of(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """`_state` over an open connection."""

    def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
        return con.sql(sql).fetchall()

    return {
        "links": sorted(
            _rows(
                con,
                """
            SELECT a.source_uri, o.source_uri, l.relation, round(l.score, 6), l.run_date,
                l.other_run_date
            FROM article_links AS l
            JOIN articles AS a USING (article_id)
            JOIN articles AS o ON o.article_id = l.other_article_id""",
            )
        ),
        "articles": sorted(
            _rows(
                con,
                """
            SELECT source_uri, article_id, story_id, duplicate_of, run_date FROM articles""",
            )
        ),
        "mentions": sorted(
            _rows(
                con,
                """
            SELECT article_id, start_char, entity_id, label FROM entity_mentions""",
            )
        ),
        "entities": sorted(
            _rows(
                con,
                """
            SELECT entity_id, canonical_name, label, mention_count, article_count,
                first_run_date, last_run_date
            FROM entity_summary""",
            )
        ),
        "quotes": sorted(
            _rows(
                con,
                """
            SELECT quote_id, quote_cluster_id, speaker, speaker_entity_id FROM quotes""",
            )
        ),
        "stories": sorted(
            _rows(
                con,
                """
            SELECT story_id, article_count, first_run_date, last_run_date, run_dates
            FROM stories""",
            )
        ),
    }


def _run(inputs: Path, warehouse: Path, days: list[date], **kwargs: Any) -> None:
    for day in days:
        summary = news_etl(input_dir=inputs, warehouse=warehouse, run_date=day, **kwargs)
        assert summary.status == "succeeded"


@pytest.fixture(scope="module")
def forward(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The split seeds, run date by date in order."""
    root = tmp_path_factory.mktemp("forward")
    inputs, warehouse = _split_seeds(root / "in"), root / "wh"
    _run(inputs, warehouse, DAYS)
    return inputs, warehouse


def _uri(prefix: str, day: date) -> str:
    return next(f"{day.isoformat()}/{p.name}" for p in SEEDS if p.name.startswith(prefix))


def test_seeds_split_over_dates_link_into_one_story(forward: tuple[Path, Path]) -> None:
    _, wh = forward
    links = {(a[11:14], o[11:14]): (rel, d, od) for a, o, rel, _, d, od in _state(wh)["links"]}
    assert links["001", "000"] == ("excerpt", DAYS[1], DAYS[0])
    assert links["003", "002"] == ("rewrite", DAYS[1], DAYS[0])
    stories = {story for _, _, story, _, _ in _state(wh)["articles"]}
    assert len(stories) == 1
    [(story, count, first, last, dates)] = _state(wh)["stories"]
    assert stories == {story}
    assert (count, first, last, dates) == (5, DAYS[0], DAYS[2], 3)
    blinken = _sql(
        wh, "SELECT entity_id, run_date FROM entities WHERE canonical_name ILIKE '%Blinken%'"
    )
    assert len({e for e, _ in blinken}) == 1 and len(blinken) >= 2
    assert _sql(
        wh, "SELECT count(*) FROM entity_summary WHERE canonical_name ILIKE '%Blinken%'"
    ) == [(1,)]
    across = {rel for _, _, rel, _, day, other in _state(wh)["links"] if day != other}
    assert {"excerpt", "rewrite", "same_story"} <= across, across


def test_a_quote_repeated_on_a_later_date_is_one_cluster(forward: tuple[Path, Path]) -> None:
    _, wh = forward
    spread = _sql(
        wh,
        """
        SELECT quote_cluster_id, min(run_date), max(run_date) FROM quotes
        GROUP BY 1 HAVING count(DISTINCT run_date) > 1""",
    )
    assert spread, "no quote cluster spans two dates"
    with query.connect(wh) as con:
        columns, rows = query.fetch(con, query.report_sql("quote_reach"))
    reach = [dict(zip(columns, row, strict=True)) for row in rows]
    assert any(r["first_run_date"] == DAYS[0] and r["articles"] >= 2 for r in reach), reach


def test_the_order_of_dates_does_not_matter(forward: tuple[Path, Path], tmp_path: Path) -> None:
    inputs, wh = forward
    expected = _state(wh)
    backward = tmp_path / "backward"
    _run(inputs, backward, DAYS[::-1])
    assert _state(backward) == expected
    shuffled = tmp_path / "shuffled"
    _run(inputs, shuffled, [DAYS[2], DAYS[0], DAYS[1]])
    assert _state(shuffled) == expected
    # A date rerun in the middle of a backfill, forced: nothing changes anywhere.
    rerun = tmp_path / "rerun"
    _run(inputs, rerun, DAYS[:2])
    before = _state(rerun)
    day = DAYS[0].isoformat()
    forced = CliRunner().invoke(app, ["backfill", "--start", day, "--end", day, "--force",
                                      "--input", str(inputs), "--warehouse", str(rerun)])  # fmt: skip
    assert forced.exit_code == 0, forced.output
    assert _state(rerun) == before
    _run(inputs, rerun, DAYS[2:])
    assert _state(rerun) == expected


def test_an_exact_copy_on_a_later_date_points_at_the_original(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    for day in DAYS[:2]:
        (inputs / day.isoformat()).mkdir(parents=True)
    shutil.copy(SEEDS[0], inputs / DAYS[0].isoformat() / "wire.txt")
    shutil.copy(SEEDS[0], inputs / DAYS[1].isoformat() / "copy.txt")
    wh = tmp_path / "wh"
    _run(inputs, wh, DAYS[1::-1])  # the copy's date first
    rows = dict(_sql(wh, "SELECT source_uri, duplicate_of IS NOT NULL FROM articles"))
    assert rows == {f"{DAYS[0]}/wire.txt": False, f"{DAYS[1]}/copy.txt": True}
    [(relation, day, other)] = _sql(
        wh, "SELECT relation, run_date, other_run_date FROM article_links"
    )
    assert (relation, day, other) == ("exact_duplicate", DAYS[1], DAYS[0])
    [(original,)] = _sql(
        wh, f"SELECT article_id FROM articles WHERE source_uri = '{DAYS[0]}/wire.txt'"
    )
    assert _sql(wh, "SELECT duplicate_of FROM articles WHERE duplicate_of IS NOT NULL") == [
        (original,)
    ]


def test_copies_are_linked_only_within_the_history_window(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    far = date(2023, 11, 30)  # more than 30 run dates after the first
    for day, name in ((DAYS[0], "wire.txt"), (far, "late.txt")):
        (inputs / day.isoformat()).mkdir(parents=True)
        shutil.copy(SEEDS[0], inputs / day.isoformat() / name)
    wh = tmp_path / "wh"
    _run(inputs, wh, [DAYS[0], far])
    assert _sql(wh, "SELECT count(*) FROM article_links") == [(0,)]
    assert _sql(wh, "SELECT count(DISTINCT story_id) FROM articles") == [(2,)]


def _prose(seed: int, sentences: int = 24) -> str:
    """Paragraphs of made-up words no other text shares."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "no", "pri", "dax", "eo", "shu"]
    words = ["".join(rng.choice(syllables) for _ in range(3)) for _ in range(400)]
    lines = [
        " ".join(rng.choice(words) for _ in range(14)).capitalize() + "." for _ in range(sentences)
    ]
    return "\n\n".join(" ".join(lines[i : i + 4]) for i in range(0, len(lines), 4))


def test_a_revised_copy_on_another_date_is_a_near_duplicate(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    text = _prose(3)
    revised = " ".join(w if i % 40 else "changed" for i, w in enumerate(text.split(" ")))
    for day, name, body in ((DAYS[0], "first.txt", text), (DAYS[1], "revised.txt", revised)):
        (inputs / day.isoformat()).mkdir(parents=True)
        (inputs / day.isoformat() / name).write_text(f"Report {name}\n\n{body}\n")
    wh = tmp_path / "wh"
    _run(inputs, wh, DAYS[1::-1])
    [(relation, day, other, score)] = _sql(
        wh,
        """
        SELECT relation, run_date, other_run_date, score FROM article_links""",
    )
    assert (relation, day, other) == ("near_duplicate", DAYS[1], DAYS[0])
    assert 0.5 <= score < 1.0
    assert _sql(wh, "SELECT count(DISTINCT story_id), count(duplicate_of) FROM articles") == [
        (1, 0)
    ]


def test_a_new_article_merges_two_stories_of_earlier_dates(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    first, second = _prose(1), _prose(2)
    # Two unrelated texts on two dates; the third date's article holds both of them.
    plan = {DAYS[0]: ("first.txt", first), DAYS[1]: ("second.txt", second),
            DAYS[2]: ("both.txt", f"{first}\n\n{second}")}  # fmt: skip
    for day, (name, text) in plan.items():
        (inputs / day.isoformat()).mkdir(parents=True)
        (inputs / day.isoformat() / name).write_text(f"Report {name}\n\n{text}\n")
    wh = tmp_path / "wh"
    _run(inputs, wh, DAYS[:2])
    before = _sql(wh, "SELECT count(DISTINCT story_id) FROM articles")
    _run(inputs, wh, DAYS[2:])
    after = dict(_sql(wh, "SELECT substr(source_uri, 12), story_id FROM articles"))
    assert before == [(2,)]
    assert len(set(after.values())) == 1, after
    relations = _sql(wh, "SELECT DISTINCT relation FROM article_links")
    assert relations == [("excerpt",)]
    # Every reader sees the merge: the stories view, and the reports.
    assert _sql(wh, "SELECT article_count, run_dates FROM stories") == [(3, 3)]
    with query.connect(wh) as con:
        _, rows = query.fetch(con, query.report_sql("story_coverage"))
    assert len({r[0] for r in rows}) == 1
    # Run backward, the same: the middle date's text joins the others when it comes.
    backward = tmp_path / "backward"
    _run(inputs, backward, DAYS[::-1])
    assert _state(backward) == _state(wh)


def test_an_alias_added_later_merges_entities_of_earlier_dates(tmp_path: Path) -> None:
    inputs = _split_seeds(tmp_path / "in")
    wh = tmp_path / "wh"
    _run(inputs, wh, DAYS[:1])
    names = {n for (n,) in _sql(wh, "SELECT canonical_name FROM entity_summary")}
    assert "Antony J. Blinken" in names or "Antony Blinken" in names
    (wh / "aliases.csv").write_text("name,canonical\nAntony J. Blinken,Tony Blinken\n")
    _run(inputs, wh, DAYS[1:2])
    rows = _sql(
        wh,
        """
        SELECT DISTINCT m.run_date, e.canonical_name FROM entity_mentions AS m
        JOIN entity_summary AS e USING (entity_id) WHERE m.text ILIKE '%Blinken%'""",
    )
    assert {n for _, n in rows} == {"Tony Blinken"}
    assert {d for d, _ in rows} == set(DAYS[:2])


def _files(warehouse: Path, name: str) -> list[Path]:
    return sorted(warehouse.glob(f"{name}/*/*.parquet"))


def test_a_crash_while_updating_the_index_leaves_the_committed_state(
    forward: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, source = forward
    wh = tmp_path / "wh"
    shutil.copytree(source, wh)
    before = _state(wh)
    real = write.write_partition
    written: list[str] = []

    def crash_after_some(warehouse: Path, name: str, table: Any, day: date, attempt: str) -> Path:
        if len(written) == 3:
            raise OSError("disk unplugged")
        written.append(name)
        return real(warehouse, name, table, day, attempt)

    monkeypatch.setattr(write, "write_partition", crash_after_some)
    (inputs / DAYS[1].isoformat() / "extra.txt").write_text(SEEDS[0].read_text())
    with pytest.raises(Exception, match="disk unplugged"):
        news_etl(input_dir=inputs, warehouse=wh, run_date=DAYS[1])
    monkeypatch.undo()
    (inputs / DAYS[1].isoformat() / "extra.txt").unlink()
    assert written, "the crash came before any cross-date file was written"
    assert _state(wh) == before
    _run(inputs, wh, DAYS[1:2])
    assert _state(wh) == before


def test_a_missing_or_corrupt_index_is_rebuilt_with_a_warning(
    forward: tuple[Path, Path], tmp_path: Path
) -> None:
    inputs, source = forward
    wh = tmp_path / "wh"
    shutil.copytree(source, wh)
    before = _state(wh)
    [index] = [p for p in _files(wh, "article_index") if f"run_date={DAYS[0]}" in str(p)]
    index.write_bytes(b"PAR1 not parquet at all")
    for path in _files(wh, "quote_index"):
        path.unlink()
    summary = news_etl(input_dir=inputs, warehouse=wh, run_date=DAYS[1],
                       settings=None)  # fmt: skip
    assert any(w.startswith("history_rebuilt") for w in summary.warnings), summary.warnings
    assert _state(wh) == before
    [(warnings,)] = _sql(
        wh,
        f"""
        SELECT warnings FROM runs WHERE run_date = '{DAYS[1]}' ORDER BY started_at DESC LIMIT 1""",
    )
    assert any(w.startswith("history_rebuilt") for w in warnings)


def test_a_warehouse_without_history_index_is_indexed_on_first_use(
    forward: tuple[Path, Path], tmp_path: Path
) -> None:
    inputs, source = forward
    wh = tmp_path / "wh"
    shutil.copytree(source, wh)
    expected = _state(wh)
    for name in (*schemas.INDEX_TABLES, *schemas.ACROSS_TABLES):
        shutil.rmtree(wh / name)
    # As the previous release wrote it: every date on its own.
    assert len({s for _, _, s, _, _ in _state(wh)["articles"]}) > 1
    again = CliRunner().invoke(app, ["run", "--input", str(inputs), "--warehouse", str(wh),
                                     "--date", DAYS[2].isoformat()])  # fmt: skip
    assert again.exit_code == 0, again.output
    assert _state(wh) == expected
    [(warnings,)] = _sql(
        wh,
        f"""
        SELECT warnings FROM runs WHERE run_date = '{DAYS[2]}' ORDER BY started_at DESC LIMIT 1""",
    )
    assert any(w.startswith("history_indexed: 2 run dates") for w in warnings), warnings
    assert pq.read_table(_files(wh, "article_index")[0]).num_rows > 0


# Pure functions of tasks/link/history.py, without the flow.


def _index(day: date, articles: list[Article]) -> history.DateIndex:
    linked, _, _ = dedup.link_articles(articles, DedupSettings())
    return history.index_date(day, linked, [], [], [], DedupSettings(), QuoteSettings())


def _as_history(*indexes: history.DateIndex) -> pa.Table:
    parts = []
    for index in indexes:
        table = write.to_table("article_index", index.articles, {"run_id": "r"})
        parts.append(table.append_column("run_date", pa.array([index.day] * table.num_rows)))
    return pa.concat_tables(parts)


def _cross(a: history.DateIndex, b: history.DateIndex, bodies: dict[str, str]) -> set[Any]:
    """The links of `a` to `b`, as the run of `a` finds them."""
    heavy = {x.article_id: dataclasses.asdict(x) for x in b.articles}
    links = history.cross_links(
        a.day, a.articles, bodies, _as_history(b),
        lambda wanted: {i: bodies[i] for ids in wanted.values() for i in ids},
        lambda _day, ids: {i: heavy[i] for i in ids}, set(), DedupSettings(),
    )  # fmt: skip
    return {dataclasses.astuple(ln) for ln in links}


def test_a_pair_is_judged_the_same_from_either_date(make_article: Callable[..., Article]) -> None:
    full, other = _prose(11, 30), _prose(12, 30)
    excerpt = full.split("\n\n")[0] + "\n\n" + full.split("\n\n")[1]
    older = [make_article(full, "a/full.txt"), make_article(other, "a/o.txt")]
    newer = [make_article(excerpt, "b/ex.txt"), make_article(full, "b/copy.txt")]
    first, second = _index(DAYS[0], older), _index(DAYS[1], newer)
    bodies = {a.article_id: a.body for a in [*older, *newer]}
    forward, backward = _cross(second, first, bodies), _cross(first, second, bodies)
    assert forward == backward
    assert {(rel, d1, d2) for _, d1, _, d2, rel, _ in forward} == {
        ("excerpt", DAYS[1], DAYS[0]),
        ("exact_duplicate", DAYS[1], DAYS[0]),
    }


def test_merged_ids_name_a_group_by_its_smallest_name() -> None:
    a, b, c = (DAYS[0], "s1"), (DAYS[1], "s2"), (DAYS[2], "s3")
    names = {a: "zz", b: "mm", c: "aa"}
    merged = history.merged_ids(names, [(a, b)])
    assert merged[a] == merged[b] == short_hash("mm") and merged[c] == short_hash("aa")
    # A group within one date keeps the id its date gave it: the hash of its own name.
    assert history.merged_ids({a: "zz"}, []) == {a: short_hash("zz")}


def test_earliest_copy_is_the_first_by_date_within_the_window() -> None:
    copies = [
        history.Copy(date(2023, 9, 1), "x.txt", "old", "h"),
        history.Copy(date(2023, 9, 20), "b.txt", "mid-b", "h"),
        history.Copy(date(2023, 9, 20), "a.txt", "mid-a", "h"),
        history.Copy(date(2023, 9, 25), "c.txt", "new", "h"),
    ]
    found = history.earliest_copies(copies, copies, history_days=10)
    # 09-01 is more than 10 run days before the others; same-date copies are the file's.
    assert found == {"new": "mid-a"}


def _key(group: str, count: int = 1) -> history.EntityKey:
    return history.EntityKey(short_hash(group), group, group.partition(":")[0], group, count)


def test_a_bare_surname_joins_the_one_full_name_of_its_window() -> None:
    bare, full, other = (
        _key("PERSON:blinken"),
        _key("PERSON:antony blinken", 5),
        _key("PERSON:donald blinken", 1),
    )
    aliases = history.AliasTable.of(())
    people = [(DAYS[0], full)]
    found = history.resolve_entities([(DAYS[2], bare)], people, aliases, 30, 2 / 3)
    assert found[DAYS[2], bare.entity_id].global_id == full.entity_id
    # Out of the window, or with a namesake as often named, it stays apart.
    far = history.resolve_entities([(date(2024, 1, 1), bare)], people, aliases, 30, 2 / 3)
    assert far[date(2024, 1, 1), bare.entity_id].global_id == bare.entity_id
    tied = history.resolve_entities(
        [(DAYS[2], bare)], [*people, (DAYS[1], _key("PERSON:donald blinken", 5))], aliases, 30,
        2 / 3,
    )  # fmt: skip
    assert tied[DAYS[2], bare.entity_id].global_id == bare.entity_id
    # A dominant one among several still takes it.
    ruled = history.resolve_entities(
        [(DAYS[2], bare)], [*people, (DAYS[1], other)], aliases, 30, 2 / 3
    )
    assert ruled[DAYS[2], bare.entity_id].global_id == full.entity_id


def test_an_alias_maps_a_person_group_with_its_display_name() -> None:
    aliases = history.AliasTable.of((Alias("Antony J. Blinken", "Tony Blinken"),))
    key, display = history.aliased("PERSON:antony blinken", aliases)
    assert (key, display) == ("PERSON:tony blinken", "Tony Blinken")
    assert history.aliased("ORG:antony blinken", aliases) == ("ORG:antony blinken", None)


def test_quote_links_match_small_wording_changes_across_dates() -> None:
    said = "we will not accept any attack on our sovereignty whatever it costs"
    edited = "we will not accept any attack on our sovereignty whatever the cost"
    mine = [history.QuoteKey("c1", said, history.trigram_hashes(said, 4))]
    theirs = [history.QuoteKey("c9", edited, history.trigram_hashes(edited, 4)),
              history.QuoteKey("c8", "an unrelated sentence of some length here", history.trigram_hashes("an unrelated sentence of some length here", 4))]  # fmt: skip
    table = write.to_table("quote_index", theirs, {"run_id": "r"})
    table = table.append_column("run_date", pa.array([DAYS[0]] * 2))
    links, matched = history.quote_links(DAYS[1], mine, table, QuoteSettings())
    assert [(ql.quote_cluster_id, ql.other_quote_cluster_id) for ql in links] == [("c1", "c9")]
    assert matched == {(said, edited)}


def test_an_id_map_changes_only_in_the_rows_a_run_decides(tmp_path: Path) -> None:
    from tasks.link import across

    wh = tmp_path / "wh"
    _run(_split_seeds(tmp_path / "in"), wh, DAYS[:2])
    store = across.Store.open(wh, DAYS[0])
    before = store.read("id_map", DAYS[0])
    assert before is not None and before.num_rows > 3
    row = next(r for r in before.to_pylist() if r["kind"] == "story")
    node = (DAYS[0], row["local_id"])
    same = history.IdMapping("story", row["local_id"], row["global_id"], row["name"])
    maps = across.Maps(store)
    maps.replace(DAYS[0], "story", [same], {row["local_id"]})
    maps.stage("later-run")
    assert not store.staged()  # the same mapping again writes nothing
    moved = history.IdMapping("story", row["local_id"], "moved", None)
    maps.replace(DAYS[0], "story", [moved], {row["local_id"]})
    assert maps.global_ids("story", [node]) == {node: "moved"}
    assert maps.members(DAYS[0], "story", {"moved"}) == {row["local_id"]}
    assert row["local_id"] not in maps.members(DAYS[0], "story", {row["global_id"]})
    maps.stage("later-run")
    after = store.pending["id_map", DAYS[0]].to_pylist()
    assert [r for r in after if r["local_id"] != row["local_id"]] == [
        r for r in before.to_pylist() if r["local_id"] != row["local_id"]
    ]  # the other rows, with the runs that decided them
    assert [r for r in after if r["local_id"] == row["local_id"]] == [
        {"kind": "story", "local_id": row["local_id"], "global_id": "moved", "name": None,
         "run_id": "later-run"}
    ]  # fmt: skip
