"""The dashboard's charts: Vega-Lite specifications built with Altair from query rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import altair as alt

from tasks.dashboard.data import Row

Spec = dict[str, Any]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
# Days on every time axis are calendar days: shown in UTC, so no reader's time zone moves one.
DAY_TICKS = 10  # at most, about
DAY_SCALE = alt.Scale(type="utc", padding=16)  # a mark on the first day clears the axis
# The relation of an article to an earlier one, strongest first, each with its own shape.
RELATIONS = ("copy", "near copy", "excerpt", "rewrite", "own text")
RELATION_SHAPES = ("square", "diamond", "triangle-up", "triangle-down", "circle")
LINKS = ("copy", "near copy", "excerpt", "rewrite", "same story")
LINK_COLOURS = ("#d62728", "#ff7f0e", "#9467bd", "#1f77b4", "#7f7f7f")
KIND_COLOURS = {"people": "#4c78a8", "organisations": "#f58518", "places": "#54a24b"}
STATUSES = ("succeeded", "failed", "abandoned", "running")
STATUS_COLOURS = ("#54a24b", "#e45756", "#9d9d9d", "#f2cf5b")
GENDERS = ("female", "male", "unknown")
GENDER_COLOURS = ("#b279a2", "#4c78a8", "#c7c7c7")
LABEL_CHARS = 70
# Tableau 20, its ten strong colours first: the first ten outlets get colours far apart.
_TABLEAU20 = (
    "#4c78a8", "#9ecae9", "#f58518", "#ffbf79", "#54a24b", "#88d27a", "#b79a20", "#f2cf5b",
    "#439894", "#83bcb6", "#e45756", "#ff9d98", "#79706e", "#bab0ac", "#d67195", "#fcbfd2",
    "#b279a2", "#d6a5c9", "#9e765f", "#d8b5a5",
)  # fmt: skip
OUTLET_COLOURS = _TABLEAU20[0::2] + _TABLEAU20[1::2]
# Counts are whole numbers: no label at 0.5 on a short axis (Vega-Lite can ignore tickMinStep
# on a small domain, and a "d" format alone prints 0, 1, 1, 2, 2).
COUNT_AXIS = alt.Axis(
    tickMinStep=1, tickCount=8, format="d", labelExpr="datum.value % 1 ? '' : datum.label"
)
ROW_PX = 24
# A legend entry's height, and the room its titles and gaps take (Vega-Lite's defaults).
LEGEND_ENTRY_PX = 16
LEGEND_TITLES_PX = 50


def _json_value(value: object) -> object:
    """A value Vega-Lite reads: dates as ISO text, lists as one line of text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


def _data(rows: Sequence[Row]) -> alt.InlineData:
    """Rows inlined in the specification: the page needs no file and no server."""
    return alt.InlineData(values=[{k: _json_value(v) for k, v in row.items()} for row in rows])


