"""The transactional outbox: retries with a stable event id, dead letters, and no event lost when a
real `plughost serve` on PostgreSQL is killed with SIGKILL right after answering a batch."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import REPO, login
from tests.servers import Server, server_env, token, wait_until
from tests.test_admin import admin_login

SCALE_PLUGINS = Path(__file__).parent / "fixtures" / "scale_plugins"


async def probe_runs(client: TestClient, headers: dict[str, str], tag: str) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/v1/busprobe/runs?tag={tag}", headers=headers)
    assert resp.status == 200, await resp.text()
    return list((await resp.json())["runs"])


async def test_failing_handler_is_retried_with_the_same_event_id_then_dead_lettered(
    make_client: Callable[..., Awaitable[TestClient]],
) -> None:
    client = await make_client(
        plugins_dir=SCALE_PLUGINS,
        outbox_backoff_seconds=0.05,
        outbox_poll_seconds=0.1,
        outbox_max_attempts=3,
    )
    headers = {"Authorization": f"Bearer {await login(client)}"}

    # fails twice, then succeeds: three runs of one event, with one id
    resp = await client.post(
        "/api/v1/busprobe/publish", json={"name": "twice", "fail": 2}, headers=headers
    )
    assert resp.status == 201

    async def succeeded() -> list[dict[str, Any]]:
        runs = await probe_runs(client, headers, "twice")
        return runs if any(r["ok"] for r in runs) else []

    runs = await wait_until(succeeded, 30, "the third attempt to succeed")
    assert [r["ok"] for r in runs] == [False, False, True]
    assert len({r["event_id"] for r in runs}) == 1

    # never succeeds: after three attempts it is a dead letter, reported by /healthz
    resp = await client.post(
        "/api/v1/busprobe/publish",
        json={"name": "never", "fail": 99},
        headers={**headers, "X-Tenant": "tenant-dl"},
    )
    assert resp.status == 201

    async def dead() -> int:
        body = await (await client.get("/healthz")).json()
        return int(body["events"]["dead"])

    assert await wait_until(dead, 30, "a dead letter") == 1
    assert [r["ok"] for r in await probe_runs(client, headers, "never")] == [False] * 3

    # the admin Events page lists it; "Retry" gives the same event three more attempts
    status, csrf = await admin_login(client)
    assert status == 200
    page = await (await client.get("/admin/events")).text()
    assert "Dead letters (1)" in page and "busprobe:on_probe" in page
    assert "<td>tenant-dl</td><td><code>busprobe:on_probe" in page  # the event's tenant
    resp = await client.post("/admin/events/dead-letters/retry", data={"_csrf": csrf})
    assert resp.status == 200

    async def retried() -> list[dict[str, Any]]:
        runs = await probe_runs(client, headers, "never")
        return runs if len(runs) >= 6 and await dead() == 1 else []

    runs = await wait_until(retried, 30, "three more attempts, then a dead letter again")
    assert len(runs) == 6 and len({r["event_id"] for r in runs}) == 1


@pytest.mark.slow
async def test_sigkill_right_after_a_committed_batch_loses_no_event(
    pg_url: str, tmp_path: Path
) -> None:
    """Every client of a batch answered 201 gets exactly one savings account, even though the
    server was killed the moment it answered and most handlers had not run yet."""
    n = 300
    env = server_env(
        tmp_path / "var",
        tmp_path / "routes.d",
        REPO / "plugins",
        PLUGHOST_DB_URL=pg_url,
        PLUGHOST_OUTBOX_LEASE_SECONDS="2",
    )
    items = [
        {
            "requestId": i,
            "method": "POST",
            "relativeUrl": "clients",
            "body": json.dumps({"firstname": "K", "lastname": f"L{i}", "savingsProductId": 1}),
        }
        for i in range(1, n + 1)
    ]
    server = Server(env, tmp_path).start()
    try:
        await server.ready()
        async with aiohttp.ClientSession() as session:
            headers = await token(session, server.url)
            async with session.post(
                server.url + "/api/v1/batches", json=items, headers=headers
            ) as resp:
                answers = await resp.json()
            server.kill()  # SIGKILL right after the answer
            assert resp.status == 200
            assert [a["statusCode"] for a in answers] == [201] * n
            clients = {json.loads(a["body"])["clientId"] for a in answers}

            restarted = Server(env, tmp_path, port=server.port).start()
            try:
                await restarted.ready()
                headers = await token(session, restarted.url)

                async def accounts() -> list[int]:
                    url = restarted.url + "/api/v1/savingsaccounts?limit=1000"
                    async with session.get(url, headers=headers) as r:
                        body = await r.json()
                    owners = [a["clientId"] for a in body["pageItems"]]
                    return owners if len(owners) >= n else []

                owners = await wait_until(accounts, 90, f"{n} savings accounts", every=0.5)
            finally:
                restarted.stop()
    finally:
        server.kill()
    assert sorted(owners) == sorted(clients)  # one each: none lost, none doubled
