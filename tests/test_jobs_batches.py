"""Async batches: `POST /api/v1/batches?async=true` (or `Prefer: respond-async`) becomes a job."""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import effects, finished, jobs_client, wait_for

MakeClient = Callable[..., Awaitable[TestClient]]


def effect(request_id: Any, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "method": "POST",
        "relativeUrl": "probe/effects",
        "body": json.dumps({"key": key}),
        **extra,
    }


async def submit(
    client: TestClient, headers: dict[str, str], items: list[dict[str, Any]], **query: str
) -> int:
    body = io.BytesIO(
        json.dumps(items).encode()
    )  # large bodies as a stream (aiohttp warns on bytes)
    resp = await client.post(
        "/api/v1/batches",
        data=body,
        params=query,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert resp.status == 202, await resp.text()
    location = resp.headers["Location"]
    assert location.startswith("/api/v1/jobs/")
    return int(location.rsplit("/", 1)[1])


async def test_async_batch_runs_items_as_the_submitter_with_references(
    make_client: MakeClient,
) -> None:
    client, admin = await jobs_client(make_client)
    items = [
        effect(1, "parent"),
        effect(2, "child-of-${$.key}", reference=1),
        effect(3, "dup"),
        effect(4, "dup"),  # the unique key refuses the second: a 409 client error, not retried
        effect(5, "after-${4:$.key}", dependsOn=[4]),
    ]
    resp = await client.post(
        "/api/v1/batches", json=items, headers={**admin, "Prefer": "respond-async"}
    )
    assert resp.status == 202
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    view = await wait_for(client, admin, job_id, finished)
    assert view["state"] == "failed" and view["kind"] == "batch"
    resp = await client.get(f"/api/v1/jobs/{job_id}/items", headers=admin)
    items_out = {i["requestId"]: i for i in (await resp.json())["pageItems"]}
    assert items_out[1]["statusCode"] == 201 and items_out[1]["body"]["key"] == "parent"
    assert items_out[2]["body"]["key"] == "child-of-parent"
    assert items_out[2]["request"]["body"] == {"key": "child-of-${$.key}"}  # stored as sent
    assert {items_out[3]["statusCode"], items_out[4]["statusCode"]} <= {201, 409}
    assert items_out[4]["statusCode"] == 409 and items_out[4]["attempts"] == 1
    assert items_out[5]["statusCode"] == 424 and items_out[5]["state"] == "failed"
    assert await effects(client, admin, "") == 3


async def test_async_enclosing_batch_is_all_or_nothing(make_client: MakeClient) -> None:
    client, admin = await jobs_client(make_client)
    good = [effect(i, f"enc-{i}") for i in range(4)]
    good.insert(0, effect(4, "enc-4-after-${3:$.key}", dependsOn=[3]))  # runs after item 3
    job_id = await submit(client, admin, good, **{"async": "true", "enclosingTransaction": "true"})
    view = await wait_for(client, admin, job_id, finished)
    assert view["state"] == "completed" and view["enclosingTransaction"] is True
    assert await effects(client, admin, "enc-") == 5
    resp = await client.get(f"/api/v1/jobs/{job_id}/items", headers=admin)
    answers = {i["requestId"]: i["body"] for i in (await resp.json())["pageItems"]}
    assert answers[4]["key"] == "enc-4-after-enc-3"

    bad = [effect(i, f"roll-{i}") for i in range(5)] + [effect(9, "enc-0")]
    job_id = await submit(client, admin, bad, **{"async": "true", "enclosingTransaction": "true"})
    view = await wait_for(client, admin, job_id, finished)
    assert view["state"] == "failed" and view["counts"]["failed"] == 6
    assert await effects(client, admin, "roll-") == 0
    resp = await client.get(f"/api/v1/jobs/{job_id}/items", params={"limit": 2}, headers=admin)
    first = (await resp.json())["pageItems"][0]
    assert first["error"].startswith("rolled back")


async def test_async_batch_refuses_what_a_sync_batch_refuses(make_client: MakeClient) -> None:
    client, admin = await jobs_client(make_client)
    resp = await client.post(
        "/api/v1/batches?async=true", json=[{"requestId": 1, "relativeUrl": "x"}], headers=admin
    )
    assert resp.status == 400 and resp.content_type == "application/problem+json"
    resp = await client.post("/api/v1/batches?async=true", json=[effect(1, "x")])
    assert resp.status == 401


@pytest.mark.slow
async def test_a_100000_item_job_completes(make_client: MakeClient) -> None:
    client, admin = await jobs_client(make_client, jobs_claim_batch=200, jobs_parallelism=4)
    items = [
        {"requestId": i, "method": "GET", "relativeUrl": f"probe/calls/k{i % 7}"}
        for i in range(100_000)
    ]
    job_id = await submit(client, admin, items, **{"async": "true"})
    view = await wait_for(client, admin, job_id, finished, timeout=240, interval=2)
    assert view["state"] == "completed" and view["counts"]["done"] == 100_000
    resp = await client.get(
        f"/api/v1/jobs/{job_id}/items", params={"offset": 99_990, "limit": 50}, headers=admin
    )
    page = await resp.json()
    assert page["totalFilteredRecords"] == 100_000 and len(page["pageItems"]) == 10
    assert page["pageItems"][-1]["requestId"] == 99_999
