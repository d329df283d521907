"""Ingest: inputs found on disk, decoded and checked, as raw documents or rejects."""

from tasks.ingest.read import (
    IngestSettings,
    day_folder,
    decode,
    discover,
    field_keys,
    read_inputs,
)

__all__ = ["IngestSettings", "day_folder", "decode", "discover", "field_keys", "read_inputs"]
