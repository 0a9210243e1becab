"""The gateway pipeline stage: pick the micro-app, match its table, check roles, then dispatch.

    X-App-Name: mobile  GET /clients/7        ─┐
    GET /apps/mobile/clients/7                ─┴► routes.d/mobile.json: /clients/{id}
        ─► roles ─► internal: re-enter the pipeline as GET /api/v1/clients/7
                   upstream: proxy to the declared upstream (token attached)

Calls naming no app continue to the internal API unchanged (unless PLUGHOST_GATEWAY_DIRECT_API is
off). Because this is a pipeline stage, batch items and job items get the same mapping as HTTP.
"""

from __future__ import annotations

import copy

from aiohttp import web

from host.auth import require_roles
from host.gateway.proxy import proxy
from host.gateway.state import GATEWAY
from host.pipeline import ApiRequest, CallNext, match_or_problem
from host.problems import Problem

__all__ = ("APP_HEADER", "APP_PREFIX", "gateway_stage", "select_app")

APP_HEADER = "X-App-Name"
APP_PREFIX = "/apps/"


def select_app(request: ApiRequest) -> tuple[str | None, str]:
    """(app name or None, path within the app): the `/apps/<app>/` prefix, else the header."""
    path = request.path
    if path.startswith(APP_PREFIX):
        name, _, rest = path[len(APP_PREFIX) :].partition("/")
        header = request.headers.get(APP_HEADER, "").strip().lower()
        if header and header != name.lower():
            raise Problem(400, f"{APP_HEADER} {header!r} disagrees with the path's app {name!r}")
        return name.lower(), "/" + rest
    header = request.headers.get(APP_HEADER, "").strip()
    if header:
        return header.lower(), path
    return request.app_name, path


async def gateway_stage(request: ApiRequest, call_next: CallNext) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    app_name, path = select_app(request)
    if app_name is None:
        if gateway.direct_api:
            return await call_next(request)
        raise Problem(
            404,
            f"No micro-app named: send {APP_HEADER} or use {APP_PREFIX}<app>/",
            slug="unknown-app",
        )
    table = gateway.store.tables.get(app_name)
    if table is None:
        raise Problem(404, f"Unknown app {app_name!r}", slug="unknown-app")
    match = match_or_problem(table.match, request.method, path, where=f" in app {app_name!r}")
    route = match.target
    require_roles(request.identity, route.roles, public=route.public)
    location = route.target(match.params)
    if route.upstream is None:
        return await call_next(_remapped(request, path=location, app_name=app_name))
    upstream = table.upstreams[route.upstream]
    session = gateway.session
    if session is None:
        raise Problem(503, "The gateway's upstream client is not running")
    return await proxy(
        _remapped(request, path=request.path, app_name=app_name),
        upstream,
        location,
        session,
        gateway.tokens,
    )


def _remapped(request: ApiRequest, *, path: str, app_name: str) -> ApiRequest:
    """A shallow copy with a new path and app (what `dataclasses.replace` does, minus the
    re-run of `__init__`, which costs more than the whole route lookup)."""
    if hasattr(request, "__dict__"):
        clone = object.__new__(ApiRequest)
        clone.__dict__.update(request.__dict__)
    else:  # pragma: no cover  (should ApiRequest ever use __slots__)
        clone = copy.copy(request)
    clone.path, clone.app_name, clone.match_info = path, app_name, {}
    return clone
