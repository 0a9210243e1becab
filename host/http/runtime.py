"""How `plughost serve` runs the app: its event loop and its garbage collector.

The loop is uvloop when it is installed (PLUGHOST_EVENT_LOOP).

Measured with wrk on the public ping (docs/performance.md): uvloop takes a large share of the
per-request cost of asyncio's own loop (the socket and the callbacks), which is most of what an
aiohttp server spends on a trivial request. `asyncio` keeps the standard loop (for debugging or
profiling tools that need it).

Once start-up is done, everything it built (modules, the GraphQL schema, route tables, models) lives
as long as the process: `gc.freeze()` moves it out of the collector's sight, so collections triggered
by per-request garbage stop rescanning it (and forked workers keep sharing those pages).
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util

from aiohttp import web

__all__ = ("freeze_after_startup", "install_event_loop")


def install_event_loop(choice: str) -> str:
    """Set the loop policy for the loops created from now on; returns the loop in use."""
    if choice == "asyncio":
        return "asyncio"
    if importlib.util.find_spec("uvloop") is None:
        if choice == "uvloop":
            raise RuntimeError("PLUGHOST_EVENT_LOOP=uvloop, but uvloop is not installed")
        return "asyncio"
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def freeze_after_startup(app: web.Application) -> None:
    """Freeze the objects start-up made (see the module doc) once the app has started."""

    async def freeze(app: web.Application) -> None:
        gc.collect()
        gc.freeze()

    app.on_startup.append(freeze)
