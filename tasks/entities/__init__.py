"""Entities: spaCy's mentions and our rules, merged into canonical entities of the run."""

from tasks.entities.mentions import EntitySettings, canonicalize, extract_mentions, parse_aliases

__all__ = ["EntitySettings", "canonicalize", "extract_mentions", "parse_aliases"]