def short(text: object, limit: int = LABEL_CHARS) -> str:
    """A label cut to `limit` characters, with an ellipsis when cut."""
    value = "" if text is None else " ".join(str(text).split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _finish(chart: alt.TopLevelMixin) -> Spec:
    """The house style, applied to every chart, and the specification as a dict."""
    styled = (
        chart.configure(font=FONT, background="white")
        .configure_axis(
            labelFontSize=12,
            titleFontSize=13,
            titleFontWeight="normal",
            labelLimit=380,
            gridColor="#ececec",
        )
        .configure_legend(labelFontSize=12, titleFontSize=12, labelLimit=240, orient="right")
        .configure_view(stroke=None)
    )
    spec: Spec = styled.to_dict()
    return spec


def _outlet_colour(
    rows: Sequence[Row], outlets: Sequence[str], field: str = "outlet", title: str = "Outlet"
) -> alt.Color:
    """One colour per outlet, the same on every page, in a legend of the chart's outlets only."""
    # The site's outlet order (most articles first) gives each outlet its colour.
    present = {str(r[field]) for r in rows if r.get(field) is not None}
    order = [o for o in outlets if o in present] + sorted(present - set(outlets))
    place = {o: n for n, o in enumerate(outlets)}
    colours = [OUTLET_COLOURS[place.get(o, len(place)) % len(OUTLET_COLOURS)] for o in order]
    return alt.Color(
        f"{field}:N",
        title=title,
        scale=alt.Scale(domain=order, range=colours),
        legend=alt.Legend(symbolLimit=40),
    )


def _day_axis(rows: Sequence[Row], *fields: str) -> alt.Axis:
    """A time axis ticked on whole days, a few days apart on a long period."""
    # Left to itself, Vega ticks a period of a day or two by the hour, each labelled with the day.
    days = [v for r in rows for f in fields if isinstance(v := r.get(f), date)]
    span = (max(days) - min(days)).days if days else 0
    step = max(1, -(-span // DAY_TICKS))  # ceiling: at most about DAY_TICKS ticks
    return alt.Axis(
        format="%-d %b %Y",
        labelAngle=0,
        labelOverlap=True,
        tickCount=alt.TimeIntervalStep(interval="day", step=step),
    )


def _rows_height(
    rows: Sequence[Row], field: str, per_row: int = ROW_PX, legend_entries: int = 0
) -> int:
    """A chart's height for one band per distinct value of `field`, and no less than its
    legend's: Vega-Lite clips a legend taller than the chart."""
    legend = LEGEND_ENTRY_PX * legend_entries + LEGEND_TITLES_PX if legend_entries else 0
    return max(60, per_row * len({r.get(field) for r in rows}), legend)


def _fit_width(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """As wide as its box, as tall as its bands."""
    return chart.properties(
        width="container", autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
    )


def story_timeline(rows: Sequence[Row], outlets: Sequence[str]) -> Spec:
    """Each story's articles by outlet and day, over a line from its first to its last day."""
    # An article that copies, excerpts or rewrites another is an open mark, larger: drawn over
    # the article it repeats (often of the same day), both stay visible.
    labelled = [{**r, "story": f"{short(r['story_title'])} ({r['story_articles']})"} for r in rows]
    order = list(dict.fromkeys(str(r["story"]) for r in labelled))
    story = alt.Y("story:N", title=None, sort=order, axis=alt.Axis(labelLimit=420))
    pick = alt.selection_point(fields=["outlet"], bind="legend")
    base = alt.Chart(_data(labelled))
    span = base.mark_rule(color="#c4c8d0", strokeWidth=3).encode(
        x=alt.X(
            "first_day:T",
            scale=DAY_SCALE,
            axis=_day_axis(labelled, "first_day", "last_day"),
            title="Publication day (run date when the article has none)",
        ),
        x2="last_day:T",
        y=story,
    )
    encoding: dict[str, Any] = {
        "x": alt.X("day:T", scale=DAY_SCALE),
        "y": story,
        "color": _outlet_colour(labelled, outlets),
        "shape": alt.Shape(
            "relation:N",
            title="Article is",
            scale=alt.Scale(domain=list(RELATIONS), range=list(RELATION_SHAPES)),
        ),
        "opacity": alt.condition(pick, alt.value(0.95), alt.value(0.12)),
        "tooltip": [
            alt.Tooltip("story_title:N", title="Story"),
            alt.Tooltip("article_title:N", title="Article"),
            alt.Tooltip("outlet:N", title="Outlet"),
            alt.Tooltip("day:T", title="Day", timeUnit="utcyearmonthdate", format="%-d %b %Y"),
            alt.Tooltip("relation:N", title="Article is"),
        ],
    }
    own = (
        base.transform_filter(alt.datum.relation == "own text")
        .mark_point(filled=True, size=100)
        .encode(**encoding)
        .add_params(pick)
    )
    repeats = (
        base.transform_filter(alt.datum.relation != "own text")
        .mark_point(filled=False, size=260, strokeWidth=2.5)
        .encode(**encoding)
    )
    entries = len({r.get("outlet") for r in labelled}) + len(RELATIONS)
    height = _rows_height(labelled, "story", 30, legend_entries=entries)
    chart = alt.layer(span, own, repeats).properties(height=height)
    return _finish(_fit_width(chart))


def link_counts(rows: Sequence[Row]) -> Spec:
    """How many links of each relation hold between the period's articles."""
    chart = (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            y=alt.Y("relation:N", title=None, sort=list(LINKS)),
            x=alt.X("count():Q", title="Links between articles", axis=COUNT_AXIS),
            color=alt.Color(
                "relation:N",
                title="Relation",
                scale=alt.Scale(domain=list(LINKS), range=list(LINK_COLOURS)),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("relation:N", title="Relation"),
                alt.Tooltip("count():Q", title="Links"),
                alt.Tooltip("mean(score):Q", title="Mean score", format=".2f"),
            ],
        )
        .properties(height=_rows_height(rows, "relation", 30))
    )
    return _finish(_fit_width(chart))


def entity_bars(rows: Sequence[Row], kind: str) -> Spec:
    """The most mentioned entities of one kind, longest bar first."""
    chart = (
        alt.Chart(_data(rows))
        .mark_bar(color=KIND_COLOURS.get(kind, "#4c78a8"))
        .encode(
            y=alt.Y("entity:N", title=None, sort="-x", axis=alt.Axis(labelLimit=200)),
            x=alt.X("mentions:Q", title="Mentions", axis=COUNT_AXIS),
            tooltip=[
                alt.Tooltip("entity:N", title="Name"),
                alt.Tooltip("label:N", title="Type"),
                alt.Tooltip("mentions:Q", title="Mentions"),
                alt.Tooltip("articles:Q", title="Articles"),
                alt.Tooltip("outlets:Q", title="Outlets"),
            ],
        )
        .properties(height=_rows_height(rows, "entity", 22))
    )
    return _finish(_fit_width(chart))


def entity_days(rows: Sequence[Row]) -> Spec:
    """Mentions per day of the most mentioned entities: one line each."""
    pick = alt.selection_point(fields=["entity"], bind="legend")
    chart = (
        alt.Chart(_data(rows))
        .mark_line(
            point=alt.OverlayMarkDef(size=40, filled=True), strokeWidth=2, interpolate="monotone"
        )
        .encode(
            x=alt.X(
                "day:T",
                title="Day (publication, or run date when undated)",
                scale=DAY_SCALE,
                axis=_day_axis(rows, "day"),
            ),
            y=alt.Y("mentions:Q", title="Mentions", axis=COUNT_AXIS),
            color=alt.Color(
                "entity:N", title="Entity", scale=alt.Scale(range=list(OUTLET_COLOURS))
            ),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.12)),
            tooltip=[
                alt.Tooltip("entity:N", title="Entity"),
                alt.Tooltip("label:N", title="Type"),
                alt.Tooltip("day:T", title="Day", timeUnit="utcyearmonthdate", format="%-d %b %Y"),
                alt.Tooltip("mentions:Q", title="Mentions"),
                alt.Tooltip("articles:Q", title="Articles"),
            ],
        )
        .add_params(pick)
        .properties(height=320)
    )
    return _finish(_fit_width(chart))


def _outlet_bars(
    rows: Sequence[Row],
    outlets: Sequence[str],
    y: alt.Y,
    x: alt.X,
    tooltip: list[alt.Tooltip],
    height: int,
) -> Spec:
    """Horizontal bars split by outlet, one colour per outlet; a legend click picks one."""
    pick = alt.selection_point(fields=["outlet"], bind="legend")
    chart = (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            y=y,
            x=x,
            color=_outlet_colour(rows, outlets),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.2)),
            tooltip=tooltip,
        )
        .add_params(pick)
        .properties(height=height)
    )
    return _finish(_fit_width(chart))


