"""Quotes: direct quotes with their speaker, and the same quote across articles clustered."""

from tasks.quotes.attribution import QuoteSettings, cluster_quotes, extract_quotes

__all__ = ["QuoteSettings", "cluster_quotes", "extract_quotes"]
