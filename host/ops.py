"""Operations endpoints: /healthz and /metrics (public, read-only, no secrets)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from tortoise import connections

from host.db import CONNECTION
from host.drain import is_draining
from host.keys import HEALTH, METRICS, REGISTRY

__all__ = ("healthz", "metrics")


async def database_status() -> dict[str, Any]:
    try:
        conn = connections.get(CONNECTION)
        await conn.execute_query("SELECT 1")
    except Exception as exc:
        return {"status": "error", "error": type(exc).__name__}
    return {"status": "ok", "dialect": conn.capabilities.dialect}


async def healthz(request: web.Request) -> web.Response:
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
    degraded = body["db"]["status"] != "ok"
    body["status"] = "degraded" if degraded else "ok"
    return web.json_response(body, status=503 if degraded else 200)


async def metrics(request: web.Request) -> web.Response:
    m = request.app[METRICS]
    registry = request.app[REGISTRY]
    m.plugins.labels("loaded").set(len(registry.loaded))
    m.plugins.labels("skipped").set(len(registry.skipped))
    return web.Response(body=m.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})
