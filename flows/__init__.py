"""Prefect flows and the CLI; the only package that imports Prefect."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
from datetime import date
from importlib import metadata
from pathlib import Path

# A checkout (its pyproject.toml beside the packages), or None when newsetl is installed.
_PARENT = Path(__file__).resolve().parents[1]
CHECKOUT = _PARENT if (_PARENT / "pyproject.toml").is_file() else None
# Where the CLI's `seeds` and `warehouse` are by default: the checkout's, and for an installed
# package the working folder's (relative, so never a folder inside site-packages).
PROJECT_ROOT = CHECKOUT or Path()

# Prefect runs offline against its ephemeral API: in a checkout its state stays inside the
# project (installed, Prefect's own default, ~/.prefect), and nothing is sent home.
# setdefault leaves a user's own configuration in charge.
if CHECKOUT is not None:
    os.environ.setdefault("PREFECT_HOME", str(CHECKOUT / ".prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")

# One BLAS thread per process: runs go parallel across worker processes, and on 2 cores
# spaCy with two OpenBLAS threads did 21.0 articles/s against 23.1 with one. Set before
# anything imports numpy, which reads it once.
BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _name in BLAS_THREADS:
    os.environ.setdefault(_name, "1")

# Arrow's allocator for the process: jemalloc hands freed memory back to the system within a
# second, where the default (mimalloc) keeps it, and a run's cross-date step reads and drops
# one history date after another (bench/history.py has the figures). A user's own choice
# (ARROW_DEFAULT_MEMORY_POOL) stays in charge; a build without jemalloc keeps its default.
if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
    import pyarrow

    with contextlib.suppress(NotImplementedError):
        pyarrow.set_memory_pool(pyarrow.jemalloc_memory_pool())

# glibc hands a freed block of more than 128 KB straight back to the kernel, and spaCy's
# arrays (a batch's tok2vec output is megabytes) were then faulted in afresh with every
# batch, the kernel's work counted against the parse. Blocks up to MMAP_THRESHOLD now
# come from the heap and are reused, and the heap is trimmed once more than TRIM_THRESHOLD
# of it is free. A user's own MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ stays in
# charge; other C libraries keep their own ways. Workers import this package too.
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest
TRIM_THRESHOLD = 512 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
if _mallopt is not None and not {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"} & set(
    os.environ
):
    _mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    _mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)

# The flow process holds a run's records (half a million mentions at 20,000 articles) and
# Python's cycle collector walked all of them every few hundred thousand allocations: the
# entity merge of 20,000 articles took 6.6 s in a flow, 2.3 s with these thresholds, as with
# the collector off. The records hold no cycles (reference counting frees them); the rarer
# passes still collect what cycles there are. Workers import this package too.
GC_THRESHOLDS = (50_000, 20, 20)
gc.set_threshold(*GC_THRESHOLDS)

# Logical dates a run accepts: a date outside is a typo, and date arithmetic near year 9999
# overflows. Here, not in the flow module, so the CLI checks them before importing Prefect.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2200, 12, 31)


def outside_run_dates(day: date) -> str | None:
    """Why a logical date is refused, or None when it is within the accepted range."""
    return None if FIRST_DAY <= day <= LAST_DAY else f"{day} is outside {FIRST_DAY} .. {LAST_DAY}"


def package_version() -> str:
    """The installed newsetl version: part of the fingerprint, so a new release re-extracts."""
    try:
        return metadata.version("newsetl")
    except metadata.PackageNotFoundError:
        return "unknown"
