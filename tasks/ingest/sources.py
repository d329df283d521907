"""Where a run's inputs are, listed for one logical date: a folder, a file, a listing, a store."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tasks.ingest.inputs import Listed, Source, discover, discover_file
from tasks.ingest.pages import list_pages
from tasks.ingest.read import IngestSettings, day_folder
from tasks.ingest.remote import discover_remote
from tasks.web import Fetcher


def list_inputs(
    source: Source, day: date, settings: IngestSettings, fetcher: Fetcher | None
) -> tuple[Listed, str | None]:
    """The inputs of a date, and where they were looked for (None: the dated layout has no
    folder for the date). A listing's pages are named by fetching it with `fetcher`."""
    if source.kind == "folder" and source.root is not None:
        folder = day_folder(source.root, day)
        found = discover(folder, source.root) if folder is not None else Listed([], [])
        return found, str(folder) if folder is not None else None
    if source.kind == "file":
        return discover_file(Path(source.given)), source.given
    if source.kind == "remote":
        return discover_remote(source.given, day)
    if fetcher is None:
        raise ValueError(f"{source.given} is a listing of pages: fetching it needs a fetcher")
    return list_pages(source.given, source.listing, fetcher, settings), source.given
