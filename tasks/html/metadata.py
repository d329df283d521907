"""Title, author and date extraction from a parsed HTML page, preferring what a reader sees."""

from __future__ import annotations

from tasks.html.bylines import page_author
from tasks.html.headline import Page, page_title, read_page
from tasks.html.pagedates import page_dates
from tasks.html.tree import MetadataSettings

__all__ = ["MetadataSettings", "Page", "page_author", "page_dates", "page_title", "read_page"]
