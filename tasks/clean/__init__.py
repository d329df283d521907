"""Clean: boilerplate removed from HTML and plain text, with an audit of every removed line."""

from tasks.clean.cleaner import CleanSettings, clean_documents

__all__ = ["CleanSettings", "clean_documents"]
