"""Prometheus counters for the work behind the requests: batch items by status class, bus events by
topic, job items by the state they ended in. Read from /metrics as a scraper would."""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from tests.conftest import login
from tests.test_jobs import jobs_client, wait_for
from tests.test_jobs_batches import effect

CORE_PLUGINS = Path(__file__).parent / "fixtures" / "core_plugins"
MakeClient = Callable[..., Awaitable[TestClient]]


async def sample(client: TestClient, name: str, **labels: str) -> float:
    text = await (await client.get("/metrics")).text()
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if m and ",".join(sorted(m.group(1).split(","))) == wanted:
            return float(m.group(2))
    return 0.0


async def test_batch_items_and_bus_events_are_counted(make_client: MakeClient) -> None:
    if str(CORE_PLUGINS) not in sys.path:
        sys.path.insert(0, str(CORE_PLUGINS))
    client = await make_client(plugins_dir=CORE_PLUGINS)
    auth = {"Authorization": f"Bearer {await login(client)}"}
    items = [
        {
            "requestId": 1,
            "relativeUrl": "alpha/items",
            "method": "POST",
            "body": '{"name": "a", "qty": 1}',
        },
        {
            "requestId": 2,
            "relativeUrl": "alpha/items",
            "method": "POST",
            "body": '{"name": "b", "qty": 2}',
        },
        {"requestId": 3, "relativeUrl": "alpha/nowhere", "method": "GET"},
    ]
    resp = await client.post("/api/v1/batches", json=items, headers=auth)
    assert resp.status == 200, await resp.text()
    assert await sample(client, "plughost_batch_items_total", status="2xx") == 2
    assert await sample(client, "plughost_batch_items_total", status="4xx") == 1
    assert await sample(client, "plughost_bus_events_total", topic="alpha.created") == 2

    # a rolled-back batch publishes nothing, so the bus counts nothing
    items[1]["body"] = '{"name": "", "qty": 2}'
    resp = await client.post(
        "/api/v1/batches?enclosingTransaction=true", json=items[:2], headers=auth
    )
    assert resp.status == 200
    assert await sample(client, "plughost_bus_events_total", topic="alpha.created") == 2


async def test_job_items_are_counted_by_state(make_client: MakeClient) -> None:
    client, admin = await jobs_client(make_client)
    items = [effect(1, "once"), effect(2, "once")]  # the second breaks a unique key: 409, failed
    resp = await client.post("/api/v1/batches?async=true", json=items, headers=admin)
    assert resp.status == 202
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    await wait_for(client, admin, job_id, lambda v: v["state"] in {"completed", "failed"})
    assert await sample(client, "plughost_job_items_total", state="done") == 1
    assert await sample(client, "plughost_job_items_total", state="failed") == 1
