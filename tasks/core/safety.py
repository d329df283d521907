"""The per-document safety loop: one document's error or overrun is a reject, never the batch's."""

from __future__ import annotations

import ctypes
import heapq
import itertools
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tasks.core.records import Reject

T = TypeVar("T")
R = TypeVar("R")

# A reject's detail is for a person reading the rejects table: an exception message can hold
# a whole document (a JSON parser quoting its input), which would bloat the table.
MAX_DETAIL_CHARS = 500
SURROGATES = re.compile("[\ud800-\udfff]")


class RejectError(Exception):
    """An input that cannot become a document; carries the reject reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class DocumentTimeout(BaseException):
    """A document overran its stage's time budget.

    A BaseException, so the `except Exception` that guards one optional step inside a stage
    (a page's metadata, say) does not swallow it and let the document run on.
    """


def safe_text(text: str) -> str:
    """Text Parquet can store: lone surrogates (from JSON escapes, odd file names) become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATES.sub("\ufffd", text)
    return text


def failure(uri: str, err: BaseException, stage: str, budget: float) -> Reject:
    """The reject that records why one document failed a stage."""
    if isinstance(err, RejectError):
        reason, detail = err.reason, err.detail
    elif isinstance(err, DocumentTimeout):
        reason, detail = "timeout", f"over the {stage} stage's budget of {budget:g} s"
    elif isinstance(err, RecursionError):
        reason, detail = "too_deep", f"nesting too deep to process: {err}"
    elif isinstance(err, MemoryError):
        reason, detail = "too_large", "out of memory while processing the document"
    else:
        reason, detail = "extraction_error", f"{type(err).__name__}: {err}"
    return Reject(safe_text(uri), reason, safe_text(detail[:MAX_DETAIL_CHARS]), stage)


def each_document(
    items: Iterable[T],
    run: Callable[[T], R],
    uri: Callable[[T], str],
    stage: str,
    budget: float,
) -> Iterator[R | Reject]:
    """Run one stage's work on each document under its time budget; a failure is a Reject."""
    for item in items:
        try:
            with time_limit(budget):
                result = run(item)
        except (Exception, DocumentTimeout) as err:  # one document must never stop the batch
            yield failure(uri(item), err, stage, budget)
        else:
            yield result


def split_results(results: Iterable[R | Reject]) -> tuple[list[R], list[Reject]]:
    """Separate a stage's results from its rejects, keeping input order in both."""
    done: list[R] = []
    rejects: list[Reject] = []
    for result in results:
        if isinstance(result, Reject):
            rejects.append(result)
        else:
            done.append(result)
    return done, rejects


_active = threading.local()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise DocumentTimeout in this thread once `seconds` have passed (0: no limit).

    In the main thread an interval timer's signal interrupts even a regular expression
    match (the `re` engine checks for signals as it goes); in other threads (Dask workers)
    a watchdog raises the timeout at the thread's next Python instruction. Nested limits
    keep the outer one.
    """
    if seconds <= 0 or getattr(_active, "on", False):
        yield
        return
    _active.on = True
    try:
        if threading.current_thread() is threading.main_thread():
            with _alarm(seconds):
                yield
        else:
            with _WATCHDOG.watch(seconds):
                yield
    finally:
        _active.on = False


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """SIGALRM after `seconds`, raising DocumentTimeout; the previous handler restored after."""

    def expire(signum: int, frame: object) -> None:
        raise DocumentTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Watchdog:
    """One thread per process that raises DocumentTimeout in threads past their deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._deadlines: list[tuple[float, int, int]] = []  # (deadline, ticket, thread id)
        self._live: set[int] = set()
        self._tickets = itertools.count()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, seconds: float) -> Iterator[None]:
        """Arm a deadline for the calling thread for the duration of the block."""
        ticket = next(self._tickets)
        with self._lock:
            self._live.add(ticket)
            heapq.heappush(
                self._deadlines, (time.monotonic() + seconds, ticket, threading.get_ident())
            )
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="newsetl-watchdog")
                self._thread.daemon = True
                self._thread.start()
            self._wake.notify()
        try:
            yield
        finally:
            with self._lock:
                self._live.discard(ticket)
            # An exception sent just as the block ended is still pending: clear it here
            # rather than let it surface in whatever the thread does next.
            _send(threading.get_ident(), None)

    def _loop(self) -> None:
        with self._lock:
            while True:
                while self._deadlines and self._deadlines[0][1] not in self._live:
                    heapq.heappop(self._deadlines)
                if not self._deadlines:
                    self._wake.wait(60)
                    continue
                deadline, ticket, thread = self._deadlines[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._deadlines)
                self._live.discard(ticket)
                _send(thread, DocumentTimeout)


def _send(thread: int, exc: type[BaseException] | None) -> None:
    """Raise `exc` asynchronously in a thread (None: clear a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), ctypes.py_object(exc) if exc is not None else None
    )


_WATCHDOG = _Watchdog()
