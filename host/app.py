"""The composition root: `create_app(settings)` lists the host's parts and the pipeline, once.

    built-in plugins   accounts, ops (/healthz, /metrics), openapi, batch, jobs, gateway, graphql
    discovered plugins plugins/ folders, PLUGHOST_PLUGIN_PATH, entry points (the admin UI is one)
    pipeline           context ─► routing (gateway) ─► identity ─► roles ─► body ─► validation
                       ─► unit of work ─► handler

Start-up (`cleanup_ctx`, in order): database → migrations (dev) → first admin → plugin set-up →
bus handlers and routes mounted → pipeline built and frozen → the parts' own start-up work.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from functools import partial

from aiohttp import web

from host import accounts, activation, batch, graphql, jobs, openapi, outbox
from host.auth import AUTH, Authenticator
from host.auth.users import ensure_first_admin
from host.bus import BUS, Bus
from host.config import SETTINGS, Settings, load_settings
from host.counters import count_bus_events
from host.data.db import close_db, init_db, tortoise_config
from host.data.migrate import TABLE_APPS, apply_migrations
from host.gateway import gateway_routing_stage
from host.gateway import plugin as gateway_plugin
from host.http import health
from host.http.edge import EveryPath, http_edge
from host.loader import REGISTRY, PluginRegistry, discover, load_order
from host.metrics import METRICS, Metrics, loop_lag_probe
from host.pipeline import PIPELINE, Pipeline, RouteDef, StageFactory, build_router
from host.pipeline.stages import (
    body_stage,
    context_stage,
    handler_endpoint,
    identity_stage,
    roles_stage,
    transaction_stage,
    validation_stage,
)
from host.plugin import HEALTH, Plugin, PluginContext

__all__ = (
    "BUILTINS",
    "HOST_APPS",
    "STAGES",
    "create_app",
    "database_config",
    "find_plugins",
    "with_host_apps",
)

log = logging.getLogger("plughost")

BUILTINS: tuple[Plugin, ...] = (
    accounts.plugin,
    health.plugin,
    openapi.plugin,
    batch.plugin,
    jobs.plugin,
    gateway_plugin,
    graphql.plugin,
    outbox.plugin,
    activation.plugin,
)
"""The host's own parts, on the same contract as third-party plugins, mounted first."""

STAGES: tuple[StageFactory, ...] = (
    context_stage,
    gateway_routing_stage,
    identity_stage,
    roles_stage,
    body_stage,
    validation_stage,
    transaction_stage,
)
"""The one pass every call takes, in order (see host/pipeline/stages.py); the handler ends it."""

HOST_APPS: tuple[Plugin, ...] = tuple(p for p in BUILTINS if p.models is not None)
"""The built-in parts that own tables, migrated first, each with its own migration history."""


def find_plugins(settings: Settings) -> PluginRegistry:
    """Discover and order plugins without touching the database (CLI `plughost plugins`)."""
    return PluginRegistry(load_order(discover(settings.plugin_dirs)))


def with_host_apps(plugins: Sequence[Plugin]) -> list[Plugin]:
    """Everything that owns tables, in migration order: the host's apps, then plugins."""
    return [*HOST_APPS, *plugins]


def database_config(settings: Settings, plugins: Sequence[Plugin]) -> dict[str, object]:
    apps = [(p.name, [p.models_module]) for p in with_host_apps(plugins) if p.models_module]
    return tortoise_config(settings.database_url, apps)


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # bodies are read by the pipeline's body stage with each route's own limit; aiohttp's own
    # limit (for request.read()) only needs to admit the largest of them
    largest = max(settings.max_body_bytes, settings.batch_max_bytes)
    app = web.Application(client_max_size=largest)
    app[SETTINGS] = settings
    app[REGISTRY] = find_plugins(settings)
    app[BUS] = Bus()
    app[AUTH] = Authenticator(
        settings.resolved_secret_key(),
        settings.token_ttl_seconds,
        user_cache_seconds=settings.auth_user_cache_seconds,
        login_limit=settings.login_max_failures,
        login_window=settings.login_window_seconds,
    )
    app[METRICS] = Metrics()
    app[PIPELINE] = Pipeline(STAGES, handler_endpoint)
    app[HEALTH] = {}
    app[TABLE_APPS] = HOST_APPS

    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_plugins)
    for part in (*BUILTINS, *app[REGISTRY].loaded):
        if part.install is not None:
            part.install(app)  # their start-up work runs after _plugins, in this order
    count_bus_events(app)
    app.cleanup_ctx.append(loop_lag_probe(METRICS))
    # everything else (the admin UI mounts its own sub-app at /admin) is one pass of the pipeline
    app.router.register_resource(EveryPath(http_edge(app)))  # any path, line breaks included
    return app


def _mounted(plugin: Plugin, settings: Settings) -> list[RouteDef]:
    """A plugin's routes as mounted: owner, API version, and limits named by a setting resolved."""
    out = []
    for version, table in plugin.rest.items():
        for route in table.defs:
            limit = route.max_body
            if isinstance(limit, str):
                limit = int(getattr(settings, limit))
            out.append(replace(route, version=version, plugin=plugin.name, max_body=limit))
    return out


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
    """Run plugin set-up hooks, mount what the surviving plugins bring, then freeze the pipeline."""
    settings, registry, bus, pipeline = app[SETTINGS], app[REGISTRY], app[BUS], app[PIPELINE]
    for plugin in registry.loaded:
        if plugin.setup is None:
            continue
        try:
            result = plugin.setup(PluginContext(name=plugin.name, settings=settings, bus=bus))
            if result is not None:
                await result
        except Exception as exc:
            log.exception("plugin set-up failed", extra={"plugin": plugin.name})
            registry.skip_with_dependents(plugin.name, f"set-up failed: {exc!r}")

    routes = [r for part in BUILTINS for r in _mounted(part, settings)]
    for plugin in registry.loaded:
        mine = _mounted(plugin, settings)
        _, errors = build_router(routes + mine)
        if errors:
            registry.skip_with_dependents(plugin.name, "bad routes: " + "; ".join(errors))
            continue
        routes += mine
    for plugin in registry.loaded:
        for pattern, handler in plugin.handlers():
            bus.subscribe(pattern, handler, owner=plugin.name)
    owners = {p.name for p in BUILTINS} | {p.name for p in registry.loaded}
    for error in pipeline.mount([r for r in routes if r.plugin in owners]):
        log.error("route not mounted", extra={"error": error})
    pipeline.build(app)
    loaded, skipped = [p.name for p in registry.loaded], [r.name for r in registry.skipped]
    log.info(
        "plugins mounted: %s%s",
        ", ".join(loaded) or "none",
        f"; skipped: {', '.join(skipped)} (see /healthz or `plughost plugins`)" if skipped else "",
        extra={"loaded": loaded, "skipped": skipped, "_plain_text": True},
    )
    yield
    await bus.close()
