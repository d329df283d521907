"""What every step of a run shares: its context, and the errors that end a run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from prefect.runtime import flow_run

from flows import outside_run_dates
from tasks.settings import Settings
from tasks.store import write


class InvariantError(Exception):
    """The run lost track of an input: inputs != articles + rejects."""


class DataCheckError(Exception):
    """An error-level data-quality check found rows; the run is not committed."""


class EmptyInputError(Exception):
    """A date with committed articles has no input now; replacing them needs --allow-empty."""


def check_run_date(day: date) -> date:
    """The logical date, if within the accepted range; else a ValueError that says so."""
    refused = outside_run_dates(day)
    if refused:
        raise ValueError(f"run date {refused}")
    return day


def logical_date(run_date: date | None) -> date:
    """The run's logical date: given, else the scheduled start of a deployment run, else today."""
    if run_date is not None:
        return run_date
    scheduled = flow_run.scheduled_start_time
    return scheduled.date() if scheduled is not None else datetime.now(UTC).date()


@dataclass(frozen=True)
class Context:
    """What every step of one run needs besides its data."""

    input_dir: str  # `--input` as given: a folder, a file, or a feed's, sitemap's or list's URL
    warehouse: Path
    day: date
    settings: Settings
    started: datetime
    concurrency: int  # batches in flight at once (1: one after the other, in this process)
    allow_empty: bool = False  # a date with committed articles may be emptied by no input
    # The warehouse's commits as the run found them: read once, by every step before its own.
    commits: write.Commits | None = None

    @property
    def attempt(self) -> str:
        """This run's attempt: the stem of every file it writes."""
        return write.attempt_name(self.started)