def quoted_by_outlet(rows: Sequence[Row], outlets: Sequence[str]) -> Spec:
    """The most quoted speakers, their quotes split by the outlet that printed them."""
    order = list(dict.fromkeys(str(r["speaker"]) for r in rows))
    return _outlet_bars(
        rows,
        outlets,
        y=alt.Y("speaker:N", title=None, sort=order, axis=alt.Axis(labelLimit=260)),
        x=alt.X("sum(quotes):Q", title="Quotes", axis=COUNT_AXIS),
        tooltip=[
            alt.Tooltip("speaker:N", title="Speaker"),
            alt.Tooltip("outlet:N", title="Outlet"),
            alt.Tooltip("quotes:Q", title="Quotes in this outlet"),
            alt.Tooltip("articles:Q", title="Articles"),
            alt.Tooltip("speaker_quotes:Q", title="Quotes in all"),
        ],
        height=_rows_height(rows, "speaker", legend_entries=len({r.get("outlet") for r in rows})),
    )


def quote_reach(rows: Sequence[Row], outlets: Sequence[str]) -> Spec:
    """The most widely reported quotes: how many articles carried each, coloured by the first."""
    labelled = [
        {
            **r,
            "label": f"{short(r['speaker'] or 'unattributed', 28)}: “{short(r['quote'], 60)}”",
            "first_outlet": r["first_outlet"] or "(unknown)",
        }
        for r in rows
    ]
    order = list(dict.fromkeys(str(r["label"]) for r in labelled))
    chart = (
        alt.Chart(_data(labelled))
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=460)),
            x=alt.X("articles:Q", title="Articles that carried the quote", axis=COUNT_AXIS),
            color=_outlet_colour(labelled, outlets, "first_outlet", "First reported by"),
            tooltip=[
                alt.Tooltip("speaker:N", title="Speaker"),
                alt.Tooltip("quote:N", title="Quote"),
                alt.Tooltip("articles:Q", title="Articles"),
                alt.Tooltip("outlets:Q", title="Outlets"),
                alt.Tooltip("first_outlet:N", title="First reported by"),
                alt.Tooltip(
                    "first_run_date:T",
                    title="First run date",
                    timeUnit="utcyearmonthdate",
                    format="%-d %b %Y",
                ),
                alt.Tooltip("later_outlets:N", title="Picked up later by"),
            ],
        )
        .properties(height=_rows_height(labelled, "label"))
    )
    return _finish(_fit_width(chart))


