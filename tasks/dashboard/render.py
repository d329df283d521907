"""The dashboard's HTML: pages of escaped text, plain tables and Vega-Lite charts, no network."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from html import escape
from typing import Any

from tasks.dashboard.data import Row
from tasks.dashboard.pages import Block, Chart, Page, Table

# The Vega, Vega-Lite and Vega-Embed bundle, shipped beside the pages: written once per site,
# not once per chart as Altair's inline HTML does.
BUNDLE = "assets/vega-embed.js"
# What a page may load: its own folder's script and nothing from anywhere else. Vega compiles
# its expressions with Function (unsafe-eval); vega-embed adds its style element.
CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src 'self' data: blob:"
)
NO_DATA = "No data"
SHORT_CELL = 16  # characters a cell keeps on one line
# The embedding glue Altair's own inline HTML writes, once per page for all its charts.
EMBED = """
const options = {"actions": {"export": true, "source": false, "compiled": false, "editor": false},
                 "renderer": "svg"};
for (const box of document.querySelectorAll("[data-spec]")) {
  const spec = JSON.parse(document.getElementById(box.dataset.spec).textContent);
  vegaEmbed(box, spec, options).catch((err) => {
    box.textContent = "This chart could not be drawn: " + err.message;
    console.error(err);
  });
}
"""
CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #e3e6ec; --accent: #b3261e; --bg: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: var(--ink); background: var(--bg); }
header { background: #161b26; color: #fff; padding: 14px 28px 0; }
header .brand { font-size: 13px; letter-spacing: .08em; text-transform: uppercase; color: #aab3c5; }
header h1 { margin: 2px 0 10px; font-size: 26px; font-weight: 650; }
nav { display: flex; gap: 4px; flex-wrap: wrap; }
nav a { color: #cfd6e4; text-decoration: none; padding: 8px 14px; border-radius: 6px 6px 0 0; }
nav a:hover { background: #232a38; color: #fff; }
nav a.here { background: var(--bg); color: var(--ink); font-weight: 600; }
main { padding: 20px 28px 40px; max-width: 1500px; }
.filters { color: var(--muted); margin: 0 0 16px; }
.filters b { color: var(--ink); font-weight: 600; }
.notice { background: #fff4e5; border: 1px solid #f0c58a; border-radius: 8px; padding: 12px 16px;
          margin: 0 0 16px; }
.grid { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 18px; }
.block { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px;
         min-width: 0; }
.span-6 { grid-column: span 6; } .span-4 { grid-column: span 4; }
.span-3 { grid-column: span 3; } .span-2 { grid-column: span 2; }
@media (max-width: 1000px) { .span-4, .span-3, .span-2 { grid-column: span 6; } }
.block h2 { margin: 0 0 4px; font-size: 17px; }
.block p.about { margin: 0 0 12px; color: var(--muted); font-size: 13.5px; }
.chart { width: 100%; }
.no-data { margin: 8px 0; padding: 18px; text-align: center; color: var(--muted);
           background: #fafbfc; border: 1px dashed #cfd4dc; border-radius: 8px; }
.table-wrap { overflow-x: auto; max-height: 560px; overflow-y: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th { position: sticky; top: 0; background: #f0f2f5; text-align: left; font-weight: 600;
     padding: 7px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top;
     max-width: 520px; overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.short { white-space: nowrap; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fbfbfc; }
.more { color: var(--muted); font-size: 12.5px; margin: 8px 0 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 16px; }
.card { display: block; background: #fff; border: 1px solid var(--line); border-radius: 10px;
        padding: 16px 18px; color: inherit; text-decoration: none; }
.card:hover { border-color: #8c96a8; }
.card h2 { margin: 0 0 6px; font-size: 18px; color: var(--accent); }
.card p { margin: 0; color: var(--muted); }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px;
           margin: 0 0 20px; }
.figure { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.figure .n { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.figure .what { color: var(--muted); font-size: 13px; }
footer { color: var(--muted); font-size: 12.5px; padding: 0 28px 24px; }
"""


@dataclass(frozen=True)
class SiteInfo:
    """What every page says about the site: the warehouse, the filters, when it was built."""

    warehouse: str
    filters: tuple[tuple[str, str], ...]  # each filter's name and value, in words
    built_at: str
    notice: str | None = None  # why there is no data at all (no run yet), if so


def cell(value: object) -> str:
    """A table cell's text, escaped: dates as days, times to the second, lists comma-joined."""
    if value is None:
        text = ""
    elif isinstance(value, datetime):
        text = (
            value.strftime("%Y-%m-%d %H:%M") if value.second == 0 else f"{value:%Y-%m-%d %H:%M:%S}"
        )
        text = text.removesuffix(" 00:00")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, float | Decimal):
        text = f"{value:,.2f}"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, list | tuple):
        text = ", ".join("" if v is None else str(v) for v in value)
    else:
        text = str(value)
    return escape(text)


