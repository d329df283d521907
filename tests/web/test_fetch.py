"""The polite fetcher against a real loopback server: robots.txt, pacing, retries, caps."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from webserver import Site

from tasks.web.fetch import (
    MAX_CRAWL_DELAY_SECONDS,
    Fetched,
    Fetcher,
    FetchSettings,
    default_user_agent,
)

# A timeout long enough for a loaded test machine; the tests of timeouts set a short one.
FAST = FetchSettings(
    timeout_seconds=3.0,
    retries=2,
    backoff_seconds=0.01,
    max_backoff_seconds=0.5,
    host_delay_seconds=0.05,
    max_page_bytes=1_000_000,
)
PAGE = "<html><body><p>Hello, world.</p></body></html>"


class FakeTime:
    """A clock that only moves when slept on, recording each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """The fake monotonic time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the sleep and move the clock on by it."""
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def fetch(url: str, settings: FetchSettings = FAST, **validators: str) -> Fetched:
    """Fetch one URL with a fetcher of its own."""
    with Fetcher(settings) as fetcher:
        return fetcher.fetch(url, **validators)


def test_a_page_is_fetched_with_the_user_agent(web: Site) -> None:
    web.page("/a", PAGE, etag='"v1"', last_modified="Wed, 01 Jan 2025 00:00:00 GMT")
    with Fetcher(FAST) as fetcher:
        got = fetcher.fetch(web.url("/a"))
        assert fetcher.requests_made == 2
    assert (got.reason, got.status, got.body) == (None, 200, PAGE.encode())
    assert got.url == got.final_url == web.url("/a")
    assert (got.content_type, got.charset) == ("text/html", "utf-8")
    assert (got.etag, got.last_modified) == ('"v1"', "Wed, 01 Jan 2025 00:00:00 GMT")
    assert got.http_version == "HTTP/1.1"
    assert got.fetched_at.tzinfo == UTC
    assert abs((datetime.now(UTC) - got.fetched_at).total_seconds()) < 10
    assert web.paths() == ["/robots.txt", "/a"]
    assert {r.headers["user-agent"] for r in web.requests} == {default_user_agent()}


def test_content_type_and_charset_are_read_from_the_header() -> None:
    got = Fetched("u", "u", 200, (("content-TYPE", 'Text/HTML; Charset="ISO-8859-1"'),), b"",
                  datetime.now(UTC), None)  # fmt: skip
    assert (got.content_type, got.charset) == ("text/html", "ISO-8859-1")
    bare = replace(got, headers=(("Content-Type", "text/plain"),))
    assert (bare.content_type, bare.charset, bare.etag) == ("text/plain", None, None)


def test_robots_disallowed_paths_are_never_requested(web: Site) -> None:
    # The group of newsetl's product token applies, not the catch-all.
    web.robots("User-agent: *\nDisallow: /\n\nUser-agent: newsetl\nDisallow: /private\n")
    web.page("/private/x", PAGE)
    web.page("/public", PAGE)
    with Fetcher(FAST) as fetcher:
        refused = fetcher.fetch(web.url("/private/x"))
        allowed = fetcher.fetch(web.url("/public"))
    assert (refused.reason, refused.status, refused.body) == ("robots_disallowed", None, b"")
    assert "robots.txt" in refused.detail
    assert (allowed.reason, allowed.body) == (None, PAGE.encode())
    assert web.paths() == ["/robots.txt", "/public"]


def test_a_missing_robots_txt_allows_everything(web: Site) -> None:
    web.page("/a", PAGE)
    got = fetch(web.url("/a"))
    assert got.reason is None
    assert web.paths() == ["/robots.txt", "/a"]


def test_an_unreachable_robots_txt_disallows_everything(web: Site) -> None:
    web.page("/robots.txt", "down", status=503)
    web.page("/a", PAGE)
    with Fetcher(FAST) as fetcher:
        first = fetcher.fetch(web.url("/a"))
        second = fetcher.fetch(web.url("/b"))
        assert fetcher.requests_made == FAST.retries + 1
    assert (first.reason, second.reason) == ("robots_disallowed", "robots_disallowed")
    assert "unreachable" in first.detail
    assert web.paths() == ["/robots.txt"] * (FAST.retries + 1)


