"""Quotes: direct quotes with their speaker, and the same quote across articles clustered."""

from tasks.quotes.attribution import QuoteSettings, cluster_quotes, extract_quotes
from tasks.quotes.genders import entity_genders

__all__ = ["QuoteSettings", "cluster_quotes", "entity_genders", "extract_quotes"]
