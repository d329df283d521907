"""Fetch pages politely: robots.txt, a per-host delay, retries, and caps on size and time."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib import metadata
from types import TracebackType
from typing import Any, Self
from urllib.parse import urljoin

import httpx

from tasks.core.safety import RejectError

SCHEMES = {"http": 80, "https": 443}
# Where a site's admin reads who fetches and why, named in the user agent.
PROJECT_URL = "https://github.com/newsetl/newsetl"
# A host name as sent (IDNs in their xn-- form) or an IP address; anything else (a space, a
# percent sign) is no host, and is never looked up.
HOST = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]+")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# 429 asks us to slow down and a 5xx is usually an overloaded or restarting server: both are
# worth asking again later; any other status is the page's real answer.
RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
# RFC 9309 asks crawlers to read at least 500 KiB of a robots.txt; rules past that are ignored
# rather than the file refused, so a bloated robots.txt still says what it can.
ROBOTS_MAX_BYTES = 512_000
# A host asking for a Crawl-delay of minutes would hold a batch run on it for hours: it gets
# its wish up to 30 s between requests, then newsetl fetches at that pace anyway.
MAX_CRAWL_DELAY_SECONDS = 30.0
# The timeout bounds each socket operation, not the whole answer: a server trickling a byte
# just inside it would hold one page for hours. Each attempt gets this many timeouts in all.
DEADLINE_TIMEOUTS = 3
# Events of httpx's `trace` request extension that hand over the connection's stream.
STREAM_EVENTS = ("connection.connect_tcp.complete", "connection.start_tls.complete")


@dataclass(frozen=True)
class FetchSettings:
    """How newsetl fetches pages: politely, and never for long."""

    # robots.txt groups match on the product token before the "/" ("newsetl"); the URL in
    # the comment tells a site's admin who is fetching and where to complain. Empty: this
    # default with the installed version, "newsetl/0.5.0 (+https://...; news ETL batch job)".
    user_agent: str = ""
    # Bounds connecting and each read or write of one request; a news site that cannot send
    # its next bytes within 20 s is down or overloaded, and waiting longer rarely helps.
    timeout_seconds: float = 20.0
    # Extra attempts after a 5xx, a 429, a timeout or a failed connection: enough to ride
    # out a restart or a blip, few enough not to pile load on a server that is struggling.
    retries: int = 3
    # The wait before the first retry, doubled before each next one (1, 2, 4 s): a struggling
    # server gets longer and longer to recover.
    backoff_seconds: float = 1.0
    # The longest wait between two attempts, also the longest Retry-After honoured: a server
    # asking for more than this is not retried in this run.
    max_backoff_seconds: float = 30.0
    # The least time between the starts of two requests to one host (robots.txt, retries and
    # redirects included), one request at a time: the customary polite crawl rate. A larger
    # robots.txt Crawl-delay wins, up to 30 s.
    host_delay_seconds: float = 1.0
    # The longest real news pages are a few MB of HTML; a bigger answer is a dump, a video or
    # an attack. The cap is on the decoded body, so a gzip bomb stops at it as well.
    max_page_bytes: int = 20_000_000
    # Browsers stop at about 20; a news page's redirects (http to https, a canonical path, a
    # consent page) take two or three, and a longer chain is a loop or a trap.
    max_redirects: int = 5


@dataclass(frozen=True)
class Fetched:
    """One URL's fetch: the answer, or why there is none."""

    url: str  # as asked
    final_url: str  # the last URL asked, after redirects
    status: int | None  # the final URL's HTTP status; None when it gave no answer
    headers: tuple[tuple[str, str], ...]  # the final answer's headers, as sent, in order
    body: bytes  # the decoded page; b"" unless reason is None
    fetched_at: datetime  # UTC, when the final answer came (or the fetch gave up)
    reason: str | None  # None when `body` is the page (status 200); else a snake_case reason
    detail: str = ""
    http_version: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        """The first value of a response header, whatever its case, or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def etag(self) -> str | None:
        """The `ETag` validator, for the next fetch's If-None-Match."""
        return self.header("etag")

    @property
    def last_modified(self) -> str | None:
        """The `Last-Modified` header, unparsed, for the next fetch's If-Modified-Since."""
        return self.header("last-modified")

    @property
    def content_type(self) -> str | None:
        """The media type of `Content-Type` ("text/html"), lowercase and without parameters."""
        value = self.header("content-type")
        media = value.split(";", 1)[0].strip().lower() if value else ""
        return media or None

    @property
    def charset(self) -> str | None:
        """The `charset` parameter of `Content-Type`, unquoted, or None."""
        for param in (self.header("content-type") or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip("\"'") or None
        return None


class Closable:
    """An object used in a `with` block that closes it at the end, whether or not it raised."""

    def __enter__(self) -> Self:
        """The object itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close it."""
        self.close()

    def close(self) -> None:
        """Release what the object holds."""


class Fetcher(Closable):
    """Fetches pages one at a time, politely: robots.txt, a per-host delay, retries."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.user_agent = settings.user_agent or default_user_agent()
        self.requests_made = 0  # HTTP requests sent (robots.txt, retries, redirects), for logs
        self._sleep = sleep
        self._clock = clock
        self._robots: dict[str, _Robots] = {}  # by origin (scheme://host:port)
        self._last_start: dict[str, float] = {}  # by host name
        self._host_delay: dict[str, float] = {}  # by host name, where Crawl-delay raised it
        self._client = httpx.Client(
            # The environment's proxies, certificates and .netrc stay out: newsetl reads no
            # environment, and a test's loopback request must never reach a proxy.
            trust_env=False,
            # Each hop is checked against robots.txt and paced, so redirects are followed here.
            follow_redirects=False,
            timeout=httpx.Timeout(settings.timeout_seconds),
            headers={"User-Agent": self.user_agent},
            # A fresh connection per request: the deadline watchdog always holds the socket it
            # may have to cut, and at one request per host a second keep-alive saves little.
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def close(self) -> None:
        """Close the connections the fetcher holds."""
        self._client.close()

    def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """Fetch one page; every outcome, the page or why there is none, is a Fetched."""
        headers = _validators(etag, last_modified)
        fetched = self._follow(url, headers, self.settings.max_page_bytes, polite=True)
        if fetched.status == 304 and headers:
            fetched = replace(fetched, reason="not_modified", detail="the page is unchanged")
        return replace(fetched, url=url)

    def _follow(self, url: str, headers: Mapping[str, str], limit: int, *, polite: bool) -> Fetched:
        """Ask for a URL and follow its redirects, each hop checked like the first."""
        current = url
        answer: Fetched | None = None
        for _ in range(max(self.settings.max_redirects, 0) + 1):
            try:
                target = _checked_url(current)
                if polite:
                    self._check_robots(current, target)
            except RejectError as err:
                return _no_answer(current, err.reason, err.detail)
            # robots.txt is read up to its cap, not refused past it (see ROBOTS_MAX_BYTES).
            answer = self._ask(current, target, headers, limit, truncate=not polite)
            location = answer.header("location")
            if answer.status not in REDIRECTS or not location:
                return answer
            current = _joined(current, location.strip())
        if answer is None:
            raise AssertionError("unreachable: the loop asks at least once")
        return replace(
            answer,
            reason="too_many_redirects",
            detail=f"more than {self.settings.max_redirects} redirects; the last to {current}",
        )

    def _ask(
        self,
        url: str,
        target: httpx.URL,
        headers: Mapping[str, str],
        limit: int,
        *,
        truncate: bool,
    ) -> Fetched:
        """One URL's answer, asked again after backoff while it is a passing failure."""
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            answer = self._attempt(url, target, headers, limit, truncate=truncate)
            if not _passing(answer):
                return answer
            if attempt == attempts - 1:
                tries = f" (after {attempts} attempts)" if attempts > 1 else ""
                return replace(answer, detail=answer.detail + tries)
            wait = min(
                self.settings.backoff_seconds * 2**attempt, self.settings.max_backoff_seconds
            )
            asked = _retry_after(answer)
            if asked is not None and asked > self.settings.max_backoff_seconds:
                # Asking again sooner than the server said would ignore its request; later
                # runs can try again.
                return replace(
                    answer,
                    detail=f"{answer.detail}; Retry-After {asked:g} s is past the "
                    f"{self.settings.max_backoff_seconds:g} s waited for",
                )
            self._sleep(max(wait, asked or 0.0))
        raise AssertionError("unreachable: the last attempt returns")

    def _attempt(
        self,
        url: str,
        target: httpx.URL,
        headers: Mapping[str, str],
        limit: int,
        *,
        truncate: bool,
    ) -> Fetched:
        """One request: its answer, the body only of a 200, and a reason for anything else."""
        self._pace(target)
        self.requests_made += 1
        status: int | None = None
        sent: tuple[tuple[str, str], ...] = ()
        version = "HTTP/1.1"
        body = b""
        deadline = _Deadline(self.settings.timeout_seconds * DEADLINE_TIMEOUTS)
        try:
            with (
                deadline,
                self._client.stream(
                    "GET", target, headers=headers, extensions={"trace": deadline.trace}
                ) as response,
            ):
                status, version = response.status_code, response.http_version
                sent = _raw_headers(response.headers)
                if status == 200:
                    body = _read_body(response, limit, truncate=truncate, deadline=deadline)
        except (httpx.HTTPError, httpx.InvalidURL, RejectError) as err:
            reason, detail = _failure(err)
            if deadline.expired.is_set():
                reason, detail = "timeout", deadline.detail
            return Fetched(url, url, status, sent, b"", _now(), reason, detail, version)
        if deadline.expired.is_set():  # cut mid-body where the body's end is the connection's
            return Fetched(url, url, status, sent, b"", _now(), "timeout", deadline.detail, version)
        if status != 200:
            phrase = f"{status} {response.reason_phrase}".strip()
            return Fetched(
                url, url, status, sent, b"", _now(), f"http_status_{status}", phrase, version
            )
        return Fetched(url, url, status, sent, body, _now(), None, "", version)

    def _pace(self, target: httpx.URL) -> None:
        """Wait until the host's delay has passed since the start of its last request."""
        host = target.raw_host.decode("ascii")
        last = self._last_start.get(host)
        if last is not None:
            gap = self._host_delay.get(host, self.settings.host_delay_seconds)
            wait = last + gap - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_start[host] = self._clock()

    def _check_robots(self, url: str, target: httpx.URL) -> None:
        """Raise RejectError unless the origin's robots.txt lets newsetl fetch the URL."""
        origin = _origin(target)
        robots = self._robots.get(origin)
        if robots is None:
            robots = self._robots[origin] = self._load_robots(origin)
            delay = robots.parser.crawl_delay(self.user_agent)
            if delay is not None:
                host = target.raw_host.decode("ascii")
                self._host_delay[host] = max(
                    self._host_delay.get(host, self.settings.host_delay_seconds),
                    min(float(delay), MAX_CRAWL_DELAY_SECONDS),
                )
        if not robots.parser.can_fetch(self.user_agent, url):
            raise RejectError(robots.reason, robots.detail)

    def _load_robots(self, origin: str) -> _Robots:
        """Fetch and read an origin's robots.txt, with RFC 9309's answer when there is none."""
        url = f"{origin}/robots.txt"
        answer = self._follow(url, {}, ROBOTS_MAX_BYTES, polite=False)
        parser = urllib.robotparser.RobotFileParser(url)
        if answer.reason is None:
            parser.parse(answer.body.decode("utf-8-sig", errors="replace").splitlines())
            return _Robots(parser, "robots_disallowed", f"disallowed by {url}")
        status = answer.status or 0
        if (400 <= status < 500 and status != 429) or answer.reason == "too_many_redirects":
            # No robots.txt (or none that can be found) means no rules.
            parser.parse([])
            return _Robots(parser, "robots_disallowed", "")
        parser.parse(["User-agent: *", "Disallow: /"])
        if answer.status is None:
            # The host itself is down or silent: the page would be too, and that is what the
            # caller should hear, not a refusal the site never made. Nothing more is asked of
            # it in this run.
            detail = f"{url} could not be fetched, so no page of {origin} is: {answer.detail}"
            return _Robots(parser, answer.reason or "connection_failed", detail)
        # A 5xx (or 429) robots.txt is "unreachable": RFC 9309 says assume all disallowed.
        detail = (
            f"{url} was unreachable ({answer.reason}: {answer.detail}), "
            f"so all of {origin} is disallowed"
        )
        return _Robots(parser, "robots_disallowed", detail)


@dataclass(frozen=True)
class _Robots:
    """An origin's robots.txt rules, and the reason and detail of a URL they refuse."""

    parser: urllib.robotparser.RobotFileParser
    reason: str
    detail: str


class _Deadline:
    """Cuts one attempt's connection when its total time runs out, wherever it is stuck."""

    def __init__(self, seconds: float) -> None:
        self.expired = threading.Event()
        self.detail = f"no complete answer within {seconds:g} s"
        self._lock = threading.Lock()
        self._stream: Any = None
        self._over = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Self:
        """Start the clock."""
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the clock, so a late expiry never touches the socket."""
        with self._lock:
            self._over = True  # from here on the socket may be closed, even reused
            self._stream = None
        self._timer.cancel()
        self._timer.join()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """Keep the connection's stream as httpx opens it (the `trace` request extension)."""
        if event in STREAM_EVENTS:
            with self._lock:
                self._stream = info.get("return_value")

    def _expire(self) -> None:
        """Shut the socket down, so the blocked read returns at once."""
        with self._lock:
            if self._over:
                return
            self.expired.set()
            sock = self._stream.get_extra_info("socket") if self._stream is not None else None
            if isinstance(sock, socket.socket):
                # The plain socket's shutdown, even for TLS: SSLSocket's own would tear down
                # the TLS state under the thread reading from it. OSError: already closed.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _checked_url(url: str) -> httpx.URL:
    """The URL parsed, or RejectError("unsupported_url") unless it is http(s) with a host."""
    try:
        parsed = httpx.URL(url)
        _ = parsed.host  # a malformed IDN label (xn--...) raises only when decoded
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, ValueError) as err:
        raise RejectError("unsupported_url", f"{url!r}: {err}") from None
    if parsed.scheme not in SCHEMES or not HOST.fullmatch(host):
        raise RejectError("unsupported_url", f"not an http or https URL with a host: {url!r}")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise RejectError("unsupported_url", f"port {parsed.port} out of range: {url!r}")
    return parsed