def test_a_crawl_delay_slows_the_host_down_up_to_its_cap(web: Site) -> None:
    web.robots("User-agent: newsetl\nCrawl-delay: 2\n")
    web.page("/a", PAGE)
    web.page("/b", PAGE)
    fake = FakeTime()
    with Fetcher(FAST, sleep=fake.sleep, clock=fake.clock) as fetcher:
        assert fetcher.fetch(web.url("/a")).reason is None
        assert fetcher.fetch(web.url("/b")).reason is None
    assert fake.sleeps == [2.0, 2.0]

    web.robots("User-agent: *\nCrawl-delay: 3600\n")
    fake = FakeTime()
    with Fetcher(FAST, sleep=fake.sleep, clock=fake.clock) as fetcher:
        fetcher.fetch(web.url("/a"))
    assert fake.sleeps == [MAX_CRAWL_DELAY_SECONDS]


def test_a_failing_page_is_fetched_after_retries(web: Site) -> None:
    web.sequence("/flaky", [(503, b"busy"), (503, b"busy"), (200, PAGE.encode())])
    got = fetch(web.url("/flaky"))
    assert (got.reason, got.status, got.body) == (None, 200, PAGE.encode())
    assert web.paths().count("/flaky") == 3


def test_retries_back_off_exponentially_then_give_up(web: Site) -> None:
    web.sequence("/down", [(503, b"busy")])
    web.sequence("/slow-down", [(429, b"wait"), (200, PAGE.encode())])
    fake = FakeTime()
    settings = replace(FAST, host_delay_seconds=0.0)
    with Fetcher(settings, sleep=fake.sleep, clock=fake.clock) as fetcher:
        down = fetcher.fetch(web.url("/down"))
        assert fake.sleeps == [0.01, 0.02]
        assert fetcher.fetch(web.url("/slow-down")).reason is None
    assert (down.reason, down.status, down.body) == ("http_status_503", 503, b"")
    assert "3 attempts" in down.detail
    assert web.paths().count("/down") == 3
    assert web.paths().count("/slow-down") == 2


def test_retry_after_is_honoured_up_to_the_longest_backoff(web: Site) -> None:
    web.page("/later", "busy", status=503, headers={"Retry-After": "2"})
    web.page("/much-later", "busy", status=503, headers={"Retry-After": "120"})
    fake = FakeTime()
    settings = replace(FAST, retries=1, max_backoff_seconds=5.0, host_delay_seconds=0.0)
    with Fetcher(settings, sleep=fake.sleep, clock=fake.clock) as fetcher:
        later = fetcher.fetch(web.url("/later"))
        assert fake.sleeps == [2.0]
        much_later = fetcher.fetch(web.url("/much-later"))
        assert fake.sleeps == [2.0]
    assert later.reason == much_later.reason == "http_status_503"
    assert "Retry-After 120 s" in much_later.detail
    assert web.paths().count("/later") == 2
    assert web.paths().count("/much-later") == 1


def test_a_page_that_never_answers_times_out(web: Site) -> None:
    web.hang("/hung")
    settings = replace(FAST, retries=1, timeout_seconds=0.5)
    start = time.monotonic()
    got = fetch(web.url("/hung"), settings)
    elapsed = time.monotonic() - start
    assert (got.reason, got.status, got.body) == ("timeout", None, b"")
    assert 1.0 <= elapsed < 4.0  # two attempts of a 0.5 s read timeout
    assert web.paths().count("/hung") == 2


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_trickling_answer_is_cut_at_the_deadline(web: Site, headers_too: bool) -> None:
    # A byte every 0.05 s never trips the 0.5 s read timeout; only the 1.5 s deadline stops it.
    web.trickle("/drip", b"x" * 200, every=0.05, headers_too=headers_too)
    settings = replace(FAST, retries=0, timeout_seconds=0.5)
    start = time.monotonic()
    got = fetch(web.url("/drip"), settings)
    elapsed = time.monotonic() - start
    assert (got.reason, got.body) == ("timeout", b"")
    assert got.status == (None if headers_too else 200)
    assert "1.5 s" in got.detail
    assert 1.4 <= elapsed < 4.0
    web.stop()
    assert web.bytes_sent["/drip"] < 100


