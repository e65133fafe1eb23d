"""touchline/ordered.py: results in the input's order, at most `ahead` in flight, and an error while
preparing an item stops at that item."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from touchline.ordered import in_order


def test_results_come_in_order_with_at_most_ahead_in_flight():
    lock, running, most = threading.Lock(), [0], [0]
    prepared: list[int] = []

    def work(i: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02 * (5 - i % 5))  # later items finish first
        with lock:
            running[0] -= 1
        return i * i

    def prepare(i: int) -> tuple[int]:
        prepared.append(i)
        return (i,)

    with ThreadPoolExecutor(4) as pool:
        out = []
        for result in in_order(pool, work, range(12), ahead=3, prepare=prepare):
            out.append(result)
            assert len(prepared) - len(out) <= 2  # at most `ahead` submitted and not yet yielded
    assert out == [i * i for i in range(12)]
    assert prepared == list(range(12)) and most[0] <= 3


def test_an_error_while_preparing_stops_at_its_item():
    def prepare(i: int) -> tuple[int]:
        if i == 4:
            raise OSError("cannot read item 4")
        return (i,)

    got = []
    with ThreadPoolExecutor(2) as pool, pytest.raises(OSError, match="item 4"):
        for result in in_order(pool, lambda i: i, range(10), ahead=2, prepare=prepare):
            got.append(result)
    assert got == [0, 1, 2]  # yielded before item 4 was prepared; 3 was submitted, not yielded