def _joined(base: str, location: str) -> str:
    """A redirect's target, resolved against the URL that sent it."""
    try:
        return urljoin(base, location)
    except ValueError:
        return location  # unparseable: _checked_url refuses it with its reason


def _origin(url: httpx.URL) -> str:
    """scheme://host:port, the scope of one robots.txt."""
    host = url.raw_host.decode("ascii")
    host = f"[{host}]" if ":" in host else host
    port = SCHEMES[url.scheme] if url.port is None else url.port
    return f"{url.scheme}://{host}:{port}"


def _validators(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The conditional request headers; a value that could not be sent as is is left out."""
    headers = {"If-None-Match": etag, "If-Modified-Since": last_modified}
    # A header value with a line break or a non-ASCII character would make httpx raise; a
    # request without the validator only costs a full answer.
    return {k: v for k, v in headers.items() if v and all(" " <= c <= "~" for c in v)}


def _raw_headers(headers: httpx.Headers) -> tuple[tuple[str, str], ...]:
    """Response headers in the order and case they were sent."""
    return tuple((k.decode(headers.encoding), v.decode(headers.encoding)) for k, v in headers.raw)


def _read_body(
    response: httpx.Response, limit: int, *, truncate: bool, deadline: _Deadline
) -> bytes:
    """The decoded body, or RejectError("too_large") past `limit` unless `truncate`."""
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise RejectError(
            "too_large", f"Content-Length {declared} is over the cap of {limit} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if deadline.expired.is_set():
            raise RejectError("timeout", deadline.detail)
        if size + len(chunk) > limit:
            if not truncate:
                raise RejectError("too_large", f"the body is over the cap of {limit} bytes")
            chunks.append(chunk[: limit - size])
            break
        size += len(chunk)
        chunks.append(chunk)
    return b"".join(chunks)


def _failure(err: Exception) -> tuple[str, str]:
    """The reason and detail of a request that got no usable answer."""
    detail = f"{type(err).__name__}: {err}"
    if isinstance(err, RejectError):
        return err.reason, err.detail
    if isinstance(err, httpx.TimeoutException):
        return "timeout", detail
    if isinstance(err, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return "unsupported_url", detail
    if isinstance(err, httpx.DecodingError):
        return "undecodable", detail
    return "connection_failed", detail


def _passing(answer: Fetched) -> bool:
    """Tell whether a failure may pass if asked again: overload, a timeout, a lost connection."""
    return answer.status in RETRY_STATUSES or answer.reason in ("timeout", "connection_failed")


def _retry_after(answer: Fetched) -> float | None:
    """The seconds a `Retry-After` header asks to wait (either form), or None."""
    value = (answer.header("retry-after") or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _no_answer(url: str, reason: str, detail: str) -> Fetched:
    """A fetch that ended before the URL was asked."""
    return Fetched(url, url, None, (), b"", _now(), reason, detail)


def default_user_agent() -> str:
    """newsetl's user agent, with the installed version."""
    try:
        version = metadata.version("newsetl")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"newsetl/{version} (+{PROJECT_URL}; news ETL batch job)"


def _now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)
