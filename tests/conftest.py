"""Shared test setup: quiet, offline Prefect, and the seeds folder."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.core.records import Article, short_hash

# Before anything imports Prefect: only warnings, and no log shipping to the API.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
# A `newsetl` command uses a Prefect server running at PREFECT_SERVER_API_PORT: the tests'
# commands look at a loopback port held here (bound, never listening) instead of a
# developer's own server at 4200. A test that wants one running starts it.
_NO_SERVER = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
_NO_SERVER.bind(("127.0.0.1", 0))
os.environ["PREFECT_SERVER_API_PORT"] = str(_NO_SERVER.getsockname()[1])

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session", autouse=True)
def prefect_api() -> Iterator[None]:
    """One temporary Prefect server for the session, which ends with it even when killed."""
    from prefect.server.api.server import SubprocessASGIServer

    from flows.engine import start_api

    start_api()
    yield
    SubprocessASGIServer().stop()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The embedded sample articles."""
    return SEEDS


@pytest.fixture(scope="session")
def seed_texts() -> list[str]:
    """The text of each sample article, in file order."""
    return [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


@pytest.fixture(scope="session")
def make_article() -> Callable[..., Article]:
    """Build a normalized Article from a body, as the normalize stage would."""

    def build(body: str, uri: str = "a.txt", **fields: Any) -> Article:
        defaults: dict[str, Any] = {
            "article_id": short_hash(f"{uri}\x00{body}"),
            "content_hash": short_hash(body),
            "source_uri": uri,
            "url": None,
            "outlet": None,
            "title": None,
            "title_source": None,
            "standfirst": None,
            "author": None,
            "published_at": None,
            "published_date": None,
            "published_at_source": None,
            "modified_at": None,
            "modified_at_source": None,
            "language": "en",
            "nlp_skip_reason": None,
            "body": body,
            "word_count": len(body.split()),
            "content_type": "text",
            "encoding": "utf-8",
            "removed": (),
        }
        return Article(**{**defaults, **fields})

    return build


@pytest.fixture
def web() -> Iterator[Any]:
    """A loopback web site (tests/webserver.py's Site) for one test, stopped after it."""
    from webserver import Site

    site = Site()
    yield site
    site.stop()
