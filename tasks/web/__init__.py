"""Web: fetch pages politely and keep them in a WARC archive; shared by the stages that fetch."""

from tasks.web.archive import PageArchive, read_page
from tasks.web.fetch import Fetched, Fetcher, FetchSettings

__all__ = ["FetchSettings", "Fetched", "Fetcher", "PageArchive", "read_page"]