@pytest.mark.parametrize("content_length", [True, False], ids=["declared", "streamed"])
def test_a_page_over_the_cap_is_too_large(web: Site, content_length: bool) -> None:
    size = 50_000_000
    web.large("/big", size, content_length=content_length)
    start = time.monotonic()
    got = fetch(web.url("/big"))
    elapsed = time.monotonic() - start
    web.stop()
    assert (got.reason, got.status, got.body) == ("too_large", 200, b"")
    assert ("Content-Length" in got.detail) is content_length
    assert elapsed < 5.0
    # The fetcher let go of the connection early: the server could not send the 50 MB.
    assert web.bytes_sent.get("/big", 0) < size // 2
    assert web.paths().count("/big") == 1


def test_the_cap_is_on_the_decoded_body(web: Site) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < FAST.max_page_bytes
    web.page("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    web.page("/fine", gzip.compress(PAGE.encode()), headers={"Content-Encoding": "gzip"})
    assert fetch(web.url("/bomb")).reason == "too_large"
    assert fetch(web.url("/fine")).body == PAGE.encode()


@pytest.mark.parametrize("status", [404, 410, 403])
def test_an_error_status_is_the_reason_without_retries(web: Site, status: int) -> None:
    if status != 404:
        web.page("/p", "no", status=status)
    got = fetch(web.url("/p"))
    assert (got.reason, got.status, got.body) == (f"http_status_{status}", status, b"")
    assert web.paths() == ["/robots.txt", "/p"]


def test_a_conditional_request_of_an_unchanged_page_is_not_modified(web: Site) -> None:
    date = "Wed, 01 Jan 2025 00:00:00 GMT"
    web.page("/c", PAGE, etag='"v2"', last_modified=date)
    by_etag = fetch(web.url("/c"), etag='"v2"')
    by_date = fetch(web.url("/c"), last_modified=date)
    changed = fetch(web.url("/c"), etag='"v1"')
    assert (by_etag.reason, by_etag.status, by_etag.body) == ("not_modified", 304, b"")
    assert (by_date.reason, by_date.status) == ("not_modified", 304)
    assert (changed.reason, changed.body, changed.etag) == (None, PAGE.encode(), '"v2"')
    page_requests = [r for r in web.requests if r.path == "/c"]
    assert [r.headers.get("if-none-match") for r in page_requests] == ['"v2"', None, '"v1"']
    assert page_requests[1].headers.get("if-modified-since") == date


def test_a_304_to_an_unconditional_request_is_only_a_status(web: Site) -> None:
    web.page("/odd", "", status=304)
    assert fetch(web.url("/odd")).reason == "http_status_304"


def test_redirects_are_followed(web: Site) -> None:
    web.redirect("/old", "/older", status=302)
    web.redirect("/older", web.url("/new"), status=308)
    web.page("/new", PAGE)
    got = fetch(web.url("/old"))
    assert (got.reason, got.body) == (None, PAGE.encode())
    assert (got.url, got.final_url) == (web.url("/old"), web.url("/new"))
    assert web.paths() == ["/robots.txt", "/old", "/older", "/new"]


def test_a_redirect_to_a_disallowed_page_is_refused(web: Site) -> None:
    web.robots("User-agent: *\nDisallow: /private\n")
    web.redirect("/r", "/private/p")
    web.page("/private/p", PAGE)
    got = fetch(web.url("/r"))
    assert (got.reason, got.status, got.body) == ("robots_disallowed", None, b"")
    assert got.final_url == web.url("/private/p")
    assert "/private/p" not in web.paths()


def test_a_redirect_loop_is_too_many_redirects(web: Site) -> None:
    web.redirect("/loop1", "/loop2")
    web.redirect("/loop2", "/loop1")
    got = fetch(web.url("/loop1"))
    assert (got.reason, got.status, got.body) == ("too_many_redirects", 301, b"")
    assert len([p for p in web.paths() if p.startswith("/loop")]) == FAST.max_redirects + 1


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/file",
        "file:///etc/passwd",
        "http://",
        "not a url",
        "http://127.0.0.1:99999/",
        "http://127.0.0.1:0/",
        "javascript:alert(1)",
    ],
)
def test_an_unsupported_url_is_never_requested(web: Site, url: str) -> None:
    with Fetcher(FAST) as fetcher:
        got = fetcher.fetch(url)
        assert fetcher.requests_made == 0
    assert (got.reason, got.status, got.url) == ("unsupported_url", None, url)
    assert web.requests == []


