"""Run the real `news_etl` flow on in-memory inputs and query its warehouse: the benches' harness."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

from flows.pipeline import news_etl
from tasks.warehouse import query

RUN_DATE = date(2030, 1, 1)  # after every item's date, so no date is refused as "future"


@contextmanager
def flow_run(files: Mapping[str, bytes]) -> Iterator[tuple[duckdb.DuckDBPyConnection, float]]:
    """Write the files to a temp input folder, run the flow, yield its warehouse and seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        inputs, warehouse = Path(tmp) / "in", Path(tmp) / "wh"
        inputs.mkdir()
        for name, data in files.items():
            (inputs / name).write_bytes(data)
        started = time.perf_counter()
        news_etl(input_dir=inputs, warehouse=warehouse, run_date=RUN_DATE)
        seconds = time.perf_counter() - started
        with query.connect(warehouse) as con:
            yield con, seconds
