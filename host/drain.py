"""Draining: what a serving process does between SIGTERM and exit, and the flag handlers check.

On SIGTERM (`host.serve`) the process turns `draining` (health and readiness answer 503
"draining", so a load balancer stops sending), optionally waits `PLUGHOST_DRAIN_DELAY` for the
balancer to notice, stops accepting, ends long-lived streams (SSE: they would otherwise hold the
shutdown for the whole grace period), lets in-flight requests finish, and exits within
`PLUGHOST_SHUTDOWN_GRACE`. Streams register themselves with `track_stream`; draining ends each one
cleanly and stops its handler (EventSource clients reconnect, to another process).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ("DRAIN", "Drain", "is_draining", "track_stream")


@dataclass
class Drain:
    draining: bool = False
    streams: dict[asyncio.Task[Any], web.StreamResponse] = field(default_factory=dict)

    def start(self) -> None:
        self.draining = True

    async def close_streams(self) -> int:
        """End every open stream cleanly (the last chunk is sent, so the client sees an end,
        not a broken transfer), then stop its handler."""
        open_ = [(t, r) for t, r in self.streams.items() if not t.done()]
        for task, response in open_:
            with contextlib.suppress(Exception):
                await response.write_eof()
            task.cancel()
        return len(open_)


DRAIN = web.AppKey("drain", Drain)
"""Set by `host.serve` on the main application before start-up; absent in in-process tests."""


def is_draining(app: web.Application) -> bool:
    drain = app.get(DRAIN)
    return drain is not None and drain.draining


def track_stream(app: web.Application, response: web.StreamResponse) -> None:
    """Register the current handler's prepared `response` as a long-lived stream, ended when the
    process drains.

    `app` is the host application (a sub-application passes the one it is mounted on).
    """
    drain = app.get(DRAIN)
    task = asyncio.current_task()
    if drain is None or task is None:
        return
    drain.streams[task] = response
    task.add_done_callback(lambda t: drain.streams.pop(t, None))
