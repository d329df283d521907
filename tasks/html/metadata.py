"""Title, author and date extraction from a parsed HTML page, preferring what a reader sees."""

from __future__ import annotations

from tasks.html.bylines import page_author
from tasks.html.headline import page_title
from tasks.html.pagedates import page_dates
from tasks.html.tree import MetadataSettings

__all__ = ["MetadataSettings", "page_author", "page_dates", "page_title"]
