"""A real HTTP server on 127.0.0.1 for tests: pages, failures and slow answers on demand."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHUNK = 64 * 1024
# A stop waits this long for each handler thread once its socket is shut down; they end
# within milliseconds, so this only bounds a handler gone wrong.
JOIN_SECONDS = 5.0

Answer = Callable[["_Handler"], None]


@dataclass(frozen=True)
class Request:
    """One request the site received."""

    path: str  # as requested, with the query
    method: str
    headers: dict[str, str]  # names lowercased
    at: float  # time.monotonic() when it was read


class Site:
    """A loopback web site whose pages, failures and slow answers a test sets up."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.bytes_sent: dict[str, int] = {}  # body bytes written by `large` and `trickle`
        self._answers: dict[str, Answer] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._handlers: dict[threading.Thread, socket.socket] = {}
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        """The site's URL of a path."""
        return self.base + path

    def page(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Serve a page; 304 when the request's If-None-Match or If-Modified-Since matches."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        extra = dict(headers or {})
        if etag is not None:
            extra["ETag"] = etag
        if last_modified is not None:
            extra["Last-Modified"] = last_modified

        def answer(handler: _Handler) -> None:
            if _unchanged(handler, etag, last_modified):
                handler.reply(304, b"", None, extra)
            else:
                handler.reply(status, data, content_type, extra)

        self._set(path, answer)

    def sequence(self, path: str, answers: list[tuple[int, bytes]]) -> None:
        """Serve each answer in turn, one per request; the last repeats."""
        left = list(answers)

        def answer(handler: _Handler) -> None:
            with self._lock:
                status, body = left.pop(0) if len(left) > 1 else left[0]
            handler.reply(status, body, "text/html; charset=utf-8", {})

        self._set(path, answer)

    def hang(self, path: str) -> None:
        """Accept requests for the path and never answer them (until the site stops)."""

        def answer(handler: _Handler) -> None:
            self._stopping.wait()

        self._set(path, answer)

    def large(self, path: str, size: int, *, content_length: bool = True) -> None:
        """Serve `size` bytes in chunks, never held whole, with or without Content-Length."""

        def answer(handler: _Handler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            if content_length:
                handler.send_header("Content-Length", str(size))
            handler.send_header("Connection", "close")
            handler.end_headers()
            chunk = b"x" * CHUNK
            left = size
            while left > 0 and not self._stopping.is_set():
                part = chunk[: min(left, CHUNK)]
                if not handler.send_body(part):
                    return
                self._count(path, len(part))
                left -= len(part)

        self._set(path, answer)

    def trickle(self, path: str, body: bytes, *, every: float, headers_too: bool) -> None:
        """Send a page one byte per `every` seconds: the body, or the headers already."""

        def answer(handler: _Handler) -> None:
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode("ascii")
            slow = head + body if headers_too else body
            if not headers_too and not handler.send_body(head):
                return
            for byte in slow:
                if self._stopping.wait(every) or not handler.send_body(bytes([byte])):
                    return
                self._count(path, 1)

        self._set(path, answer)

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        """Redirect the path to `to` (absolute or relative, sent as given)."""
        self._set(path, lambda handler: handler.reply(status, b"", None, {"Location": to}))

    def robots(self, text: str) -> None:
        """Serve /robots.txt."""
        self.page("/robots.txt", text, content_type="text/plain; charset=utf-8")

    def paths(self) -> list[str]:
        """The paths requested, in order."""
        with self._lock:
            return [r.path for r in self.requests]

    def stop(self) -> None:
        """Stop serving, release hung handlers and wait for every thread to end."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(JOIN_SECONDS)
        with self._lock:
            handlers = dict(self._handlers)
        for sock in handlers.values():
            # Wakes a handler blocked writing to a client that no longer reads.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in handlers:
            thread.join(JOIN_SECONDS)

    def _set(self, path: str, answer: Answer) -> None:
        """Route a path to its answer."""
        with self._lock:
            self._answers[path] = answer

    def _count(self, path: str, sent: int) -> None:
        """Add to the bytes sent for a path."""
        with self._lock:
            self.bytes_sent[path] = self.bytes_sent.get(path, 0) + sent

    def _serve(self, handler: _Handler) -> None:
        """Record a request and answer it (404 for a path nobody set)."""
        request = Request(
            handler.path,
            handler.command,
            {k.lower(): v for k, v in handler.headers.items()},
            time.monotonic(),
        )
        with self._lock:
            self.requests.append(request)
            answer = self._answers.get(handler.path) or self._answers.get(
                handler.path.split("?", 1)[0]
            )
        if answer is None:
            handler.reply(404, b"not found", "text/plain", {})
        else:
            answer(handler)

    def _track(self, sock: socket.socket | None) -> None:
        """Note (or with None, forget) the current handler thread's connection."""
        with self._lock:
            if sock is None:
                self._handlers.pop(threading.current_thread(), None)
            else:
                self._handlers[threading.current_thread()] = sock


class _Server(ThreadingHTTPServer):
    """A threading HTTP server whose handler threads never keep the process alive."""

    daemon_threads = True
    site: Site

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection, known to the site while it lasts so a stop can end it."""
        self.site._track(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.site._track(None)


class _Handler(BaseHTTPRequestHandler):
    """Hands every GET to the site; one response per connection."""

    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Answer a GET from the site's routes."""
        self.close_connection = True
        self.server.site._serve(self)

    def reply(
        self, status: int, body: bytes, content_type: str | None, headers: dict[str, str]
    ) -> None:
        """Send a whole response."""
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.send_body(body)

    def send_body(self, data: bytes) -> bool:
        """Write bytes to the client; False once it has gone."""
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            return False
        return True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


def _unchanged(handler: _Handler, etag: str | None, last_modified: str | None) -> bool:
    """Tell whether a conditional request's validators match the page's."""
    if_none_match = handler.headers.get("If-None-Match")
    if if_none_match is not None:
        # If-None-Match wins over If-Modified-Since (RFC 9110, 13.2.2).
        tags = [t.strip() for t in if_none_match.split(",")]
        return etag is not None and (etag in tags or "*" in tags)
    since = handler.headers.get("If-Modified-Since")
    if since is None or last_modified is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
