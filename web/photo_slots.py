"""How many photos one worker process decodes at once.

Decoding a photo takes tens of megabytes and most of a CPU for a moment; a burst of
uploads must not multiply that without bound. Each worker holds a few slots; a photo
that finds none free is not queued (a queue would hold its body in memory all the same)
but answered at once with 503 and ``Retry-After``. Taking a slot never waits, so the
threads that decode never block, and the event loop never waits on them either.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from geodata.errors import HeritageError

RETRY_AFTER_S = 3  # a photo takes well under a second to decode: a short wait is enough


class PhotosBusy(HeritageError):
    """Every decoding slot of this worker is taken; the client should retry shortly."""

    code = "photos_busy"
    status = 503
    retry_after_s = RETRY_AFTER_S


class PhotoSlots:
    """At most ``count`` photos decoded at once (per process, shared by its threads)."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError("at least one photo must be allowed at a time")
        self.count = count
        self._free = threading.BoundedSemaphore(count)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the block; raise PhotosBusy at once if none is free."""
        if not self._free.acquire(blocking=False):
            raise PhotosBusy(
                "the service is busy with other photos right now; send yours again in a few seconds"
            )
        try:
            yield
        finally:
            self._free.release()
