"""Where tasks run: Prefect's API server, and a local or remote Dask cluster."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from prefect.settings import PREFECT_API_URL

from flows import BLAS_THREADS
from flows.pipeline import news_etl
from flows.runtime import register_dask_tokens
from tasks.core.records import (
    RunSummary,
)
from tasks.settings import Settings

LOOPBACK = "127.0.0.1"

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

# The configuration local Dask workers start with (each takes a snapshot of the flow
# process's). Measured on 300 BBC articles through spaCy on one worker, 2 cores:
LOCAL_WORKER_CONFIG: dict[str, Any] = {
    # Dask's default MALLOC_TRIM_THRESHOLD_=65536 makes glibc hand freed memory straight back
    # to the kernel, and spaCy's arrays then fault it in again: 800,000 page faults and a
    # fifth of the CPU in the kernel, 9.5 articles/s; without it, 25,000 faults and 13.9/s.
    # The single-threaded BLAS stays: N workers with multithreaded BLAS oversubscribe N cores.
    "distributed.nanny.pre-spawn-environ": {name: "1" for name in BLAS_THREADS},
    # The sampling profiler reads the running task's stack every 10 ms, and the event loop
    # wakes every 20 ms to check it is not blocked: each takes the GIL from the batch.
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    # The scheduler and each worker read CPU, memory, network and disk counters every 0.5 s
    # for the dashboard, and the nannies and workers check memory every 0.1 s: on 2 cores,
    # with one worker per core, every read is taken from a batch.
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.worker.memory.monitor-interval": "1s",
}


def shared_api() -> dict[str, str]:
    """The Prefect API for local Dask workers: the flow's own, started now if it is temporary.

    A worker with no API URL starts a temporary Prefect server of its own, a process per
    worker that takes CPU from the batches; with the URL they all report to one server.
    """
    return {"PREFECT_API_URL": start_api()}


def start_api() -> str:
    """The flow's Prefect API: the configured one, else the temporary server, started now.

    The temporary server is the instance Prefect's own client would start, but it is told
    to end when this process ends, even by `kill -9` (which skips Prefect's exit handler and
    left the server listening, orphaned). Start it from the main thread: the kernel signals
    the server when the thread that started it ends.
    """
    if PREFECT_API_URL.value():
        return str(PREFECT_API_URL.value())
    from prefect.server.api import server as api_server  # the server app is heavy

    server = api_server.SubprocessASGIServer()
    if not server.running:
        parent = os.getpid()
        spawn = SimpleNamespace(**vars(subprocess))
        spawn.Popen = partial(subprocess.Popen, preexec_fn=lambda: _die_with(parent))
        with patch.object(api_server, "subprocess", spawn):
            server.start()
    return server.api_url


def _die_with(parent: int) -> None:
    """In a child before exec: ask for SIGTERM when the parent ends (Linux's PR_SET_PDEATHSIG)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def local_cluster(workers: int) -> dict[str, Any]:
    """Arguments of a local Dask cluster of `workers` processes (with LOCAL_WORKER_CONFIG set)."""
    return {
        "n_workers": workers,
        # spaCy and trafilatura hold the GIL: one thread per worker process.
        "threads_per_worker": 1,
        "processes": True,
        # Scheduler, workers and dashboard listen on the loopback interface only: they run
        # code on request, and Dask's dashboard otherwise binds every interface.
        "host": LOOPBACK,
        "dashboard_address": f"{LOOPBACK}:8787",
        "env": shared_api(),
    }


def engine(
    dask: str | None = None, workers: int | None = None, settings: Settings | None = None
) -> Callable[..., RunSummary]:
    """news_etl on this process, on the Dask scheduler at `dask`, or on a local cluster of `workers`.

    Returns a function of (input_dir, warehouse, run_date, allow_empty=False).
    """
    if dask is None and not workers:

        def here(input_dir: Path, warehouse: Path, day: date | None,
                 allow_empty: bool = False) -> RunSummary:  # fmt: skip
            return news_etl(input_dir, warehouse, day, settings, allow_empty=allow_empty)

        return here
    from dask import config as dask_config
    from distributed import Client
    from prefect_dask.task_runners import DaskTaskRunner

    register_dask_tokens()

    if dask is not None:
        with Client(dask) as client:  # type: ignore[no-untyped-call]
            slots = sum(client.nthreads().values())
        runner = DaskTaskRunner(address=dask)
    else:
        assert workers is not None
        slots = workers
        runner = DaskTaskRunner(cluster_kwargs=local_cluster(workers))
    parallel = news_etl.with_options(task_runner=runner)  # type: ignore[arg-type]
    local = LOCAL_WORKER_CONFIG if dask is None else {}

    def call(
        input_dir: Path, warehouse: Path, day: date | None, allow_empty: bool = False
    ) -> RunSummary:
        with dask_config.set(local):  # the cluster starts inside the flow, on first submit
            return parallel(input_dir, warehouse, day, settings, concurrency=slots,
                            allow_empty=allow_empty)  # fmt: skip

    return call
