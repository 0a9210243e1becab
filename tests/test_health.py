"""/healthz (liveness and report, `degraded` when something given was not loaded) and /readyz."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
from aiohttp.test_utils import TestClient

REPO = Path(__file__).resolve().parent.parent
CORE_PLUGINS = REPO / "tests" / "fixtures" / "core_plugins"
Factory = Callable[..., Awaitable[TestClient]]


async def test_ready_and_ok_when_everything_loaded(make_client: Factory, tmp_path: Path) -> None:
    client = await make_client(plugins_dir=tmp_path / "none")
    resp = await client.get("/readyz")
    assert resp.status == 200
    assert (await resp.json())["status"] == "ready"
    health = await (await client.get("/healthz")).json()
    assert health["status"] == "ok" and "problems" not in health


async def test_a_broken_route_file_makes_health_degraded(
    make_client: Factory, tmp_path: Path
) -> None:
    routes = tmp_path / "routes.d"
    routes.mkdir()
    (routes / "mobile.json").write_text('{"routes": [{"path": "clients", "location": "/x"}]}')
    client = await make_client(plugins_dir=tmp_path / "none", routes_dir=routes)
    resp = await client.get("/healthz")
    assert resp.status == 200  # alive: the rest serves
    health = await resp.json()
    assert health["status"] == "degraded"
    assert health["problems"] == ["route file of app mobile failed"]
    assert (await client.get("/readyz")).status == 200


async def test_a_skipped_plugin_makes_health_degraded(make_client: Factory) -> None:
    client = await make_client(plugins_dir=CORE_PLUGINS)
    health = await (await client.get("/healthz")).json()
    assert health["status"] == "degraded"
    assert "plugin core_cycle_a skipped" in health["problems"]


async def test_not_ready_while_the_database_is_down(make_client: Factory, pg_url: str) -> None:
    client = await make_client(db_url=pg_url)
    assert (await client.get("/readyz")).status == 200
    # the database goes away under the running server
    base, name = pg_url.rsplit("/", 1)
    admin = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1) + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    resp = await client.get("/readyz")
    assert resp.status == 503
    body = await resp.json()
    assert body["status"] == "unavailable" and body["db"]["status"] == "error"
    health = await client.get("/healthz")
    assert health.status == 503 and (await health.json())["status"] == "degraded"
