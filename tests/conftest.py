"""Shared fixtures: a fresh server per test on its own data dir, real services when configured."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from host.app import create_app
from host.config import Settings

REPO = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "admin-test-password"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test server: temp data dir and routes dir, the repo's demo plugins."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "var",
            "routes_dir": tmp_path / "routes.d",
            "plugins_dir": REPO / "plugins",
            "secret_key": "test-secret-key-with-enough-entropy-0123456789",
            "admin_password": ADMIN_PASSWORD,
            "broker_url": "",
            "log_format": "text",
        }
        values.update(overrides)
        return Settings(**values)

    return factory


@pytest.fixture
async def make_client(
    aiohttp_client: Callable[..., Awaitable[TestClient]], make_settings: Callable[..., Settings]
) -> Callable[..., Awaitable[TestClient]]:
    """Start a full server (database, migrations, plugins) and return a client for it."""

    async def factory(**overrides: Any) -> TestClient:
        return await aiohttp_client(create_app(make_settings(**overrides)))

    return factory


@pytest.fixture
async def client(make_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    return await make_client()


async def login(client: TestClient, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    resp = await client.post(
        "/api/v1/authentication", json={"username": username, "password": password}
    )
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["access_token"])


@pytest.fixture
async def admin_headers(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {await login(client)}"}


# real services -------------------------------------------------------------------------------
def _service(var: str) -> str:
    url = os.environ.get(var, "")
    if not url:
        pytest.skip(f"{var} is not set; this test needs the real service (CI sets it)")
    return url


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    import asyncpg

    base = _service("PLUGHOST_TEST_PG")
    name = f"plughost_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def redis_url() -> str:
    return _service("PLUGHOST_TEST_REDIS")


@pytest.fixture
def amqp_url() -> str:
    return _service("PLUGHOST_TEST_AMQP")
