"""The gateway: per-app routes.d files mapping external paths to internal or upstream locations.

A built-in plugin:
- its routing stage (`gateway_routing_stage`, listed in `create_app`'s pipeline) selects the app
  (`X-App-Name` on any path, or `/apps/{app}/...`), matches its table and resolves the call to an
  internal route or an upstream;
- admin endpoints under `/api/v1/admin/routes/...` (role admin);
- through its `install` hook: the `routes` section of `/healthz` and the start-up work (the pooled
  upstream client, the first load, the watcher, and SIGHUP under `plughost serve`, see
  `enable_sighup`).
See docs/routes.md for the file format.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from host.config import SETTINGS
from host.gateway.admin import routes as admin_routes
from host.gateway.policy import UpstreamPolicy
from host.gateway.proxy import new_session
from host.gateway.stage import gateway_routing_stage
from host.gateway.state import GATEWAY, Gateway
from host.gateway.store import RouteStore
from host.gateway.watcher import watch_routes
from host.plugin import HEALTH, Plugin

__all__ = ("GATEWAY", "Gateway", "enable_sighup", "gateway_routing_stage", "plugin")

log = logging.getLogger("plughost.gateway")


def _install(app: web.Application) -> None:
    settings = app[SETTINGS]
    policy = UpstreamPolicy.from_settings(settings)
    gateway = Gateway(
        store=RouteStore(settings.routes_dir, policy), direct_api=settings.gateway_direct_api
    )
    app[GATEWAY] = gateway

    async def health() -> dict[str, Any]:
        return gateway.store.health()

    app[HEALTH]["routes"] = health
    app.cleanup_ctx.append(_lifecycle)


plugin = Plugin(
    name="host_gateway",
    version="1",
    rest={"v1": admin_routes},
    install=_install,
    description="Micro-app gateway: routes.d/<app>.json, reloaded live",
)


def enable_sighup(app: web.Application) -> None:
    """Reload every route file on SIGHUP (for `plughost serve`; the process owns its signals)."""
    app[GATEWAY].handle_sighup = True


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings, gateway = app[SETTINGS], app[GATEWAY]
    store = gateway.store
    try:
        store.directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.error(
            "routes folder %s cannot be created (%s): fix PLUGHOST_ROUTES_DIR",
            store.directory,
            exc.strerror,
        )
    gateway.session = new_session(allow_link_local=settings.upstream_allow_link_local)
    summary = await store.reload(reason="start-up")
    apps = [f"{app} ({store.status[app].routes} routes)" for app in summary["applied"]]
    log.info(
        "routes loaded at start-up from %s: %s%s",
        store.directory,
        ", ".join(apps) or "no app",
        f"; failed: {', '.join(summary['failed'])}" if summary["failed"] else "",
        extra={**summary, "_plain_text": True},
    )
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
