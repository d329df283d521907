"""Prefect's temporary API server, started before Prefect is imported (imports nothing heavy).

A `newsetl run` with no configured API waited for Prefect's temporary server to start (it
imports Prefect's whole server stack) after importing Prefect, spaCy and the tasks itself,
one after the other. Started first, the server's start and the command's
imports run side by side on two cores. It is the instance Prefect's client would start
(same command line), and it ends with this process, even by `kill -9`.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from importlib import metadata
from pathlib import Path

LOOPBACK = "127.0.0.1"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# How Prefect's SubprocessASGIServer starts its server: no UI, ephemeral services only. It
# also sets PREFECT__SERVER_FINAL, whose only effect with FastAPI >= 0.137 is a full garbage
# collection before the server answers, for garbage a later collection
# finds as well.
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1"}
# The server registers Prefect's block types on start, most of the time importing every
# installed Prefect collection (prefect-dask imports Dask's distributed) to hash their
# blocks. A run uses no blocks. A user's own setting stays in charge.
SERVER_DEFAULTS = {
    "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",
    "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
}
HEALTH_POLL_SECONDS = 0.05
REACH_SECONDS = 1.0  # a configured API that does not answer within this is refused
PORT_IN_USE = 3  # uvicorn's exit status when it cannot bind


class ServerError(RuntimeError):
    """The temporary server did not start, or a configured API does not answer."""


class TemporaryServer:
    """A Prefect API server in a child process that is told to end when this process ends."""

    def __init__(self) -> None:
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.healthy = False
        self._warming: threading.Thread | None = None
        self._spawn()
        atexit.register(self.stop)  # before Prefect registers its own: runs after them

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/api"

    def _spawn(self) -> None:
        self.port = free_port()
        app_dir = Path(_prefect_dir()).parent
        env = {**SERVER_DEFAULTS, **os.environ, **SERVER_ENV}
        parent = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory",
             "prefect.server.api.server:create_app", "--host", LOOPBACK, "--port",
             str(self.port), "--log-level", "error", "--lifespan", "on"],
            env=env,
            preexec_fn=lambda: die_with(parent),
        )  # fmt: skip

    def poll(self) -> bool:
        """Whether the server answers now (one quick look; a lost port race starts it again)."""
        if self.healthy:
            return True
        assert self.process is not None
        status = self.process.poll()
        if status == PORT_IN_USE:  # another process took the port between the pick and bind
            self._spawn()
            return False
        if status is not None:
            raise ServerError(f"the temporary Prefect server exited with status {status}")
        self.healthy = _healthy(self.api_url, timeout=0.5)
        if self.healthy:  # the first requests build FastAPI's route state
            self._warming = threading.Thread(target=self._warm, daemon=True)
            self._warming.start()
        return self.healthy

    def ready(self) -> bool:
        """Whether the server answers and has built its routes (one quick look)."""
        return self.poll() and (self._warming is None or not self._warming.is_alive())

    def _warm(self) -> None:
        """Ask the server what Prefect's client asks first (its version, then reads of flows and
        flow runs): its routes and database queries are built then, on the server's core,
        while this process loads what the flow will need."""
        opener = _opener(self.api_url)
        with contextlib.suppress(OSError):
            opener.open(f"{self.api_url}/admin/version", timeout=5).close()
            for path in ("flows", "flow_runs"):
                request = urllib.request.Request(
                    f"{self.api_url}/{path}/filter", data=b'{"limit": 1}', method="POST",
                    headers={"Content-Type": "application/json"})  # fmt: skip
                opener.open(request, timeout=5).close()

    def wait(self, timeout: float) -> str:
        """Wait until the server answers; its API URL.

        `timeout` counts the time slept between looks, as Prefect's own wait does: a first
        start migrates a new database before it answers.
        """
        slept = 0.0
        while not self.ready():
            if slept > timeout:
                self.stop()
                raise ServerError(f"the temporary Prefect server did not answer in {timeout} s")
            time.sleep(HEALTH_POLL_SECONDS)
            slept += HEALTH_POLL_SECONDS
        return self.api_url

    def stop(self) -> None:
        """End the server and wait for it, as Prefect's own stop does (kill after 5 s)."""
        process, self.process = self.process, None
        if process is None:
            return
        if self.healthy:  # as Prefect says it of its own temporary server
            logging.getLogger("prefect").info("Stopping temporary server on %s",
                                              self.api_url.removesuffix("/api"))  # fmt: skip
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_early: TemporaryServer | None = None
_running: str | None = None

