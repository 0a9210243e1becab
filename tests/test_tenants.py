"""Tenants, first part (issue 12 #8): a user or API key bound to a tenant acts only in it.

A bound identity naming another tenant in X-Tenant gets 403, over REST and GraphQL; without the
header it acts in its own tenant; a platform identity (no tenant) may choose any. Data scoping of
plugin models by tenant is not part of this step.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient

from host.auth import AUTH
from tests.conftest import REPO, login

Headers = dict[str, str]


async def viewer_tenant(client: TestClient, headers: Headers) -> tuple[int, str | None]:
    resp = await client.post(
        "/graphql", json={"query": "{ viewer { subject tenant } }"}, headers=headers
    )
    body = await resp.json()
    if resp.status != 200:
        assert resp.content_type == "application/problem+json"
        return resp.status, body.get("type")
    return resp.status, body["data"]["viewer"]["tenant"]


async def test_bound_user_cannot_name_another_tenant(client: TestClient) -> None:
    from host.auth.users import add_user

    await add_user("ann", "ann-password-1", ["clients:read"], tenant="tenant-a")
    ann = {"Authorization": f"Bearer {await login(client, 'ann', 'ann-password-1')}"}
    # REST
    resp = await client.get("/api/v1/clients", headers={**ann, "X-Tenant": "tenant-b"})
    assert resp.status == 403
    assert (await resp.json())["type"] == "/problems/tenant-forbidden"
    for headers in (ann, {**ann, "X-Tenant": "tenant-a"}):
        assert (await client.get("/api/v1/clients", headers=headers)).status == 200
    # GraphQL: the same rule, and the call runs in the user's own tenant without a header
    assert await viewer_tenant(client, {**ann, "X-Tenant": "tenant-b"}) == (
        403,
        "/problems/tenant-forbidden",
    )
    assert await viewer_tenant(client, ann) == (200, "tenant-a")
    # a batch item cannot switch tenant either: the batch runs in the bound tenant
    item = {
        "requestId": 1,
        "relativeUrl": "clients",
        "method": "GET",
        "headers": [{"name": "X-Tenant", "value": "tenant-b"}],
    }
    resp = await client.post("/api/v1/batches", json=[item], headers=ann)
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["type"] == "/problems/invalid-batch"


async def test_platform_user_chooses_and_tenant_change_applies(client: TestClient) -> None:
    from host.auth.models import User

    admin = {"Authorization": f"Bearer {await login(client)}"}
    assert await viewer_tenant(client, {**admin, "X-Tenant": "tenant-b"}) == (200, "tenant-b")
    assert await viewer_tenant(client, admin) == (200, "default")
    # binding the user later binds the tokens it already holds (checked against the user)
    await User.filter(username="admin").update(tenant="tenant-a")
    client.app[AUTH].forget_user("admin")  # what an instance sees after its cache time
    assert (await viewer_tenant(client, {**admin, "X-Tenant": "tenant-b"}))[0] == 403


async def test_bound_api_key(client: TestClient) -> None:
    from host.auth.users import add_api_key

    _, key = await add_api_key("etl", ["clients:read"], tenant="tenant-a")
    resp = await client.get("/api/v1/clients", headers={"X-API-Key": key, "X-Tenant": "tenant-b"})
    assert resp.status == 403
    resp = await client.get("/api/v1/clients", headers={"X-API-Key": key})
    assert resp.status == 200
    _, platform = await add_api_key("ops", ["clients:read"])
    resp = await client.get(
        "/api/v1/clients", headers={"X-API-Key": platform, "X-Tenant": "tenant-b"}
    )
    assert resp.status == 200


def test_cli_binds_users_and_keys_to_a_tenant(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    env.update(
        PLUGHOST_DATA_DIR=str(tmp_path / "var"),
        PLUGHOST_ROUTES_DIR=str(tmp_path / "routes.d"),
        PLUGHOST_PLUGINS_DIR=str(tmp_path / "no-plugins"),
        PLUGHOST_ADMIN_PASSWORD="cli-admin-password",
        PLUGHOST_LOG_LEVEL="WARNING",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "host.cli", *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert run("migrate").returncode == 0
    out = run("users", "add", "bea", "--password", "bea-password-1", "--tenant", "tenant-a")
    assert out.returncode == 0, out.stderr
    assert "tenant 'tenant-a'" in out.stdout
    assert "tenant=tenant-a" in run("users", "list").stdout
    bad = run("users", "add", "cy", "--password", "cy-password-12", "--tenant", "no tenant!")
    assert bad.returncode == 2 and "--tenant" in bad.stderr
    assert run("apikeys", "add", "etl", "--tenant", "tenant-a").returncode == 0
