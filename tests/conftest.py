"""Shared test setup: quiet, offline Prefect, and the seeds folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before anything imports Prefect: only warnings, and no log shipping to the API.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The embedded sample articles."""
    return SEEDS
