"""The dashboard's views: what each page shows, as charts and tables built from the queries."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from tasks import warehouse
from tasks.dashboard import charts
from tasks.dashboard.data import Row, query, report

# Tables show their first rows only: a page stays readable and light on a large warehouse.
TABLE_ROWS = 100
# Attempts charted: a bar each stays readable.
RUN_BARS = 60


@dataclass(frozen=True)
class Column:
    """One column of a table: the row's key and the header a reader sees."""

    key: str
    header: str


@dataclass(frozen=True)
class Chart:
    """A chart block: its Vega-Lite specification, or None when there is no data for it."""

    title: str
    description: str
    spec: dict[str, Any] | None
    span: int = 6  # of the page's 6 grid columns

    @property
    def empty(self) -> bool:
        """Whether the block has nothing to show."""
        return self.spec is None


@dataclass(frozen=True)
class Table:
    """A table block: plain HTML rows, escaped when rendered."""

    title: str
    description: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    total: int  # rows before the cut to TABLE_ROWS
    span: int = 6

    @property
    def empty(self) -> bool:
        """Whether the block has nothing to show."""
        return not self.rows


Block = Chart | Table


@dataclass(frozen=True)
class Page:
    """One page of the site: a view of the warehouse."""

    slug: str  # the file's stem
    title: str
    summary: str  # one line on the index
    blocks: tuple[Block, ...] = ()
    notes: tuple[str, ...] = ()  # caveats shown above the blocks

    @property
    def empty(self) -> bool:
        """Whether no block of the page has data."""
        return all(b.empty for b in self.blocks)


@dataclass(frozen=True)
class Context:
    """What every view is built from: the connection, the filters, the outlets' colour order."""

    # No connection is a warehouse with no run yet: every query answers no rows, so each view
    # is built the same way and says it has no data.
    con: duckdb.DuckDBPyConnection | None
    filters: warehouse.Filters
    outlets: tuple[str, ...] = ()  # the period's outlets, most articles first
    summary: Row = field(default_factory=dict)  # the period's figures (`summary.sql`)

    def query(self, name: str, limit: int | None = None) -> list[Row]:
        """The rows of one of the dashboard's SQL files."""
        return [] if self.con is None else query(self.con, name, self.filters, limit)

    def report(self, name: str, limit: int | None = None) -> list[Row]:
        """The rows of a shipped report (registered as `report_<name>` for later queries)."""
        return [] if self.con is None else report(self.con, name, self.filters, limit)


def chart(
    title: str,
    description: str,
    rows: Sequence[Row],
    build: Callable[[Sequence[Row]], dict[str, Any]],
    span: int = 6,
) -> Chart:
    """A chart block; no rows is no chart at all, never an empty one."""
    return Chart(title, description, build(rows) if rows else None, span)


def table(
    title: str,
    description: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Row],
    span: int = 6,
) -> Table:
    """A table block of the first TABLE_ROWS rows."""
    cols = tuple(Column(key, header) for key, header in columns)
    return Table(title, description, cols, tuple(rows[:TABLE_ROWS]), len(rows), span)


def _count(ctx: Context, key: str) -> str:
    """A figure of the period, with thousands separated."""
    value = ctx.summary.get(key)
    return f"{value:,}" if isinstance(value, int) else "0"


