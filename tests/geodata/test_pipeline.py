"""read_ahead: the same items in the same order, errors passed on, and a consumer that
stops early stops the producer and closes its generator."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from geodata.io.pipeline import read_ahead


def test_items_arrive_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def items() -> Iterator[int]:
        for i in range(1000):
            threads.add(threading.current_thread().name)
            yield i

    assert list(read_ahead(items(), depth=3)) == list(range(1000))
    assert threads == {"read-ahead"}


def test_an_error_reaches_the_consumer_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("the store went away")

    seen = []
    with pytest.raises(ValueError, match="the store went away"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_producer() -> None:
    produced, closed = [], threading.Event()

    def items() -> Iterator[int]:
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    reader = read_ahead(items(), depth=2)
    assert next(reader) == 0
    reader.close()
    assert closed.is_set()
    assert len(produced) <= 5  # never more than the queue and the item in hand ahead
    assert not any(t.name == "read-ahead" for t in threading.enumerate())
