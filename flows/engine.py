"""Where tasks run: Prefect's API server, and a local or remote Dask cluster."""

from __future__ import annotations

import importlib
import os
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import py3langid
from prefect.context import SettingsContext, get_settings_context, refresh_global_settings_context
from prefect.logging import get_logger
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
)

from flows import BLAS_THREADS, api
from flows.pipeline import news_etl
from flows.runtime import register_dask_tokens
from tasks.core.records import (
    RunSummary,
)
from tasks.lexicon import people, places
from tasks.nlp import pipeline as nlp
from tasks.settings import Settings

LOOPBACK = api.LOOPBACK

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


def start_api(warm: bool = False) -> str:
    """The flow's Prefect API: the configured one, else the temporary server, started now.

    The temporary server is the instance Prefect's own client would start, but it is told
    to end when this process ends, even by `kill -9` (which skips Prefect's exit handler and
    left the server listening, orphaned). Start it from the main thread: the kernel signals
    the server when the thread that started it ends.

    A command started it early (`api.start_early`, before Prefect was imported): it is
    Prefect's API from here on, for this process and every process it starts, and `warm`
    loads the first batch's models while it starts; or found a Prefect server running on
    this machine, which is then the API. A configured API that does not answer is refused
    at once, not after the client's retries.
    """
    global _flow_settings
    early = api.early()
    configured = PREFECT_API_URL.value()
    if configured and (early is None or configured != early.api_url):
        if early is not None:  # a profile or prefect.toml names the API: no server needed
            early.stop()
        problem = api.unreachable(str(configured))
        if problem is not None:
            raise api.ServerError(f"PREFECT_API_URL {configured}: {problem}")
        return str(configured)
    reused = api.running()
    if reused is not None:  # nothing configured, a local server runs: Prefect is told of it
        get_logger().info("Using the Prefect server running at %s", reused.removesuffix("/api"))
        os.environ["PREFECT_API_URL"] = reused
        refresh_global_settings_context()
        return reused
    if early is not None:
        if _flow_settings is None:  # the first call: Prefect is told of the server
            get_logger().info("Starting temporary server on %s",
                              early.api_url.removesuffix("/api"))  # fmt: skip
            os.environ["PREFECT_API_URL"] = early.api_url
            # It serves no UI: no "View at" link to one with every flow run.
            os.environ.setdefault("PREFECT_UI_URL", "")
            refresh_global_settings_context()
            current = get_settings_context()
            updated = current.settings.copy_with_update(
                updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
            )
            _flow_settings = SettingsContext(profile=current.profile, settings=updated)
        if warm:
            warm_up(until=early.ready)
        return early.wait(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    from prefect.server.api import server as api_server  # the server app is heavy

    server = api_server.SubprocessASGIServer()
    if not server.running:
        parent = os.getpid()
        spawn = SimpleNamespace(**vars(subprocess))
        spawn.Popen = partial(subprocess.Popen, preexec_fn=lambda: api.die_with(parent))
        with patch.object(api_server, "subprocess", spawn):
            server.start()
    return server.api_url


def warm_up(settings: Settings | None = None, until: Callable[[], bool] = lambda: False) -> None:
    """Load what a run's first batch would load, one piece at a time, until `until()` holds.

    Called while the temporary server starts, on the core the server does not use: the
    spaCy pipeline, the language model and the gender and place lists are then loaded
    before the flow, not in its first batch.
    """
    model = (settings or Settings()).entities.model
    steps: tuple[Callable[[], object], ...] = (
        # Prefect's, for the flow's parameters: every run imports it.
        partial(importlib.import_module, "fastapi.encoders"),
        partial(nlp.warm, model),
        partial(py3langid.classify, "warm up"),
        partial(people.first_name_gender, "Anna"),
        places.places,
    )
    for step in steps:
        if until():
            return
        step()


def flow_settings() -> AbstractContextManager[object]:
    """Prefect settings of a flow call: no heartbeats to the temporary server started early.

    The flow's heartbeat thread sleeps in whole seconds and the flow's end waits for it:
    part of a second on every run. Heartbeats tell a server's automations that a run's
    process died; a temporary server dies with that process. (Built once, by `start_api`:
    Prefect's `temporary_settings` builds them again on every call.)
    """
    return nullcontext() if _flow_settings is None or api.early() is None else _flow_settings


_flow_settings: SettingsContext | None = None


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
            with flow_settings():
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
        # The cluster starts inside the flow, on first submit.
        with dask_config.set(local), flow_settings():
            return parallel(input_dir, warehouse, day, settings, concurrency=slots,
                            allow_empty=allow_empty)  # fmt: skip

    return call
