"""Map over a pool (threads or processes), results in the input's order, a bounded number ahead.

Used by ingestion (files normalized on threads, read from the landing zone in order) and the demo
generator (people simulated in worker processes, written in order): each keeps the order of its
output exactly as one worker would write it, and its memory bounded by `ahead` items in flight."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def in_order(pool: Executor, fn: Callable[..., R], items: Iterable[T], *, ahead: int,
             prepare: Callable[[T], tuple[Any, ...]] | None = None) -> Iterator[R]:
    """fn(*prepare(item)) (or fn(item)) for each item on `pool`, yielded in the items' order, with at
    most `ahead` submitted and not yet yielded. `prepare` runs here, in the caller's thread, one item
    after the other: an error there (a landing zone that cannot be read) stops at its item, once the
    items already submitted are done or cancelled. Leaving the loop early cancels what has not started."""
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, *(prepare(item) if prepare else (item,))))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
