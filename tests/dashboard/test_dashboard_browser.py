"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium), opened from file://.

Every page loads with no console error and no request to anything but file://, every chart
draws marks, and a screenshot of each page is written to test-artifacts/dashboard/ for a
person to look at. One browser for the module, one context per site, a new tab per page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that would call home: updates, sync, field trials, QUIC probes.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "dashboard"
PAGES = ["index", "stories", "entities", "quotes", "cleaning", "runs"]
WATCHED = ("error", "warning")
# Every chart box holds a drawn SVG: a mark group with at least one mark in it.
DRAWN = """() => [...document.querySelectorAll('.chart')].every(
    (box) => box.querySelector('svg g.role-mark > *') !== null)"""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: .ci/run installs Debian's chromium"
)


@dataclass
class Visit:
    """What a page did while it loaded."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    charts: int = 0


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright.Browser]:
    """One headless Chromium for the module."""
    with playwright.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def shots(case: str) -> Path:
    """The screenshot folder of one site (test-artifacts/ is in .gitignore)."""
    folder = SHOTS / case
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def site_context(browser: playwright.Browser) -> Iterator[playwright.BrowserContext]:
    """A browser context for the pages of one site, the size of a laptop's screen."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        yield context
    finally:
        context.close()


def visit(context: playwright.BrowserContext, page_file: Path, shot: Path) -> Visit:
    """Open a page from the file system, wait for its charts, screenshot it whole."""
    seen = Visit()
    page = context.new_page()
    # Errors, and Vega's warnings (a spec it had to bend, a field with no values) with them.
    page.on("console", lambda m: seen.errors.append(m.text) if m.type in WATCHED else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.on("request", lambda r: seen.requests.append(r.url))
    try:
        page.goto(page_file.as_uri(), wait_until="load")
        page.wait_for_function(DRAWN, timeout=20_000)
        seen.charts = page.locator(".chart").count()
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    return seen


@pytest.mark.parametrize("site_name", ["seeds_site", "large_site"])
def test_every_page_renders_offline(
    browser: playwright.Browser, site_name: str, request: pytest.FixtureRequest
) -> None:
    """Each page of a site with data: charts drawn, no error or warning, only file:// fetched."""
    site: Path = request.getfixturevalue(site_name)
    folder = shots(site_name.removesuffix("_site"))
    with site_context(browser) as context:
        visits = {
            name: visit(context, site / f"{name}.html", folder / f"{name}.png") for name in PAGES
        }
    for name, seen in visits.items():
        shot = folder / f"{name}.png"
        assert seen.errors == [], (name, seen.errors)
        assert all(u.startswith("file://") for u in seen.requests), (name, seen.requests)
        assert seen.charts >= (0 if name == "index" else 1), name
        assert shot.stat().st_size > 10_000, name


def test_no_data_pages_say_so(browser: playwright.Browser, no_data_sites: dict[str, Path]) -> None:
    """No run, no article in the period, an unknown outlet: each view says so, draws nothing."""
    for case, site in no_data_sites.items():
        folder = shots(case)
        with site_context(browser) as context:
            visits = {n: visit(context, site / f"{n}.html", folder / f"{n}.png") for n in PAGES}
        for name, seen in visits.items():
            assert seen.errors == [] and seen.charts == 0, (case, name, seen.errors)
            assert all(u.startswith("file://") for u in seen.requests), (case, name)
            text = (site / f"{name}.html").read_text("utf-8")
            assert "No data" in text, (case, name)
