"""Title, author and date extraction from a parsed HTML page, preferring what a reader sees."""

from __future__ import annotations

from tasks.bylines import page_author
from tasks.headline import page_title
from tasks.htmltree import MetadataSettings
from tasks.pagedates import page_dates

__all__ = ["MetadataSettings", "page_author", "page_dates", "page_title"]
