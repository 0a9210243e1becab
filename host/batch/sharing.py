"""Batch items leave the event loop to others now and then (pure scheduling, no I/O).

An item that needs no round trip to a database thread (on SQLite a create's INSERT runs on the
loop's thread, host/data/folding.py) never suspends, so a lane would run item after item and the
loop would serve nobody else until the next commit: measured, a 3,000-item batch with
`enclosingTransaction=true` held every other request (`/healthz` included) for 900 ms. A batch
therefore hands the loop over (`asyncio.sleep(0)`: one turn of the loop, in which waiting
requests are read and run) whenever it has held it for `SLICE` seconds.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ("SLICE", "LoopShare")

SLICE = 0.002
"""Seconds of batch work after which other tasks get a turn of the loop."""


class LoopShare:
    """One batch's claim on the loop: `await share.now_and_then()` between items."""

    __slots__ = ("_since",)

    def __init__(self) -> None:
        self._since = time.monotonic()

    async def now_and_then(self) -> None:
        """Yield to the loop if this batch has run `SLICE` seconds since it last did."""
        now = time.monotonic()
        if now - self._since >= SLICE:
            await asyncio.sleep(0)
            self._since = time.monotonic()