# Where `prefect server start` listens unless told otherwise (Prefect's own defaults).
DEFAULT_SERVER_PORT = "4200"


def start_early() -> TemporaryServer | None:
    """Start the temporary server now, unless an API is configured, a server runs, or Prefect is loaded.

    Only a fresh command process starts one here: with Prefect imported (a test session, a
    library caller) its own settings and server stay in charge. A URL set in a Prefect
    profile or prefect.toml is only known once Prefect is imported: `start_api` then stops
    this server again.

    A Prefect server already running on this machine (`prefect server start`, at
    `PREFECT_SERVER_API_PORT`) of this Prefect's major version is used instead: a run then
    pays nothing to start one, and shows in that server's UI.
    """
    global _early, _running
    if _early is None and not os.environ.get("PREFECT_API_URL") and "prefect" not in sys.modules:
        port = os.environ.get("PREFECT_SERVER_API_PORT") or DEFAULT_SERVER_PORT
        _running = running_server(f"http://{LOOPBACK}:{port}/api")
        if _running is None:
            _early = TemporaryServer()
    return _early


def running() -> str | None:
    """The API URL of the running server `start_early` found, if it found one."""
    return _running


def running_server(api_url: str, timeout: float = REACH_SECONDS) -> str | None:
    """`api_url` if a Prefect server of this Prefect's major version answers there, else None.

    A closed port on the loopback interface is refused at once: looking costs nothing when
    no server runs.
    """
    if not _healthy(api_url, timeout):
        return None
    try:
        with _opener(api_url).open(f"{api_url}/admin/version", timeout=timeout) as reply:
            version = str(json.loads(reply.read()))
    except (OSError, ValueError):  # HTTPError is an OSError; ValueError: not JSON
        return None
    ours = metadata.version("prefect")
    return api_url if version.split(".")[0] == ours.split(".")[0] else None


def early() -> TemporaryServer | None:
    """The server `start_early` started, if any and still running."""
    return _early if _early is not None and _early.process is not None else None


def unreachable(api_url: str, timeout: float = REACH_SECONDS) -> str | None:
    """Why nothing answers at a Prefect API's address, or None when something does.

    Any HTTP answer counts (Prefect Cloud answers 401 without its key): the client's own
    errors then say what is wrong. Only a refused or silent address is told here.
    """
    try:
        _opener(api_url).open(f"{api_url.rstrip('/')}/health", timeout=timeout).close()
    except urllib.error.HTTPError:
        return None
    except (OSError, ValueError) as err:
        return f"no answer ({getattr(err, 'reason', err)})"
    return None


def _opener(api_url: str) -> urllib.request.OpenerDirector:
    """A URL opener for an API: one on the loopback interface is never reached through a proxy."""
    local = urllib.parse.urlsplit(api_url).hostname in (LOOPBACK, "localhost")
    return urllib.request.build_opener(*([urllib.request.ProxyHandler({})] if local else []))


def _healthy(api_url: str, timeout: float) -> bool:
    """Whether a Prefect server answers its health check with 200."""
    try:
        with _opener(api_url).open(f"{api_url}/health", timeout=timeout) as reply:
            return bool(reply.status == 200)
    except (OSError, ValueError):  # HTTPError is an OSError
        return False


def free_port() -> int:
    """A port on the loopback interface that is free now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _prefect_dir() -> str:
    """Prefect's package folder, found without importing it."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("Prefect is not installed")
    return str(next(iter(spec.submodule_search_locations)))


def die_with(parent: int) -> None:
    """In a child before exec: ask for SIGTERM when the parent ends (Linux's PR_SET_PDEATHSIG)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