def test_a_redirect_to_an_unsupported_url_stops_there(web: Site) -> None:
    web.redirect("/r", "file:///etc/passwd")
    got = fetch(web.url("/r"))
    assert (got.reason, got.final_url) == ("unsupported_url", "file:///etc/passwd")


def test_requests_to_one_host_keep_their_distance(web: Site) -> None:
    for path in ("/1", "/2", "/3"):
        web.page(path, PAGE)
    settings = replace(FAST, host_delay_seconds=0.1)
    start = time.monotonic()
    with Fetcher(settings) as fetcher:
        for path in ("/1", "/2", "/3"):
            assert fetcher.fetch(web.url(path)).reason is None
    times = [r.at for r in web.requests]
    assert len(times) == 4
    # Each request starts 0.1 s after the one before, and the server sees it no earlier. (One
    # gap alone proves nothing: the server may read a request late and the next one promptly.)
    assert times[-1] - start >= 3 * 0.1


def test_retries_and_robots_txt_count_toward_the_host_delay(web: Site) -> None:
    web.sequence("/a", [(503, b"busy"), (200, PAGE.encode())])
    web.page("/b", PAGE)
    fake = FakeTime()
    with Fetcher(FAST, sleep=fake.sleep, clock=fake.clock) as fetcher:
        assert fetcher.fetch(web.url("/a")).reason is None
        assert fetcher.fetch(web.url("/b")).reason is None
    # robots.txt; /a after the delay; a 0.01 s backoff and the delay's 0.04 s left; /b.
    assert fake.sleeps == [0.05, 0.01, 0.04, 0.05]
    assert web.paths() == ["/robots.txt", "/a", "/a", "/b"]


def test_a_refused_connection_is_connection_failed() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/a"
    with Fetcher(FAST) as fetcher:
        first = fetcher.fetch(url)
        made = fetcher.requests_made
        second = fetcher.fetch(f"http://127.0.0.1:{port}/b")
        assert fetcher.requests_made == made  # a host found down is not asked again
    assert (first.reason, first.status, first.body) == ("connection_failed", None, b"")
    assert "robots.txt" in first.detail
    assert made == FAST.retries + 1
    assert second.reason == "connection_failed"


def test_proxy_settings_of_the_environment_are_ignored(
    web: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    web.page("/a", PAGE)
    assert fetch(web.url("/a")).reason is None


def test_a_stopped_site_leaves_no_thread_or_socket(web: Site) -> None:
    web.hang("/hung")
    web.large("/big", 50_000_000)
    with Fetcher(replace(FAST, retries=0, timeout_seconds=0.5)) as fetcher:
        assert fetcher.fetch(web.url("/hung")).reason == "timeout"
        assert fetcher.fetch(web.url("/big")).reason == "too_large"
    with socket.create_connection(("127.0.0.1", int(web.base.rsplit(":", 1)[1]))) as held:
        held.sendall(b"GET /hung HTTP/1.1\r\nHost: x\r\n\r\n")  # a client still waiting
        deadline = time.monotonic() + 2
        while web.paths().count("/hung") < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        start = time.monotonic()
        web.stop()
        assert time.monotonic() - start < 2.0
    names = [t.name for t in threading.enumerate()]
    assert not [n for n in names if "process_request_thread" in n or "serve_forever" in n]
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(web.base.rsplit(":", 1)[1])), timeout=1)
