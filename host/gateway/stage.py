"""The gateway's routing stage: pick the micro-app, match its table, resolve where the call goes.

    X-App-Name: mobile  GET /clients/7        ─┐
    GET /apps/mobile/clients/7                ─┴► routes.d/mobile.json: /clients/{id}
        ─► internal: the route of GET /api/v1/clients/7 (the rest of the same pass)
           upstream: a route whose handler proxies to the declared upstream (token attached)

It replaces the pipeline's plain `route_stage` when the gateway is installed: calls naming no app
go to the internal router directly (unless PLUGHOST_GATEWAY_DIRECT_API is off). Roles of both the
app's route and the internal route are checked by the roles stage, once each.
"""

from __future__ import annotations

import functools

from aiohttp import web

from host.gateway.proxy import proxy
from host.gateway.state import GATEWAY, Gateway
from host.gateway.table import AppTable, GatewayRoute
from host.pipeline import PIPELINE, ApiRequest, Call, Endpoint, RouteDef, match_or_problem
from host.pipeline.stages import resolve_internal
from host.problems import Problem

__all__ = ("APP_HEADER", "APP_PREFIX", "gateway_routing_stage", "select_app")

APP_HEADER = "X-App-Name"
APP_PREFIX = "/apps/"


def select_app(path: str, header: str | None, inherited: str | None) -> tuple[str | None, str]:
    """(app name or None, path within the app): the `/apps/<app>/` prefix, else the header."""
    if path.startswith(APP_PREFIX):
        name, _, rest = path[len(APP_PREFIX) :].partition("/")
        named = (header or "").strip().lower()
        if named and named != name.lower():
            raise Problem(400, f"{APP_HEADER} {named!r} disagrees with the path's app {name!r}")
        return name.lower(), "/" + rest
    if header is not None and header.strip():
        return header.strip().lower(), path
    return inherited, path


def gateway_routing_stage(app: web.Application, next_: Endpoint) -> Endpoint:
    gateway = app[GATEWAY]
    router = app[PIPELINE].router  # built after every route is mounted
    direct = gateway.direct_api

    async def routing(call: Call) -> web.StreamResponse:
        app_name, path = select_app(call.path, call.headers.get(APP_HEADER), call.app_name)
        if app_name is None:
            if not direct:
                raise Problem(
                    404,
                    f"No micro-app named: send {APP_HEADER} or use {APP_PREFIX}<app>/",
                    slug="unknown-app",
                )
            resolve_internal(call, router)
            return await next_(call)
        table = gateway.store.tables.get(app_name)
        if table is None:
            raise Problem(404, f"Unknown app {app_name!r}", slug="unknown-app")
        match = match_or_problem(table.match, call.method, path, where=f" in app {app_name!r}")
        gate = match.target
        call.gate, call.app_name = gate, app_name
        if gate.upstream is None:
            call.location = gate.target(match.params)
            resolve_internal(call, router)
        else:
            call.route = _upstream_route(gateway, table, gate, call.method)
            call.params = match.params
        return await next_(call)

    return routing


def _upstream_route(gateway: Gateway, table: AppTable, gate: GatewayRoute, method: str) -> RouteDef:
    """The route of an upstream mapping: its handler proxies. Built once per table entry and method
    (tables are immutable: a reload brings new entries, and the cache is dropped when it grows)."""
    key = (table.name, table.digest, gate.index, method)
    route = gateway.upstream_routes.get(key)
    if route is None:
        if len(gateway.upstream_routes) > 4096:
            gateway.upstream_routes.clear()
        route = RouteDef(
            method=method,
            path=gate.path,
            handler=functools.partial(_proxy, gateway, table, gate),
            public=True,  # the app's route roles are the ones that apply, checked on `gate`
            transaction=False,
            plugin="gateway",
        )
        gateway.upstream_routes[key] = route
    return route


async def _proxy(
    gateway: Gateway, table: AppTable, gate: GatewayRoute, request: ApiRequest[None]
) -> web.StreamResponse:
    assert gate.upstream is not None
    session = gateway.session
    if session is None:
        raise Problem(503, "The gateway's upstream client is not running")
    location = gate.target(dict(request.match_info))
    return await proxy(request, table.upstreams[gate.upstream], location, session, gateway.tokens)
