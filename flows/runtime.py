"""How tasks are called: records sealed from Prefect's argument walk, Dask tokens, batches, retries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar, overload

from prefect.tasks import exponential_backoff

from tasks.core.records import (
    ParsedBatch,
)

T = TypeVar("T")

B = TypeVar("B")


def transient(task: Any, task_run: Any, state: Any) -> bool:
    """Whether a failed load or write is worth another try: a file-system error may pass."""
    try:
        state.result()
    except OSError:
        return True
    except BaseException:  # a deterministic error fails the same way every time
        return False
    return False


# Loads and writes touch the file system, where a transient error (NFS, a full disk being
# freed) is worth waiting for: three tries, 2 s then 4 s apart, with jitter.
IO_RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": exponential_backoff(2),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": transient,
}


class Sealed(Sequence[T]):
    """A read-only sequence of records that Prefect hands to a task without walking it.

    Prefect looks inside list, tuple, dict and dataclass arguments for futures to resolve,
    which takes 2.3 s for a list of 50,000 mentions; this is none of those. Prefect's own
    `quote` and `opaque` are tuples, and Dask sends them to a worker as plain tuples.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[T]) -> None:
        self._items = tuple(items)

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self._items[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)


def identity_token(value: object) -> tuple[str, int]:
    """A task argument's Dask token: which object it is, not what it holds.

    Dask names each submitted call by a token of its arguments, which for records it takes
    by pickling and unpickling them twice: 130 ms for a batch's mentions, 80 ms for its
    DocBin, on every submit and in the flow process that feeds the workers. Every Prefect
    call carries a new task run id besides, so the name stays unique.
    """
    return (type(value).__name__, id(value))


def register_dask_tokens() -> None:
    """Give the batch records Dask sees as task arguments their identity as token."""
    from dask.tokenize import normalize_token

    normalize_token.register((Sealed, ParsedBatch))(identity_token)  # type: ignore[no-untyped-call]


def sealed(value: Any) -> Any:
    """A list or tuple argument sealed; anything else as it is."""
    return Sealed(value) if isinstance(value, list | tuple) else value


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Split a sequence into consecutive batches."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
