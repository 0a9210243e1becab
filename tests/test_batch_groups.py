"""Group commits: items share transactions (a savepoint each) yet succeed or fail alone."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tortoise.backends.base.executor import EXECUTOR_CACHE

from host.bus import BUS
from tests.conftest import login

Client = Callable[..., Awaitable[TestClient]]


def create(request_id: int, external_id: str | None = None, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"firstname": "G", "lastname": f"L{request_id}"}
    if external_id is not None:
        payload["externalId"] = external_id
    return {
        "requestId": request_id,
        "method": "POST",
        "relativeUrl": "v1/clients",
        "body": json.dumps(payload),
        **extra,
    }


def loan(request_id: int, reference: int) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "method": "POST",
        "relativeUrl": "v1/loans",
        "reference": reference,
        "body": json.dumps({"clientId": "$.clientId", "productId": 1}),
    }


async def _one_failure_undoes_only_itself(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {await login(client)}"}
    items = [
        create(1, "g-1"),
        create(2),
        # the same externalId: 409, rolled back to its savepoint alone. It waits for item 1
        # (dependsOn): independent items run concurrently on PostgreSQL, so without it either
        # of the two could be the one refused
        {**create(3, "g-1"), "dependsOn": [1]},
        loan(4, reference=3),  # its parent failed: 424
        create(5),
        loan(6, reference=5),
        {"requestId": 7, "method": "GET", "relativeUrl": "v1/clients/$.clientId", "reference": 6},
        create(8),
        loan(9, reference=8),
        create(10),
    ]
    resp = await client.post("/api/v1/batches", json=items, headers=headers)
    answer = await resp.json()
    assert [a["statusCode"] for a in answer] == [201, 201, 409, 424, 201, 201, 200, 201, 201, 201]
    assert json.loads(answer[6]["body"])["lastname"] == "L5"  # a read sees what its parent wrote
    bus = client.app[BUS]
    await bus.join()
    topics = [e.topic for e in bus.recent]
    assert topics.count("clients.created") == 5 and topics.count("loans.created") == 2
    resp = await client.get("/api/v1/clients", headers=headers)
    assert (await resp.json())["totalFilteredRecords"] == 5
    resp = await client.get("/api/v1/loans", headers=headers)
    assert (await resp.json())["totalFilteredRecords"] == 2


async def test_group_commit_on_sqlite(make_client: Client) -> None:
    # three items per commit: the failure sits inside a group, its neighbours are kept
    await _one_failure_undoes_only_itself(await make_client(batch_commit_every=3))


async def test_a_commit_per_item_still_works(make_client: Client) -> None:
    await _one_failure_undoes_only_itself(await make_client(batch_commit_every=1))


@pytest.mark.pg
async def test_group_commit_on_postgres_in_lanes(make_client: Client, pg_url: str) -> None:
    EXECUTOR_CACHE.clear()
    client = await make_client(db_url=pg_url, batch_commit_every=3, batch_concurrency=4)
    await _one_failure_undoes_only_itself(client)


async def test_streamed_lines_come_after_their_commit(make_client: Client) -> None:
    """NDJSON lines are written as groups commit: every line's item is already readable."""
    client = await make_client(batch_commit_every=2)
    headers = {
        "Authorization": f"Bearer {await login(client)}",
        "Accept": "application/x-ndjson",
    }
    items = [create(i) for i in range(1, 6)]
    resp = await client.post("/api/v1/batches", json=items, headers=headers)
    seen = 0
    async for raw in resp.content:
        line = json.loads(raw)
        client_id = json.loads(line["body"])["clientId"]
        check = await client.get(f"/api/v1/clients/{client_id}", headers=headers)
        assert check.status == 200  # committed before its answer left the server
        seen += 1
    assert seen == 5


# atomicity groups ---------------------------------------------------------------------------------
def grouped(item: dict[str, Any], group: str) -> dict[str, Any]:
    return {**item, "atomicityGroup": group}


async def test_atomicity_group_commits_together_or_not_at_all(make_client: Client) -> None:
    client = await make_client(batch_commit_every=4)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    items = [
        grouped(create(1, "a-1"), "a"),
        grouped(loan(2, reference=1), "a"),
        create(3),  # outside any group: independent
        grouped(create(4, "b-1"), "b"),
        grouped(loan(5, reference=4), "b"),
        grouped(create(6, "a-1"), "b"),  # a duplicate externalId: group b fails
        grouped(create(7), "b"),  # not run
        loan(8, reference=5),  # depends on the failed group
    ]
    resp = await client.post("/api/v1/batches", json=items, headers=headers)
    answer = await resp.json()
    assert [a["statusCode"] for a in answer] == [201, 201, 201, 424, 424, 409, 424, 424]
    rolled = [json.loads(a["body"]) for a in (answer[3], answer[4], answer[6])]
    assert all(p["failedRequestId"] == 6 for p in rolled)
    assert [p.get("originalStatusCode") for p in rolled] == [201, 201, None]
    assert json.loads(answer[7]["body"])["type"] == "/problems/failed-dependency"
    bus = client.app[BUS]
    await bus.join()
    topics = [e.topic for e in bus.recent]
    assert topics.count("clients.created") == 2 and topics.count("loans.created") == 1
    resp = await client.get("/api/v1/clients?externalId=b-1", headers=headers)
    assert (await resp.json())["totalFilteredRecords"] == 0  # group b left nothing


async def test_unschedulable_groups_are_400_naming_the_items(make_client: Client) -> None:
    client = await make_client()
    headers = {"Authorization": f"Bearer {await login(client)}"}
    items = [
        grouped(create(1), "g"),
        loan(2, reference=1),  # outside g, needs g's first item...
        grouped({**loan(3, reference=2)}, "g"),  # ...and g's other item needs it
    ]
    resp = await client.post("/api/v1/batches", json=items, headers=headers)
    problem = await resp.json()
    assert resp.status == 400, problem
    assert "atomicity groups cannot be scheduled" in problem["detail"]
    for request_id in ("1", "2", "3"):
        assert request_id in problem["detail"]
    resp = await client.post("/api/v1/batches?dryRun=true", json=items[:2], headers=headers)
    assert (await resp.json())["atomicityGroups"] == {"g": [1]}
