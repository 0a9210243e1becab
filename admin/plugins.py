"""Plugins page: loaded and skipped plugins, versions, and what each one contributes; how the last
plugin roll of this instance's `serve` master went, and a button asking it for one (as SIGHUP)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from admin.render import page
from admin.state import MAIN_APP
from host.activation import SERVED, ActivationView, NoMaster, activation_view, request_roll
from host.bus import BUS
from host.data.migrate import TABLE_APPS, migration_status
from host.loader import REGISTRY
from host.pipeline import PIPELINE
from host.problems import Problem

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


@web_routes.get("/plugins")
async def plugins_page(request: web.Request) -> web.StreamResponse:
    app = request.app[MAIN_APP]
    migrations: Any
    try:
        migrations = await migration_status([*app[TABLE_APPS], *app[REGISTRY].loaded])
    except Exception as exc:  # the page must still render when the status cannot be read
        migrations = {"error": f"{type(exc).__name__}: {exc}"}
    activation: ActivationView | None
    activation_error = ""
    try:
        activation = await activation_view(app.get(SERVED), others=True)
    except Exception as exc:  # e.g. its table not migrated yet: say so, show the rest
        activation, activation_error = None, f"{type(exc).__name__}: {exc}"
    host_routes = sorted(
        f"{r.method} {r.full_path}"
        for r in app[PIPELINE].routes
        if r.plugin.split("_")[0] == "host"
    )
    return page(
        request,
        "plugins.html",
        {
            "plugins": contributions(app),
            "host_routes": host_routes,
            "migrations": migrations,
            "activation": activation,
            "activation_error": activation_error,
            "requested": request.query.get("roll") == "requested",
        },
    )


@web_routes.post("/plugins/reload")
async def plugins_reload(request: web.Request) -> web.StreamResponse:
    """The same rolling activation as SIGHUP to the master; refused (409) when there is none."""
    try:
        await request_roll(request.app[MAIN_APP].get(SERVED))
    except NoMaster as exc:
        raise Problem(409, str(exc), title="No plugin roll without a serve master") from exc
    raise web.HTTPSeeOther("/admin/plugins?roll=requested")
