"""Reading ahead: a generator run on a thread of its own, a few items in advance.

An export spends most of its time in SQLite and in writing bytes out, and both release
the GIL: with the reading on one thread and the writing on another, a two-core machine
does both at once. The queue between them is short, so memory stays flat.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class _Failed:
    """An exception of the producer, carried to the consumer."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield what ``items`` yields, produced on another thread at most ``depth`` ahead.

    Exceptions reach the consumer in order. Closing this generator (or abandoning it)
    stops the producer and closes ``items`` on its own thread.
    """
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
        except BaseException as exc:  # handed over, raised in the consumer
            ready.put(_Failed(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
            ready.put(_DONE)

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():  # let a producer blocked on a full queue see the stop
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.1)
        thread.join()
