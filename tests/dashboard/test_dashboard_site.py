"""The dashboard site without a browser: its files, its SQL, its escaping, its command line."""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks import warehouse
from tasks.dashboard import MARKER, DashboardError, Filters, Table, build_site, site_server
from tasks.dashboard.data import SQL_DIR, rows
from tasks.dashboard.pages import Column
from tasks.dashboard.render import BUNDLE, _table, spec_json
from tasks.dashboard.site import BUNDLE_KEY, bundle, bundle_key

PAGES = ["index", "stories", "entities", "quotes", "cleaning", "runs"]
SPEC = re.compile(r'<script type="application/json" id="spec-\d+">(.*?)</script>', re.S)


def specs(page: Path) -> list[dict[str, Any]]:
    """The Vega-Lite specifications of a page's charts."""
    found: list[dict[str, Any]] = [json.loads(s) for s in SPEC.findall(page.read_text("utf-8"))]
    return found


def values(spec: dict[str, Any], field: str) -> set[object]:
    """Every value of one field in a specification's inline data."""
    rows = [r for data in spec.get("datasets", {}).values() for r in data]
    return {r.get(field) for r in rows}


def test_site_files_and_links(seeds_site: Path) -> None:
    """An index and a page per view, the script beside them; every link stays in the folder."""
    assert sorted(p.stem for p in seeds_site.glob("*.html")) == sorted(PAGES)
    assert (seeds_site / BUNDLE).stat().st_size > 100_000
    assert (seeds_site / MARKER).is_file()
    for page in seeds_site.glob("*.html"):
        text = page.read_text("utf-8")
        for target in re.findall(r'(?:src|href)="([^"]*)"', text):
            assert "//" not in target, (page.name, target)
            assert (seeds_site / target).is_file(), (page.name, target)
        assert "Content-Security-Policy" in text


def test_seeds_site_has_data_on_every_page(seeds_site: Path) -> None:
    """The seeds fill every view: each page has charts, each chart data."""
    for name in PAGES[1:]:
        found = specs(seeds_site / f"{name}.html")
        assert found and all(s.get("datasets") for s in found), name
    for name in ("stories", "entities", "quotes", "cleaning"):
        assert "No data" not in (seeds_site / f"{name}.html").read_text("utf-8"), name
    stories = specs(seeds_site / "stories.html")
    # The seeds hold an excerpt and a rewrite (seeds/README.md).
    assert {"excerpt", "rewrite"} <= values(stories[0], "relation")


def test_large_site_content(large_site: Path) -> None:
    """Copies and excerpts across dates, several outlets and days, a failed attempt."""
    stories = specs(large_site / "stories.html")
    assert {"copy", "excerpt", "own text"} <= values(stories[0], "relation")
    assert len(values(stories[0], "outlet")) > 5
    days = specs(large_site / "entities.html")[-1]
    assert len(values(days, "day")) > 20
    quotes = specs(large_site / "quotes.html")
    assert len(quotes) == 4  # who is quoted, women's share, gender by outlet, reach
    shares = {v for s in quotes for v in values(s, "share_women") if v is not None}
    assert shares and all(0 <= float(str(v)) <= 1 for v in shares)
    runs = specs(large_site / "runs.html")
    assert {"succeeded", "failed"} <= values(runs[0], "status")
    assert values(runs[0], "run_date") == {"2016-01-10", "2016-01-20", "2016-01-30"}


def test_filters(tmp_path: Path, large_warehouse: Path) -> None:
    """--outlet keeps that outlet's articles, whatever its case; --since/--until the articles
    of those days (their publication day here)."""
    filters = Filters(date(2015, 12, 1), date(2015, 12, 31), outlet="NYT")
    build_site(large_warehouse, tmp_path / "site", filters)
    quoted = specs(tmp_path / "site" / "quotes.html")[0]
    assert values(quoted, "outlet") == {"nyt"}
    stories = specs(tmp_path / "site" / "stories.html")[0]
    assert values(stories, "outlet") == {"nyt"}
    assert all(str(d).startswith("2015-12-") for d in values(stories, "day"))
    days = {str(d) for d in values(specs(tmp_path / "site" / "entities.html")[-1], "day")}
    assert days and all(d.startswith("2015-12-") for d in days)
    assert "NYT" in (tmp_path / "site" / "index.html").read_text("utf-8")


def test_no_data_sites_say_so(no_data_sites: dict[str, Path]) -> None:
    """No run yet, an empty period, an unknown outlet: every view says it has no data."""
    for case, site in no_data_sites.items():
        for name in PAGES[1:]:
            text = (site / f"{name}.html").read_text("utf-8")
            assert "No data" in text, (case, name)
            assert 'class="chart"' not in text and "vega-embed.js" not in text, (case, name)
    assert "no run in" in (no_data_sites["empty-warehouse"] / "index.html").read_text("utf-8")


