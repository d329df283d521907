"""Build the dashboard site: query the warehouse, write the pages into a folder, serve it."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path

import altair as alt
import vl_convert

from tasks import warehouse
from tasks.dashboard.data import DashboardError, Row, snapshot
from tasks.dashboard.pages import (
    Context,
    Page,
    cleaning_page,
    entities_page,
    quotes_page,
    runs_page,
    stories_page,
)
from tasks.dashboard.render import BUNDLE, SiteInfo, index_html, page_html

# A folder holding this file was written by `build_site`, so a new build may replace it;
# any other folder with files in it is never deleted.
MARKER = ".newsetl-dashboard"
# Beside the script bundle: the versions it was made for, so a rebuild can keep it.
BUNDLE_KEY = "assets/vega-embed.version"


def check_out(out: Path) -> str | None:
    """Why the site cannot be written to `out`, or None when it can."""
    out = Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        return "it is a file, not a folder"
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        return "it holds files that are no newsetl dashboard: choose a new or empty folder"
    # The site is built beside `out` and moved in: the nearest folder that exists must take it.
    existing = out.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write in {existing}"
    return None


def describe(filters: warehouse.Filters) -> tuple[tuple[str, str], ...]:
    """The filters in words, for the top of every page."""
    since, until = filters.since, filters.until
    if since and until:
        period = f"{since} to {until}"
    elif since:
        period = f"from {since}"
    elif until:
        period = f"until {until}"
    else:
        period = "all dates"
    return (
        ("Period", f"{period} (publication day; run date when an article has none)"),
        ("Outlet", filters.outlet if filters.outlet is not None else "all outlets"),
    )


def views(ctx: Context) -> list[Page]:
    """The site's views, in the order of its navigation."""
    return [
        stories_page(ctx),
        entities_page(ctx),
        quotes_page(ctx),
        cleaning_page(ctx),
        runs_page(ctx),
    ]


def collect(path: Path, filters: warehouse.Filters) -> tuple[list[Page], Row | None, str | None]:
    """The pages, the index's figures, and why there is no data at all (no run yet), if so."""
    try:
        con = warehouse.connect(path)
    except warehouse.WarehouseError as err:
        return views(Context(None, filters)), None, f"No data: {err}."
    with con:
        snapshot(con)
        first = Context(con, filters)
        outlets = tuple(str(r["outlet"]) for r in first.query("outlets"))
        summary = first.query("summary")[0]  # an aggregate: always one row
        return views(Context(con, filters, outlets, summary)), summary, None


def bundle_key() -> str:
    """What the script bundle depends on: the VlConvert release and Altair's Vega-Lite."""
    return f"vl-convert {metadata.version('vl-convert-python')}, vega-lite {vega_lite_version()}"


def vega_lite_version() -> str:
    """The Vega-Lite version (major.minor) of the specs Altair writes."""
    return ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


@functools.cache
def _bundled(key: str) -> str:
    """Vega, Vega-Lite and Vega-Embed in one script, of the Vega-Lite version Altair writes."""
    # The snippet is optional (Altair's inline HTML leaves it out); the stub says otherwise.
    return str(vl_convert.javascript_bundle(vl_version=vega_lite_version()))  # type: ignore[call-arg]


def bundle(previous: Path) -> str:
    """The script bundle: the previous build's in `previous` when made for the same versions
    (VlConvert takes seconds to bundle it), else a new one."""
    key = bundle_key()
    try:
        if (previous / BUNDLE_KEY).read_text(encoding="utf-8") == key:
            return (previous / BUNDLE).read_text(encoding="utf-8")
    except OSError:
        pass
    return _bundled(key)


def build_site(
    path: Path,
    out: Path,
    filters: warehouse.Filters = warehouse.Filters(),  # noqa: B008 - frozen, one default is safe
) -> list[Path]:
    """Write the site of the warehouse at `path` into `out`; return its pages, index first."""
    out = Path(os.path.abspath(out))
    problem = check_out(out)
    if problem is not None:
        raise DashboardError(f"cannot write the dashboard into {out}: {problem}")
    pages, summary, notice = collect(path, filters)
    site = SiteInfo(str(path), describe(filters), f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", notice)
    files = {"index.html": index_html(pages, site, summary)}
    files |= {f"{p.slug}.html": page_html(p, pages, site) for p in pages}
    out.parent.mkdir(parents=True, exist_ok=True)
    # Built beside `out`, on the same file system, then moved in: a reader never sees half.
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the site from a web server's user
        (tmp / BUNDLE).parent.mkdir()
        (tmp / BUNDLE).write_text(bundle(out), encoding="utf-8")
        (tmp / BUNDLE_KEY).write_text(bundle_key(), encoding="utf-8")
        (tmp / MARKER).write_text("Written by `newsetl dashboard`: a new build replaces it.\n")
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / name for name in files]


def _replace(new: Path, out: Path) -> None:
    """Put the folder `new` in the place of `out`, the old site moved aside, then deleted."""
    if not out.exists():
        new.rename(out)
        return
    old = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.old")
    out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def site_server(folder: Path, port: int) -> ThreadingHTTPServer:
    """An HTTP server of `folder` on 127.0.0.1, bound at once: a port in use fails before work."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=os.path.abspath(folder))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)
