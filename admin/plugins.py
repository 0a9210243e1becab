"""Plugins page: loaded and skipped plugins, versions, and what each one contributes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from tortoise import connections

from admin.render import page
from admin.state import MAIN_APP
from host.app import with_host_apps
from host.bus import BUS
from host.data.db import CONNECTION
from host.data.migrate import applied_versions, dialect_dir, dialect_of, migration_files
from host.loader import REGISTRY
from host.pipeline import PIPELINE

__all__ = ("web_routes",)

web_routes = web.RouteTableDef()


@dataclass
class Contribution:
    name: str
    version: str
    status: str
    source: str
    reason: str = ""
    requires: list[str] = field(default_factory=list)
    description: str = ""
    routes: list[str] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)
    graphql_types: list[str] = field(default_factory=list)
    workflows: list[str] = field(default_factory=list)
    models: str = ""


def graphql_types(sdl: str) -> list[str]:
    """Type names an SDL fragment defines or extends (a light scan; the SDL is parsed elsewhere)."""
    found = re.findall(
        r"\b(?:extend\s+)?(type|input|enum|interface|union|scalar)\s+([A-Za-z_]\w*)", sdl
    )
    names: list[str] = []
    for _, name in found:
        if name not in names:
            names.append(name)
    return names


def contributions(app: web.Application) -> list[Contribution]:
    registry, pipeline, bus = app[REGISTRY], app[PIPELINE], app[BUS]
    out: list[Contribution] = []
    for rec in registry.records:
        plugin = rec.plugin
        item = Contribution(
            name=rec.name,
            version=rec.version,
            status=rec.status,
            source=rec.source,
            reason=rec.reason,
        )
        if plugin is not None:
            item.requires = list(plugin.requires)
            item.description = plugin.description
            item.models = plugin.models_module or ""
            item.workflows = [w.name for w in plugin.workflows]
            if plugin.graphql is not None:
                item.graphql_types = graphql_types(plugin.graphql.sdl)
        item.routes = sorted(
            f"{r.method} {r.full_path}" for r in pipeline.routes if r.plugin == rec.name
        )
        item.handlers = sorted(
            f"{s.pattern} → {getattr(s.handler, '__qualname__', repr(s.handler))}"
            for s in bus.subscriptions()
            if s.owner == rec.name
        )
        out.append(item)
    return out


async def migration_status(app: web.Application) -> dict[str, dict[str, list[str]]]:
    """Applied and pending migration files per table-owning app (host apps, then plugins).

    Read-only: the files in each app's folder for this database's dialect, against aerich's
    bookkeeping table, as `plughost migrate` compares them.
    """
    dialect = dialect_of(connections.get(CONNECTION))
    out: dict[str, dict[str, list[str]]] = {}
    for plugin in with_host_apps(app[REGISTRY].loaded):
        if not plugin.models_module:
            continue
        files = [f.name for f in migration_files(dialect_dir(plugin, dialect))]
        done = await applied_versions(plugin.name)
        out[plugin.name] = {
            "applied": [f for f in files if f in done],
            "pending": [f for f in files if f not in done],
        }
    return out


@web_routes.get("/plugins")
async def plugins_page(request: web.Request) -> web.StreamResponse:
    app = request.app[MAIN_APP]
    migrations: Any
    try:
        migrations = await migration_status(app)
    except Exception as exc:  # the page must still render when the status cannot be read
        migrations = {"error": f"{type(exc).__name__}: {exc}"}
    host_routes = sorted(
        f"{r.method} {r.full_path}" for r in app[PIPELINE].routes if r.plugin == "host"
    )
    return page(
        request,
        "plugins.html",
        {
            "plugins": contributions(app),
            "host_routes": host_routes,
            "migrations": migrations,
        },
    )
