"""Record builders shared by the tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tasks.records import CleanDocument

BLANK = CleanDocument(
    source_uri="doc.txt",
    content_type="text",
    encoding="utf-8",
    body="",
    removed=(),
    title=None,
    title_source=None,
    dates=(),
    outlet=None,
    url=None,
    author=None,
)


def clean_document(**fields: Any) -> CleanDocument:
    """A CleanDocument with the given fields, the others blank."""
    return replace(BLANK, **fields)