def test_every_query_binds_only_what_it_names() -> None:
    """Each SQL file is one SELECT; its parameters are among the filters, bound, never pasted."""
    con = duckdb.connect()
    names = {f.name for f in fields(warehouse.Filters)}
    for path in sorted(SQL_DIR.glob("*.sql")):
        statements = con.extract_statements(path.read_text("utf-8"))
        assert [s.type for s in statements] == [duckdb.StatementType.SELECT], path.name
        assert statements[0].named_parameters <= names, path.name
        assert "{" not in path.read_text("utf-8"), path.name  # no template to paste into
    filters = Filters(since=date(2020, 1, 1), outlet="x")
    # A page's filters reach the queries that take them; the others run unfiltered.
    assert rows(con, "SELECT $outlet AS o", filters) == [{"o": "x"}]
    assert rows(con, "SELECT 1 AS n", filters) == [{"n": 1}]
    with pytest.raises(DashboardError, match=r"\$nope"):
        rows(con, "SELECT $nope", filters)
    with pytest.raises(DashboardError, match="one SELECT"):
        rows(con, "COPY (SELECT 1) TO 'x.csv'", filters)


def test_a_rebuild_keeps_the_script_bundle_of_the_same_versions(tmp_path: Path) -> None:
    previous = tmp_path / "site"
    (previous / BUNDLE).parent.mkdir(parents=True)
    (previous / BUNDLE).write_text("// kept", encoding="utf-8")
    (previous / BUNDLE_KEY).write_text(bundle_key(), encoding="utf-8")
    assert bundle(previous) == "// kept"
    (previous / BUNDLE_KEY).write_text("vl-convert 0.1, vega-lite 1.0", encoding="utf-8")
    assert len(bundle(previous)) > 100_000  # made again: the versions differ


def test_hostile_text_is_escaped() -> None:
    """Text from the news ends no script element and opens no tag."""
    hostile = "</script><script>alert(1)</script><!-- & \u2028"
    text = spec_json({"data": {"values": [{"title": hostile}]}})
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text)["data"]["values"][0]["title"] == hostile
    table = Table("t", "", (Column("title", "Title <i>"),), ({"title": hostile},), 1)
    html = _table(table)
    assert "<script>" not in html and "&lt;/script&gt;" in html and "Title &lt;i&gt;" in html


def test_rebuild_replaces_only_a_dashboard(tmp_path: Path, empty_warehouse: Path) -> None:
    """A new build replaces an earlier one whole; a folder of other files is never touched."""
    out = tmp_path / "site"
    build_site(empty_warehouse, out)
    (out / "stale.html").write_text("old")
    pages = build_site(empty_warehouse, out)
    assert pages[0] == out / "index.html" and not (out / "stale.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no temporary folder left
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(DashboardError, match="no newsetl dashboard"):
        build_site(empty_warehouse, other)
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2024-02-30"], "--since '2024-02-30' is not a date"),
        (["--since", "2024-03-02", "--until", "2024-03-01"], "is after --until"),
        (["--out", "{file}/site"], "is a file, not a folder"),
        (["--out", "{other}"], "no newsetl dashboard"),
        (["--serve", "--port", "99999"], "is not a port number"),
        (["--warehouse", "{file}"], "is not a folder"),
    ],
)
def test_command_line_mistakes(tmp_path: Path, args: list[str], message: str) -> None:
    """A mistake on the command line is one line and exit status 2, and nothing is written."""
    (tmp_path / "file").write_text("x")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    fill = {"file": tmp_path / "file", "other": tmp_path / "other"}
    argv = ["dashboard", "--out", str(tmp_path / "site"), "--warehouse", str(tmp_path)]
    argv += [a.format(**fill) for a in args]
    out = CliRunner().invoke(app, argv)
    assert out.exit_code == 2, out.output
    assert message in out.output and len(out.output.strip().splitlines()) == 1
    assert not (tmp_path / "site").exists()


def test_command_builds_the_site(tmp_path: Path, seeds_warehouse: Path) -> None:
    """`newsetl dashboard` writes the site and says where to open it."""
    out = CliRunner().invoke(
        app, ["dashboard", "--warehouse", str(seeds_warehouse), "--out", str(tmp_path / "s")]
    )
    assert out.exit_code == 0, out.output
    assert "wrote 6 pages" in out.output and (tmp_path / "s" / "index.html").as_uri() in out.output


def test_served_on_loopback(seeds_site: Path) -> None:
    """--serve's server answers the site's files on 127.0.0.1."""
    server = site_server(seeds_site, 0)
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stories.html", timeout=10) as reply:
            assert reply.status == 200 and b"Stories over time" in reply.read()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{BUNDLE}", timeout=10) as reply:
            assert "javascript" in reply.headers["Content-Type"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
