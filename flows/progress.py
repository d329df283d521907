"""A run's progress: the flow reports each batch done, the command line may draw a bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

# A stage's name, the items it has done, and all it will do in this run.
Listener = Callable[[str, int, int], None]
_listeners: list[Listener] = []
STAGES = {
    "read": "reading inputs",
    "prepare": "cleaning, normalizing",
    "entities": "entities",
    "quotes": "quotes",
}


def report(stage: str, done: int, total: int) -> None:
    """Tell whoever listens that a stage has done `done` of its `total` items."""
    for listener in _listeners:
        listener(stage, done, total)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Hand the run's progress to a listener while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


@contextmanager
def progress_bar(console: Console) -> Iterator[None]:
    """Draw a bar per stage, with counts, elapsed time and an estimate of what is left."""
    bars = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(STAGES.get(stage, stage), total=total)
        bars.update(tasks[stage], completed=done, total=total)

    with bars, listening(update):
        yield