MONTH_AXIS = alt.Axis(format="%b %Y", labelAngle=0)
# The report's columns of people by gender (female, male, unknown), folded into one.
GENDER_COLUMNS = ("women", "men", "unknown_gender")
# Orange below parity, white at it, purple above: dark text stays readable on every cell.
PARITY_SCALE = alt.Scale(domain=[0, 0.5, 1], range=["#e8913a", "#f7f7f7", "#8e6bbf"])


def women_share(rows: Sequence[Row]) -> Spec:
    """The share of women among the quoted people of known gender, per outlet and month."""
    base = alt.Chart(_data(rows)).encode(
        x=alt.X("month:O", timeUnit="utcyearmonth", title="Month", axis=MONTH_AXIS),
        y=alt.Y("outlet:N", title=None, axis=alt.Axis(labelLimit=220)),
        tooltip=[
            alt.Tooltip("outlet:N", title="Outlet"),
            alt.Tooltip("month:O", title="Month", timeUnit="utcyearmonth", format="%B %Y"),
            alt.Tooltip("share_women:Q", title="Women (of known gender)", format=".0%"),
            alt.Tooltip("women:Q", title="Women quoted"),
            alt.Tooltip("men:Q", title="Men quoted"),
            alt.Tooltip("unknown_gender:Q", title="Gender unknown"),
            alt.Tooltip("share_quotes_of_women:Q", title="Quotes by women", format=".0%"),
        ],
    )
    # A cell with no person of known gender has no share: grey, marked "n/a".
    blank = base.mark_rect(color="#e9ebef", stroke="white", strokeWidth=2)
    known = alt.datum.share_women != None  # noqa: E711 - a Vega expression, not Python
    cells = (
        base.transform_filter(known)
        .mark_rect(stroke="white", strokeWidth=2)
        .encode(
            color=alt.Color(
                "share_women:Q",
                title="Women",
                scale=PARITY_SCALE,
                legend=alt.Legend(format=".0%", gradientLength=140),
            )
        )
    )
    labels = base.mark_text(fontSize=12, color="#1d2330").encode(
        text=alt.condition(known, alt.Text("share_women:Q", format=".0%"), alt.value("n/a"))
    )
    chart = alt.layer(blank, cells, labels).properties(height=_rows_height(rows, "outlet", 28))
    return _finish(_fit_width(chart))


