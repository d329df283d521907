"""The dashboard: a static site of charts and tables over the warehouse, opened with no network.

`build_site(warehouse, out, filters)` writes one page per view (stories over time, entities,
quotes, cleaning audit, run health) and an index into `out`; `site_server` serves that
folder on 127.0.0.1.
"""

from tasks.dashboard.data import DashboardError
from tasks.dashboard.pages import Chart, Column, Page, Table
from tasks.dashboard.site import MARKER, build_site, check_out, describe, site_server
from tasks.warehouse import Filters

__all__ = [
    "MARKER",
    "Chart",
    "Column",
    "DashboardError",
    "Filters",
    "Page",
    "Table",
    "build_site",
    "check_out",
    "describe",
    "site_server",
]
