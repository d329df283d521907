"""Normalize: Unicode, quotes and whitespace, title, outlet, author, date and language."""

from tasks.normalize.fields import NormalizeSettings, normalize_documents

__all__ = ["NormalizeSettings", "normalize_documents"]
