"""Ingest: inputs from folders, files, WARC archives and fetched pages, as raw documents or rejects."""

from tasks.ingest.inputs import (
    Input,
    Listed,
    Source,
    discover,
    discover_file,
    read_inputs,
    resolve,
)
from tasks.ingest.listing import ListedPage, Listing, parse_listing, sniff
from tasks.ingest.pages import PageReader, is_url, list_pages
from tasks.ingest.read import IngestSettings, day_folder, decode, field_keys
from tasks.ingest.remote import discover_remote
from tasks.ingest.sources import list_inputs

__all__ = [
    "IngestSettings",
    "Input",
    "Listed",
    "ListedPage",
    "Listing",
    "PageReader",
    "Source",
    "day_folder",
    "decode",
    "discover",
    "discover_file",
    "discover_remote",
    "field_keys",
    "is_url",
    "list_inputs",
    "list_pages",
    "parse_listing",
    "read_inputs",
    "resolve",
    "sniff",
]
