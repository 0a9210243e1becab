"""The gateway: per-app routes.d files mapping external paths to internal or upstream locations.

`install(app)` wires it in (called from `create_app`):
- a pipeline stage (first) that selects the app, matches, checks roles and dispatches;
- HTTP entry points beyond `/api/`: `/apps/{app}/...`, and any path carrying `X-App-Name`;
- admin endpoints under `/api/v1/admin/routes/...` (role admin);
- the `routes` section of `/healthz`;
- start-up work: the pooled upstream client, the first load, the watcher (and SIGHUP under
  `plughost serve`, see `enable_sighup`).
See docs/routes.md for the file format.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from host.gateway.admin import routes as admin_routes
from host.gateway.policy import UpstreamPolicy
from host.gateway.proxy import new_session
from host.gateway.stage import APP_HEADER, gateway_stage
from host.gateway.state import GATEWAY, Gateway
from host.gateway.store import RouteStore
from host.gateway.watcher import watch_routes
from host.keys import HEALTH, PIPELINE, SETTINGS
from host.web import api_entry

__all__ = ("GATEWAY", "Gateway", "enable_sighup", "install")

log = logging.getLogger("plughost.gateway")


def install(app: web.Application) -> None:
    settings = app[SETTINGS]
    policy = UpstreamPolicy.from_settings(settings)
    gateway = Gateway(
        store=RouteStore(settings.routes_dir, policy), direct_api=settings.gateway_direct_api
    )
    app[GATEWAY] = gateway
    pipeline = app[PIPELINE]
    pipeline.add_stage(gateway_stage, first=True)
    pipeline.host_routes.extend(replace(d, version="v1", plugin="host") for d in admin_routes.defs)

    async def health() -> dict[str, Any]:
        return gateway.store.health()

    app[HEALTH]["routes"] = health
    # /api/... already reaches the pipeline; these make app paths outside /api/ reach it too
    app.router.add_route("*", "/apps/{app}", api_entry)
    app.router.add_route("*", "/apps/{app}/{tail:.*}", api_entry)
    app.middlewares.append(_app_header_entry)
    app.cleanup_ctx.append(_lifecycle)


def enable_sighup(app: web.Application) -> None:
    """Reload every route file on SIGHUP (for `plughost serve`; the process owns its signals)."""
    app[GATEWAY].handle_sighup = True


@web.middleware
async def _app_header_entry(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A call with X-App-Name on any path (not just /api/...) is a gateway call."""
    if APP_HEADER in request.headers and not request.path.startswith(("/api/", "/apps/")):
        return await api_entry(request)
    return await handler(request)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings, gateway = app[SETTINGS], app[GATEWAY]
    store = gateway.store
    try:
        store.directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.error("routes folder %s cannot be created: %s", store.directory, exc)
    gateway.session = new_session(allow_link_local=settings.upstream_allow_link_local)
    summary = await store.reload(reason="start-up")
    log.info("routes loaded at start-up: %s", summary)
    stop = asyncio.Event()
    watcher = asyncio.create_task(
        watch_routes(
            store,
            stop,
            events=settings.routes_watch,
            poll_seconds=settings.routes_poll_seconds,
        )
    )
    pending: set[asyncio.Task[Any]] = set()
    loop = asyncio.get_running_loop()
    if gateway.handle_sighup:

        def on_sighup() -> None:
            task = asyncio.create_task(store.reload(force=True, reason="SIGHUP"))
            pending.add(task)
            task.add_done_callback(pending.discard)

        loop.add_signal_handler(signal.SIGHUP, on_sighup)
    try:
        yield
    finally:
        if gateway.handle_sighup:
            loop.remove_signal_handler(signal.SIGHUP)
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(watcher, 5)
        for task in list(pending):
            task.cancel()
        await gateway.session.close()