def stories_page(ctx: Context) -> Page:
    """Stories over time: each story's articles by outlet and day, and how they relate."""
    timeline = ctx.query("story_timeline")
    links = ctx.query("story_links")
    coverage = ctx.report("story_coverage")
    return Page(
        "stories",
        "Stories over time",
        f"{_count(ctx, 'stories')} stories: each one's articles by outlet and day, and the "
        "copies, excerpts and rewrites between them.",
        (
            chart(
                "Stories over time",
                "The stories with most articles in the period (their count in brackets). The "
                "grey line runs from a story's first article to its last; each mark is an "
                "article, coloured by outlet; an open mark copies, excerpts or rewrites an "
                "earlier one. Click an outlet in the legend to pick it out.",
                timeline,
                lambda rows: charts.story_timeline(rows, ctx.outlets),
            ),
            chart(
                "Relations between articles",
                "Links the run found between the period's articles.",
                links,
                charts.link_counts,
                span=2,
            ),
            table(
                "Copies, excerpts and rewrites",
                "Each link, strongest first: the article, and the one it copies, excerpts, "
                "rewrites or shares its story with.",
                [
                    ("relation", "Relation"),
                    ("score", "Score"),
                    ("day", "Day"),
                    ("outlet", "Outlet"),
                    ("article_title", "Article"),
                    ("other_day", "Other's day"),
                    ("other_outlet", "Other's outlet"),
                    ("other_title", "Other article"),
                ],
                links,
                span=4,
            ),
            table(
                "Coverage by outlet",
                "Report story_coverage: each story's articles per outlet, biggest stories first.",
                [
                    ("story_title", "Story"),
                    ("story_articles", "Story articles"),
                    ("outlet", "Outlet"),
                    ("articles", "Articles"),
                    ("duplicates", "Copies"),
                    ("first_published_at", "First published"),
                    ("first_run_date", "First run date"),
                    ("last_run_date", "Last run date"),
                ],
                coverage,
            ),
        ),
    )


KINDS = (("people", "People"), ("organisations", "Organisations"), ("places", "Places"))
# Ranks of the shipped top_entities report read: enough for the first twelve of each kind.
ENTITY_RANKS = 1000
TOP_ENTITIES = 50


def entities_page(ctx: Context) -> Page:
    """Entities: the most mentioned people, organisations and places, and their days."""
    # The shipped ranking, long enough for the first twelve of each kind.
    top = ctx.report("top_entities", limit=ENTITY_RANKS)
    kinds = ctx.query("entity_kinds")
    days = ctx.query("entity_days")
    bars = tuple(
        chart(
            f"Most mentioned {name.lower()}",
            f"The {name.lower()} mentioned most in the period.",
            [r for r in kinds if r["kind"] == kind],
            functools.partial(charts.entity_bars, kind=kind),
            span=2,
        )
        for kind, name in KINDS
    )
    return Page(
        "entities",
        "Entities",
        f"The most mentioned of {_count(ctx, 'entities')} named entities (people, "
        "organisations, places) and their mentions day by day.",
        (
            *bars,
            chart(
                "Mentions day by day",
                "Mentions per day of the eight most mentioned entities. Click a name in the "
                "legend to pick it out.",
                days,
                charts.entity_days,
            ),
            table(
                "Top entities",
                f"Report top_entities: the {TOP_ENTITIES} most mentioned entities of the period.",
                [
                    ("entity", "Entity"),
                    ("label", "Type"),
                    ("mentions", "Mentions"),
                    ("articles", "Articles"),
                    ("outlets", "Outlets"),
                    ("first_run_date", "First run date"),
                    ("last_run_date", "Last run date"),
                ],
                top[:TOP_ENTITIES],
            ),
        ),
    )


def quotes_page(ctx: Context) -> Page:
    """Quotes: who is quoted by outlet, speaker gender shares, each quote's reach."""
    # Registered for `quoted_by_outlet`, which splits these speakers' quotes by outlet.
    ctx.report("most_quoted_speakers", limit=15)
    speakers = ctx.query("quoted_by_outlet")
    gender = ctx.report("gender_balance")
    reach = ctx.report("quote_reach", limit=100)
    blocks = (
        chart(
            "Who is quoted, by outlet",
            "The fifteen most quoted speakers; each bar split by the outlet that printed the "
            "quotes. Click an outlet in the legend.",
            speakers,
            lambda rows: charts.quoted_by_outlet(rows, ctx.outlets),
        ),
        chart(
            "Women among the people quoted",
            "Report gender_balance: per outlet and month, the share of women among the named "
            "people quoted whose gender is known (the GenderGapTracker's measure).",
            gender,
            charts.women_share,
            span=3,
        ),
        chart(
            "Quoted people by gender",
            "The same people over the whole period, those of unknown gender included.",
            gender,
            charts.gender_shares,
            span=3,
        ),
        chart(
            "Quote reach",
            "The quotes carried by most articles, coloured by the outlet that reported them "
            "first. Hover a bar for the whole quote and the outlets that repeated it.",
            reach[:15],
            lambda rows: charts.quote_reach(rows, ctx.outlets),
        ),
        table(
            "Quotes and their reach",
            "Report quote_reach: each quote, its first appearance and the outlets that "
            "repeated it on a later run date.",
            [
                ("speaker", "Speaker"),
                ("quote", "Quote"),
                ("articles", "Articles"),
                ("outlets", "Outlets"),
                ("first_outlet", "First outlet"),
                ("first_published_at", "First published"),
                ("first_run_date", "First run date"),
                ("later_outlets", "Repeated later by"),
            ],
            reach,
        ),
    )
    return Page(
        "quotes",
        "Quotes",
        f"{_count(ctx, 'quotes')} quotes: who is quoted by which outlet, how many of them "
        "are women, and how far the quotes travelled.",
        blocks,
    )


