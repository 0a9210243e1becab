"""Follow routes.d while serving: file-system events plus a slow polling rescan as a safety net.

We watch the DIRECTORY, never the files, and treat any event batch as "something changed": rescan
and compare content hashes. That one rule covers in-place edits, atomic renames (which report
`added`), new and deleted files, and Kubernetes ConfigMap swaps (only `..data` and `..<timestamp>`
entries change; the visible `<app>.json` symlink never shows up in an event). The periodic rescan
catches what events miss on file systems without them (NFS, some bind mounts); a half-written file
simply fails validation and the next event or poll picks up the finished one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from watchfiles import awatch

from host.gateway.store import RouteStore

__all__ = ("watch_routes",)

log = logging.getLogger("plughost.gateway")


async def watch_routes(
    store: RouteStore,
    stop: asyncio.Event,
    *,
    events: bool = True,
    poll_seconds: float = 5.0,
    step_ms: int = 20,
    debounce_ms: int = 300,
) -> None:
    """Run until `stop` is set. Never raises: a broken watcher falls back to polling."""
    tasks = []
    if events:
        tasks.append(asyncio.create_task(_events(store, stop, step_ms, debounce_ms)))
    if poll_seconds > 0:
        tasks.append(asyncio.create_task(_poll(store, stop, poll_seconds)))
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _events(store: RouteStore, stop: asyncio.Event, step_ms: int, debounce_ms: int) -> None:
    try:
        async for _ in awatch(
            store.directory,
            stop_event=stop,
            watch_filter=None,
            step=step_ms,
            debounce=debounce_ms,
            recursive=False,
        ):
            await _reload(store, "watch")
    except Exception:
        log.exception("routes watcher stopped; the polling rescan still follows changes")


async def _poll(store: RouteStore, stop: asyncio.Event, seconds: float) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        if not stop.is_set():
            await _reload(store, "poll")


async def _reload(store: RouteStore, reason: str) -> None:
    try:
        await store.reload(reason=reason)
    except Exception:  # an unexpected bug must not end live reload
        log.exception("routes reload failed")