def gender_shares(rows: Sequence[Row]) -> Spec:
    """Quoted people by gender per outlet over the period, unknown included: 100 % a bar."""
    chart = (
        alt.Chart(_data(rows))
        .transform_fold(list[str | alt.FieldName](GENDER_COLUMNS), as_=["column", "count"])
        .transform_calculate(
            gender="datum.column === 'women' ? 'female' : datum.column === 'men' ? 'male' "
            ": 'unknown'",
            gender_order="indexof(['women', 'men', 'unknown_gender'], datum.column)",
        )
        .mark_bar()
        .encode(
            y=alt.Y("outlet:N", title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X(
                "sum(count):Q", stack="normalize", title="Quoted people", axis=alt.Axis(format="%")
            ),
            color=alt.Color(
                "gender:N",
                title="Gender",
                scale=alt.Scale(domain=list(GENDERS), range=list(GENDER_COLOURS)),
            ),
            order=alt.Order("gender_order:Q"),
            tooltip=[
                alt.Tooltip("outlet:N", title="Outlet"),
                alt.Tooltip("gender:N", title="Gender"),
                alt.Tooltip("sum(count):Q", title="Quoted people (summed over months)"),
            ],
        )
        .properties(height=_rows_height(rows, "outlet", 28))
    )
    return _finish(_fit_width(chart))


def removed_by_rule(rows: Sequence[Row], outlets: Sequence[str]) -> Spec:
    """Lines removed by each cleaning rule, split by outlet."""
    return _outlet_bars(
        rows,
        outlets,
        y=alt.Y("reason:N", title="Cleaning rule", sort="-x"),
        x=alt.X("sum(lines):Q", title="Lines removed", axis=COUNT_AXIS),
        tooltip=[
            alt.Tooltip("reason:N", title="Rule"),
            alt.Tooltip("outlet:N", title="Outlet"),
            alt.Tooltip("lines:Q", title="Lines"),
            alt.Tooltip("articles:Q", title="Articles"),
            alt.Tooltip("example:N", title="Example"),
        ],
        height=_rows_height(rows, "reason", 22, len({r.get("outlet") for r in rows})),
    )


def _attempt_label(rows: Sequence[Row]) -> list[Row]:
    """Each attempt named by its run date and its number within that date."""
    return [{**r, "attempt_label": f"{_json_value(r['run_date'])} #{r['attempt']}"} for r in rows]


ATTEMPT_AXIS = alt.Axis(labelAngle=-30)


def run_durations(rows: Sequence[Row]) -> Spec:
    """How long each attempt took, coloured by how it ended; an attempt that failed is named."""
    base = alt.Chart(_data(_attempt_label(rows))).encode(
        x=alt.X("attempt_label:N", title="Run date and attempt", sort=None, axis=ATTEMPT_AXIS),
        y=alt.Y("seconds:Q", title="Duration (seconds)"),
        tooltip=[
            alt.Tooltip("run_id:N", title="Run"),
            alt.Tooltip("status:N", title="Status"),
            alt.Tooltip(
                "started_at:T",
                title="Started (UTC)",
                timeUnit="utcyearmonthdatehoursminutesseconds",
                format="%Y-%m-%d %H:%M:%S",
            ),
            alt.Tooltip("seconds:Q", title="Seconds"),
            alt.Tooltip("error:N", title="Error"),
        ],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "status:N",
            title="Status",
            scale=alt.Scale(domain=list(STATUSES), range=list(STATUS_COLOURS)),
        )
    )
    # A failed attempt often ends at once: its bar is too short to see, its status is written.
    failed = (
        base.transform_filter(alt.datum.status != "succeeded")
        .mark_text(dy=-8, fontSize=12, fontWeight="bold", color=STATUS_COLOURS[1])
        .encode(text="status:N")
    )
    layers = [bars, failed] if any(r["status"] != "succeeded" for r in rows) else [bars]
    return _finish(_fit_width(alt.layer(*layers).properties(height=260)))


RUN_MEASURES = ("inputs", "articles", "reused", "rejects")


def run_counts(rows: Sequence[Row]) -> Spec:
    """Inputs, articles written, articles reused and rejects of each attempt, side by side."""
    measures = list(RUN_MEASURES)
    chart = (
        alt.Chart(_data(_attempt_label(rows)))
        .transform_fold(list[str | alt.FieldName](measures), as_=["measure", "count"])
        .mark_bar()
        .encode(
            x=alt.X("attempt_label:N", title="Run date and attempt", sort=None, axis=ATTEMPT_AXIS),
            xOffset=alt.XOffset("measure:N", sort=measures),
            y=alt.Y("count:Q", title="Count", axis=COUNT_AXIS),
            color=alt.Color(
                "measure:N",
                title="Count of",
                sort=measures,
                scale=alt.Scale(
                    domain=measures, range=["#9ecae9", "#4c78a8", "#72b7b2", "#e45756"]
                ),
            ),
            tooltip=[
                alt.Tooltip("run_id:N", title="Run"),
                alt.Tooltip("measure:N", title="Count of"),
                alt.Tooltip("count:Q", title="Count"),
            ],
        )
        .properties(height=260)
    )
    return _finish(_fit_width(chart))


def rejects_by_reason(rows: Sequence[Row]) -> Spec:
    """Rejected inputs by reason, coloured by the stage that rejected them."""
    chart = (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            y=alt.Y("reason:N", title="Reason", sort="-x"),
            x=alt.X("sum(inputs):Q", title="Rejected inputs", axis=COUNT_AXIS),
            color=alt.Color("stage:N", title="Stage", scale=alt.Scale(scheme="set2")),
            tooltip=[
                alt.Tooltip("reason:N", title="Reason"),
                alt.Tooltip("stage:N", title="Stage"),
                alt.Tooltip("inputs:Q", title="Inputs"),
                alt.Tooltip("example_detail:N", title="Example"),
            ],
        )
        .properties(height=_rows_height(rows, "reason", 30))
    )
    return _finish(_fit_width(chart))
