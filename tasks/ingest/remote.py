"""Inputs on other filesystems (s3://, gs://, https://, ...), listed and read through fsspec."""

from __future__ import annotations

import posixpath
from datetime import date
from typing import Any

from fsspec.core import url_to_fs

from tasks.ingest import warc
from tasks.ingest.inputs import STORE_ERRORS, Input, Listed, warc_inputs
from tasks.ingest.read import error_text, is_day_name, is_ignored


def discover_remote(given: str, day: date) -> tuple[Listed, str | None]:
    """The inputs of a remote folder (its day folder, in the dated layout) or file, and where
    they were looked for (None: the dated layout has no folder for the day)."""
    fs, root = url_to_fs(given)
    root = root.rstrip("/")
    try:
        is_dir = fs.isdir(root)
    except STORE_ERRORS as err:
        return Listed([Input(given, problem=("unreadable_folder", error_text(err)))], []), given
    if not is_dir:
        return _inputs(fs, [(root, _size(fs, root))], posixpath.dirname(root)), given
    folder: str | None = root
    days = [e for e in fs.ls(root, detail=True) if e["type"] == "directory"]
    if any(is_day_name(posixpath.basename(e["name"].rstrip("/"))) for e in days):
        folder = f"{root}/{day.isoformat()}"
        if not fs.isdir(folder):
            return Listed([], []), None
    assert folder is not None
    found = fs.find(folder, detail=True)
    files = [
        (name, info.get("size"))
        for name, info in sorted(found.items())
        if not _hidden(posixpath.relpath(name, root))
    ]
    return _inputs(fs, files, root), fs.unstrip_protocol(folder)


def _hidden(relative: str) -> bool:
    """Tell whether a file is left out as a local folder's would be: under a hidden folder,
    hidden itself, or a README."""
    *folders, name = relative.split("/")
    return any(is_ignored(f, folder=True) for f in folders) or is_ignored(name)


def _size(fs: Any, path: str) -> int | None:
    """A file's size when the filesystem tells it."""
    try:
        size = fs.size(path)
    except STORE_ERRORS:
        return None
    return int(size) if size is not None else None


def _inputs(fs: Any, files: list[tuple[str, int | None]], root: str) -> Listed:
    """Remote files as inputs named relative to the root; WARC files as their records."""
    inputs: list[Input] = []
    notes: list[str] = []
    for name, size in files:
        uri = posixpath.relpath(name, root)
        location = fs.unstrip_protocol(name)
        if not warc.is_warc(name):
            inputs.append(Input(uri, read="remote", location=location, length=size or 0))
            continue
        try:
            with fs.open(name, "rb") as stream:
                scan = warc.scan_warc(stream)
        except STORE_ERRORS as err:
            inputs.append(Input(uri, problem=("unreadable_file", error_text(err))))
            continue
        found, note = warc_inputs(scan, uri, Input(uri, read="warc_record", location=location))
        inputs.extend(found)
        notes.extend([note] if note else [])
    return Listed(inputs, notes)
