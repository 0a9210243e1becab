"""The app factory: `create_app(settings)` wires every component onto one aiohttp Application.

Plugins are discovered here (import time problems show up before serving); the database, plugin
set-up and route mounting happen in `cleanup_ctx` at start-up, in this order:
database → migrations (dev) → first admin → plugin set-up → bus handlers and routes → components.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

from aiohttp import web

from host.api import RouteDef
from host.auth import Authenticator
from host.bus import Bus
from host.config import Settings, load_settings
from host.db import close_db, init_db, tortoise_config
from host.keys import AUTH, BUS, HEALTH, METRICS, PIPELINE, REGISTRY, SETTINGS
from host.loader import PluginRegistry, discover, load_order
from host.metrics import Metrics
from host.migrate import apply_migrations
from host.ops import healthz, metrics
from host.pipeline import Pipeline, build_router
from host.plugin import Plugin
from host.rest import routes as host_rest
from host.users import ensure_first_admin
from host.web import api_entry, context_middleware

__all__ = ("HOST_APPS", "create_app", "database_config", "find_plugins", "with_host_apps")

log = logging.getLogger("plughost")


def find_plugins(settings: Settings) -> PluginRegistry:
    """Discover and order plugins without touching the database (CLI `plughost plugins`)."""
    return PluginRegistry(load_order(discover(settings.plugin_dirs)))


HOST_DIR = Path(__file__).resolve().parent

HOST_APPS: tuple[Plugin, ...] = (
    Plugin(name="host", version="1", models="host.models", package_dir=HOST_DIR),
    Plugin(name="host_jobs", version="1", models="host.jobs.models", package_dir=HOST_DIR / "jobs"),
    Plugin(
        name="host_batch", version="1", models="host.batch.models", package_dir=HOST_DIR / "batch"
    ),
    Plugin(
        name="host_admin", version="1", models="admin.models", package_dir=HOST_DIR.parent / "admin"
    ),
    Plugin(
        name="host_outbox",
        version="1",
        models="host.outbox.models",
        package_dir=HOST_DIR / "outbox",
    ),
)
"""The host's own Tortoise apps (users; components add theirs, e.g. jobs), migrated first and like
plugins: each has its models module and its own migrations folder."""


def with_host_apps(plugins: list[Plugin]) -> list[Plugin]:
    """Everything that owns tables, in migration order: the host's apps, then plugins."""
    return [*HOST_APPS, *plugins]


def database_config(settings: Settings, plugins: list[Plugin]) -> dict[str, object]:
    apps = [(p.name, [p.models_module]) for p in with_host_apps(plugins) if p.models_module]
    return tortoise_config(settings.database_url, apps)


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    largest = max(settings.max_body_bytes, settings.batch_max_bytes)
    app = web.Application(middlewares=[context_middleware], client_max_size=largest)
    app[SETTINGS] = settings
    app[REGISTRY] = find_plugins(settings)
    app[BUS] = Bus()
    app[AUTH] = Authenticator(settings.resolved_secret_key(), settings.token_ttl_seconds)
    app[METRICS] = Metrics()
    app[PIPELINE] = Pipeline(default_max_body=settings.max_body_bytes)
    app[HEALTH] = {}
    app[PIPELINE].host_routes.extend(_versioned(host_rest.defs, "v1", "host"))

    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_plugins)
    from host import outbox

    outbox.install(app)  # after _plugins: the relay needs the handlers; stops before bus.close

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    # components add their endpoints, stages and start-up work here, in this order
    from host import openapi

    openapi.install(app)
    from host import jobs

    jobs.install(app)
    from host import batch

    batch.install(app)
    from host import gateway

    gateway.install(app)
    from host import graphql as graphql_endpoint

    graphql_endpoint.install(app)
    import admin

    admin.install(app)
    app.router.add_route("*", "/api/{tail:.*}", api_entry)
    return app


def _versioned(defs: list[RouteDef], version: str, owner: str) -> list[RouteDef]:
    from dataclasses import replace

    return [replace(d, version=version, plugin=owner) for d in defs]


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    plugins = app[REGISTRY].loaded
    config = database_config(settings, plugins)
    db = await init_db(config)
    try:
        first_admin = partial(ensure_first_admin, settings.data_dir, settings.admin_password)
        if settings.dev:  # under the migration lock: hosts starting together create one admin
            await apply_migrations(config, with_host_apps(plugins), dev=True, then=first_admin)
        else:
            await first_admin()
        yield
    finally:
        await close_db(db)


async def _plugins(app: web.Application) -> AsyncIterator[None]:
    """Run plugin set-up hooks, then mount what the surviving plugins bring."""
    registry, bus, pipeline = app[REGISTRY], app[BUS], app[PIPELINE]
    for plugin in registry.loaded:
        if plugin.setup is None:
            continue
        try:
            result = plugin.setup(app)
            if result is not None:
                await result
        except Exception as exc:
            log.exception("plugin set-up failed", extra={"plugin": plugin.name})
            registry.skip_with_dependents(plugin.name, f"set-up failed: {exc!r}")

    routes = list(pipeline.host_routes)
    for plugin in registry.loaded:
        mine = [
            d
            for version, table in plugin.rest.items()
            for d in _versioned(table.defs, version, plugin.name)
        ]
        _, errors = build_router(routes + mine)
        if errors:
            registry.skip_with_dependents(plugin.name, "bad routes: " + "; ".join(errors))
            continue
        routes += mine
    for plugin in registry.loaded:
        for pattern, handler in plugin.handlers():
            bus.subscribe(pattern, handler, owner=plugin.name)
    errors = pipeline.mount([r for r in routes if r.plugin in _owners(registry)])
    for error in errors:
        log.error("route not mounted", extra={"error": error})
    log.info(
        "plugins mounted",
        extra={
            "loaded": [p.name for p in registry.loaded],
            "skipped": {r.name: r.reason for r in registry.skipped},
        },
    )
    yield
    await bus.close()


def _owners(registry: PluginRegistry) -> set[str]:
    return {"host", *(p.name for p in registry.loaded)}