def cleaning_page(ctx: Context) -> Page:
    """Cleaning audit: what the cleaning rules removed, by rule and outlet, with examples."""
    audit = ctx.report("cleaning_audit")
    return Page(
        "cleaning",
        "Cleaning audit",
        f"{_count(ctx, 'removed_lines')} boilerplate lines removed, by rule and outlet, with "
        "examples.",
        (
            chart(
                "Lines removed by rule",
                "Each bar a cleaning rule, split by outlet. Click an outlet in the legend.",
                audit,
                lambda rows: charts.removed_by_rule(rows, ctx.outlets),
            ),
            table(
                "Removed lines by outlet and rule",
                "Report cleaning_audit: lines and articles per rule, with an example line.",
                [
                    ("outlet", "Outlet"),
                    ("reason", "Rule"),
                    ("lines", "Lines"),
                    ("articles", "Articles"),
                    ("example", "Example"),
                ],
                audit,
            ),
        ),
    )


def runs_page(ctx: Context) -> Page:
    """Run health: attempts, durations, rejects by reason, warnings."""
    runs = ctx.query("runs")
    rejects = ctx.query("rejects")
    warned = ctx.query("warnings")
    failed = sum(1 for r in runs if r["status"] != "succeeded")
    notes: tuple[str, ...] = ()
    if ctx.filters.outlet is not None:
        notes = (
            f"Runs are not per outlet: shown are the runs that wrote articles of "
            f"{ctx.filters.outlet}, with all their rejects and warnings.",
        )
    return Page(
        "runs",
        "Run health",
        f"{len(runs)} run attempts ({failed} not succeeded), rejects by reason, warnings.",
        (
            chart(
                "Duration of each attempt",
                f"Wall-clock seconds from start to end, coloured by how the attempt ended (the "
                f"last {RUN_BARS} attempts).",
                runs[-RUN_BARS:],
                charts.run_durations,
                span=3,
            ),
            chart(
                "Inputs, articles and rejects",
                f"What each attempt read, wrote, reused from earlier runs and rejected (the last "
                f"{RUN_BARS} attempts).",
                runs[-RUN_BARS:],
                charts.run_counts,
                span=3,
            ),
            chart(
                "Rejects by reason",
                "Inputs that did not become articles.",
                rejects,
                charts.rejects_by_reason,
            ),
            table(
                "Attempts",
                "Every attempt of the period's run dates, failed ones included; latest first.",
                [
                    ("run_date", "Run date"),
                    ("attempt", "Attempt"),
                    ("status", "Status"),
                    ("started_at", "Started (UTC)"),
                    ("seconds", "Seconds"),
                    ("inputs", "Inputs"),
                    ("articles", "Articles"),
                    ("reused", "Reused"),
                    ("rejects", "Rejects"),
                    ("quotes", "Quotes"),
                    ("warnings", "Warnings"),
                    ("error", "Error"),
                ],
                runs[::-1],
            ),
            table(
                "Rejects",
                "Rejected inputs by reason and stage, with an example.",
                [
                    ("reason", "Reason"),
                    ("stage", "Stage"),
                    ("inputs", "Inputs"),
                    ("run_dates", "Run dates"),
                    ("example_input", "Example input"),
                    ("example_detail", "Example detail"),
                ],
                rejects,
            ),
            table(
                "Warnings",
                "Warn-level checks that found rows, and what the cross-date step rebuilt.",
                [
                    ("run_date", "Run date"),
                    ("run_id", "Run"),
                    ("status", "Status"),
                    ("warning", "Warning"),
                ],
                warned,
            ),
        ),
        notes,
    )
