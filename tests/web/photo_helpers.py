"""Holding the app's photo-decoding slots, as uploads in progress would: a test that does
so knows for certain whether a request got as far as decoding (it would get a 503)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def all_photo_slots_taken(app) -> Iterator[None]:
    """Hold every decoding slot of ``app`` for the block."""
    with contextlib.ExitStack() as held:
        for _ in range(app.state.photo_slots.count):
            held.enter_context(app.state.photo_slots.slot())
        yield