def _numeric(value: object) -> bool:
    """Whether a value is a number, right-aligned in its cell."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _day(value: object) -> bool:
    """Whether a value is a date or time, kept on one line in its cell."""
    return isinstance(value, date)


def spec_json(spec: dict[str, Any]) -> str:
    """A specification as JSON that cannot end its script element, whatever text it holds."""
    # News text can hold "</script>" or "<!--": as JSON escapes they are the same characters
    # to JSON.parse, and no markup to the HTML parser.
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, code)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _no_data(what: str) -> str:
    """The plain statement that a block has nothing to show."""
    return f'<p class="no-data">{NO_DATA}: {escape(what)}</p>'


def _table(block: Table) -> str:
    """A table block as an HTML table; every header and cell escaped."""
    if block.empty:
        return _no_data("no rows in the selected period and outlet.")
    head = "".join(f"<th>{escape(c.header)}</th>" for c in block.columns)
    body = []
    for row in block.rows:
        cells = []
        for c in block.columns:
            value = row.get(c.key)
            text = cell(value)
            # Numbers right-aligned; dates and short words (a status, an outlet) on one line.
            if _numeric(value):
                css = ' class="num"'
            elif _day(value) or len(text) <= SHORT_CELL:
                css = ' class="short"'
            else:
                css = ""
            cells.append(f"<td{css}>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = ""
    if block.total > len(block.rows):
        more = f'<p class="more">First {len(block.rows):,} of {block.total:,} rows.</p>'
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{more}"
    )


def _chart(block: Chart, number: int) -> str:
    """A chart block: the box vega-embed draws in, and its specification beside it."""
    if block.spec is None:
        return _no_data("nothing to chart in the selected period and outlet.")
    return (
        f'<div class="chart" id="chart-{number}" data-spec="spec-{number}"></div>'
        f'<script type="application/json" id="spec-{number}">{spec_json(block.spec)}</script>'
    )


def _block(block: Block, number: int) -> str:
    """One block of a page: title, one line about it, then the chart or the table."""
    inner = _chart(block, number) if isinstance(block, Chart) else _table(block)
    about = f'<p class="about">{escape(block.description)}</p>' if block.description else ""
    return (
        f'<section class="block span-{block.span}"><h2>{escape(block.title)}</h2>'
        f"{about}{inner}</section>"
    )


def _document(title: str, here: str, pages: Sequence[Page], site: SiteInfo, body: str) -> str:
    """The frame of every page: head, header with the navigation, the body, the footer."""
    links = [("index", "Overview")] + [(p.slug, p.title) for p in pages]
    nav = "".join(
        f'<a href="{escape(slug)}.html"{" class=here" if slug == here else ""}>{escape(name)}</a>'
        for slug, name in links
    )
    charts = " data-spec=" in body  # a page with no chart loads no script
    scripts = f'<script src="{BUNDLE}"></script>' if charts else ""
    embed = f"<script>{EMBED}</script>" if charts else ""
    notice = f'<p class="notice">{escape(site.notice)}</p>' if site.notice else ""
    filters = " · ".join(f"{escape(name)}: <b>{escape(value)}</b>" for name, value in site.filters)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · newsetl dashboard</title>"
        f"<style>{CSS}</style>{scripts}</head><body>"
        f'<header><div class="brand">newsetl dashboard</div><h1>{escape(title)}</h1>'
        f"<nav>{nav}</nav></header>"
        f'<main><p class="filters">{filters}</p>{notice}{body}</main>'
        f"<footer>Built {escape(site.built_at)} from the warehouse {escape(site.warehouse)}. "
        "Charts: Vega-Lite; hover for details, the ⋯ menu saves a chart as SVG or PNG.</footer>"
        f"{embed}</body></html>\n"
    )


def page_html(page: Page, pages: Sequence[Page], site: SiteInfo) -> str:
    """One view's page."""
    notes = "".join(f'<p class="notice">{escape(n)}</p>' for n in page.notes)
    if page.empty and site.notice is None:
        notes += (
            f'<p class="notice"><b>{NO_DATA}</b> on this page for the selected period and '
            "outlet.</p>"
        )
    blocks = "".join(_block(b, n) for n, b in enumerate(page.blocks, start=1))
    return _document(page.title, page.slug, pages, site, f'{notes}<div class="grid">{blocks}</div>')


FIGURES = (
    ("articles", "articles"),
    ("outlets", "outlets"),
    ("stories", "stories"),
    ("entities", "entities"),
    ("quotes", "quotes"),
    ("removed_lines", "lines removed"),
)


def index_html(pages: Sequence[Page], site: SiteInfo, summary: Row | None) -> str:
    """The index: the period's headline figures and a card for each view."""
    figures = ""
    if summary is not None and summary.get("articles"):
        figures = "".join(
            f'<div class="figure"><div class="n">{cell(summary.get(key) or 0)}</div>'
            f'<div class="what">{escape(what)}</div></div>'
            for key, what in FIGURES
        )
        figures = f'<div class="figures">{figures}</div>'
    elif site.notice is None:
        figures = f'<p class="notice"><b>{NO_DATA}</b> for the selected period and outlet.</p>'
    cards = "".join(
        f'<a class="card" href="{escape(p.slug)}.html"><h2>{escape(p.title)}</h2>'
        f"<p>{escape(NO_DATA + ' for this selection.' if p.empty else p.summary)}</p></a>"
        for p in pages
    )
    return _document("Overview", "index", pages, site, f'{figures}<div class="cards">{cards}</div>')
