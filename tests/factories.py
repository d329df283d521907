"""Record builders shared by the tests."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from tasks.core.records import CleanDocument

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


LOCK_HOLDER = (
    "import sys, time; from pathlib import Path; from tasks.store import write\n"
    "with write.warehouse_lock(Path(sys.argv[1])):\n"
    "    print('locked', flush=True); time.sleep(120)\n"
)


def hold_lock(warehouse: Path) -> subprocess.Popen[str]:
    """Another process that holds the warehouse lock until it is killed."""
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(warehouse)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder
