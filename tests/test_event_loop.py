"""The event loop is never blocked (issue 12 #2): CPU-heavy work runs in the bounded CPU pool.

No timing asserts: each test fills the CPU pool with work that waits on a gate, then shows that a
password check (or a batch plan) waits for the pool while the server still answers `/healthz`, and
completes once the gate opens. A server doing that work on the loop answers the login at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from host.cpu import THREADS, run_cpu

WAIT = 1.0
"""How long the test lets a request run while the pool is full (it must still be pending)."""


@pytest.fixture
async def full_pool() -> AsyncIterator[threading.Event]:
    """Every CPU pool thread busy until the returned gate is set (always set at the end)."""
    gate = threading.Event()
    blockers = [asyncio.ensure_future(run_cpu(gate.wait, 60)) for _ in range(THREADS)]
    await asyncio.sleep(0)
    try:
        yield gate
    finally:
        gate.set()
        await asyncio.gather(*blockers)


async def _healthz_answers(client: TestClient) -> None:
    resp = await asyncio.wait_for(client.get("/healthz"), 30)
    assert resp.status == 200


async def test_password_checks_wait_for_the_pool_not_the_loop(
    client: TestClient, full_pool: threading.Event
) -> None:
    logins = [
        asyncio.ensure_future(
            client.post(
                "/api/v1/authentication", json={"username": name, "password": "wrong-password"}
            )
        )
        for name in ("admin", "nobody-at-all")
    ]
    done, _ = await asyncio.wait(logins, timeout=WAIT)
    assert not done, "a password was checked without the CPU pool (on the event loop)"
    await _healthz_answers(client)
    full_pool.set()
    answers = await asyncio.wait_for(asyncio.gather(*logins), 60)
    assert [r.status for r in answers] == [401, 401]


async def test_batch_dry_run_plans_in_the_pool(
    client: TestClient, admin_headers: dict[str, str], full_pool: threading.Event
) -> None:
    items: list[dict[str, Any]] = [
        {"requestId": 1, "relativeUrl": "clients", "method": "POST", "body": {"fullname": "A"}}
    ]
    items += [
        {"requestId": i, "relativeUrl": "clients/$.clientId", "method": "GET", "reference": i - 1}
        for i in range(2, 2001)
    ]
    call = asyncio.ensure_future(
        client.post(
            "/api/v1/batches?dryRun=true",
            data=json.dumps(items),
            headers={**admin_headers, "Content-Type": "application/json"},
        )
    )
    done, _ = await asyncio.wait([call], timeout=WAIT)
    assert not done, "the batch was parsed and planned on the event loop"
    await _healthz_answers(client)
    full_pool.set()
    resp = await asyncio.wait_for(call, 60)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["dryRun"] is True and body["items"] == 2000


async def test_event_loop_lag_is_a_metric(client: TestClient) -> None:
    text = ""
    for _ in range(200):  # bounded poll for the first sample (taken every 0.25 s)
        text = await (await client.get("/metrics")).text()
        if "plughost_event_loop_lag_samples_total 0.0" not in text:
            break
        await asyncio.sleep(0.05)
    lines = {
        line.split(" ")[0]: line.split(" ")[1] for line in text.splitlines() if line[:1] != "#"
    }
    assert float(lines["plughost_event_loop_lag_samples_total"]) >= 1
    assert float(lines["plughost_event_loop_lag_seconds"]) >= 0
    assert float(lines["plughost_event_loop_lag_max_seconds"]) >= 0
