"""Operations endpoints: /healthz, /readyz and /metrics (public, read-only, no secrets).

`/healthz` is liveness plus a report: 200 while the process serves, with `status: degraded` when a
plugin was skipped, a route file failed or the last plugin roll was aborted (the host runs, but not
everything it was given), and 503
when the database is down. `/readyz` is what a load balancer asks before sending traffic: 503 until
start-up has completed, while the database does not answer, and while the process drains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from tortoise import connections

from host.data.db import CONNECTION
from host.drain import is_draining
from host.loader import REGISTRY
from host.metrics import METRICS
from host.pipeline import ApiRequest, Routes
from host.plugin import HEALTH, Plugin

__all__ = ("READINESS", "Readiness", "healthz", "metrics", "plugin", "readyz")

routes = Routes()


class ReadyAnswer(BaseModel):
    """`status`: ready, starting, draining or unavailable (the last three with 503)."""

    status: str
    db: dict[str, Any] | None = None


class HealthAnswer(BaseModel):
    """`status`: ok or degraded (503 when the database is down, or draining); each part (db,
    plugins, routes, jobs, graphql...) reports under its own name, `problems` lists what is wrong."""

    status: str
    db: dict[str, Any] | None = None
    plugins: dict[str, list[dict[str, Any]]] | None = None
    problems: list[str] | None = None


_METRICS_TEXT = {
    "responses": {
        "200": {
            "description": "Prometheus text exposition format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    }
}


@dataclass
class Readiness:
    """Flags `/readyz` reads: set `started` once start-up completed, `draining` on shutdown."""

    started: bool = False
    draining: bool = False


READINESS = web.AppKey("readiness", Readiness)


def _install(app: web.Application) -> None:
    """`/readyz` turns ready after every start-up context (database, plugins...) ran."""
    app[READINESS] = Readiness()

    async def started(app: web.Application) -> None:
        app[READINESS].started = True

    async def stopping(app: web.Application) -> None:
        app[READINESS].draining = True

    # on_startup callbacks run after the cleanup contexts' start-up halves, whatever their number
    app.on_startup.append(started)
    app.on_shutdown.append(stopping)


@routes.get(
    "/readyz",
    public=True,
    transaction=False,
    tags=("meta",),
    response={200: ReadyAnswer, 503: ReadyAnswer},
)
async def readyz(request: ApiRequest[None]) -> web.Response:
    """Readiness for a load balancer: 503 while starting, draining, or the database is down."""
    state = request.app.get(READINESS) or Readiness()
    if not state.started:
        return web.json_response({"status": "starting"}, status=503)
    if state.draining or is_draining(request.app):
        return web.json_response({"status": "draining"}, status=503)
    db = await database_status()
    if db["status"] != "ok":
        return web.json_response({"status": "unavailable", "db": db}, status=503)
    return web.json_response({"status": "ready", "db": db})


async def database_status() -> dict[str, Any]:
    try:
        conn = connections.get(CONNECTION)
        await conn.execute_query("SELECT 1")
    except Exception as exc:
        return {"status": "error", "error": type(exc).__name__}
    return {"status": "ok", "dialect": conn.capabilities.dialect}


@routes.get(
    "/healthz",
    public=True,
    transaction=False,
    tags=("meta",),
    response={200: HealthAnswer, 503: HealthAnswer},
)
async def healthz(request: ApiRequest[None]) -> web.Response:
    """Liveness and a summary of every part: database, plugins, routes, jobs, GraphQL."""
    if is_draining(request.app):  # SIGTERM: tell the load balancer first (host.drain)
        return web.json_response({"status": "draining"}, status=503)
    registry = request.app[REGISTRY]
    body: dict[str, Any] = {
        "status": "ok",
        "db": await database_status(),
        "plugins": {
            "loaded": [{"name": p.name, "version": p.version} for p in registry.loaded],
            "skipped": [{"name": r.name, "reason": r.reason} for r in registry.skipped],
        },
    }
    for name, check in request.app[HEALTH].items():
        try:
            body[name] = await check()
        except Exception as exc:  # a broken check reports itself, it does not hide the others
            body[name] = {"status": "error", "error": repr(exc)}
    db_down = body["db"]["status"] != "ok"
    problems = [f"plugin {r.name} skipped" for r in registry.skipped]
    apps = body.get("routes", {}).get("apps", {})
    problems += [
        f"route file of app {app} {a['state']}" for app, a in apps.items() if a["state"] != "ok"
    ]
    problems += [
        f"{name} check failed"
        for name, part in body.items()
        if name not in {"db", "routes"} and isinstance(part, dict) and part.get("status") == "error"
    ]
    # a part that works but reports something wrong, e.g. an aborted plugin roll (host.activation)
    problems += [
        str(part["problem"])
        for part in body.values()
        if isinstance(part, dict) and part.get("problem")
    ]
    body["status"] = "degraded" if db_down or problems else "ok"
    if problems:
        body["problems"] = problems
    return web.json_response(body, status=503 if db_down else 200)


@routes.get("/metrics", public=True, transaction=False, tags=("meta",), openapi=_METRICS_TEXT)
async def metrics(request: ApiRequest[None]) -> web.Response:
    """Prometheus metrics (text exposition format)."""
    m = request.app[METRICS]
    registry = request.app[REGISTRY]
    m.plugins.labels("loaded").set(len(registry.loaded))
    m.plugins.labels("skipped").set(len(registry.skipped))
    return web.Response(body=m.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


plugin = Plugin(
    name="host_ops",
    version="1",
    rest={"": routes},
    install=_install,
    description="Operations endpoints: /healthz, /readyz and /metrics",
)
