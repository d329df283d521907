"""Link: copies, excerpts, rewrites and stories, within a run and across run dates."""

from tasks.link.across import AcrossSettings, aliases_fingerprint, read_index
from tasks.link.across import Store as HistoryStore
from tasks.link.across import update as link_history
from tasks.link.dedup import DedupSettings, link_articles
from tasks.link.history import index_date

__all__ = [
    "AcrossSettings",
    "DedupSettings",
    "HistoryStore",
    "aliases_fingerprint",
    "index_date",
    "link_articles",
    "link_history",
    "read_index",
]
