"""Enclosing transactions (SQLite and PostgreSQL) and Idempotency-Key, through HTTP."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tortoise.backends.base.executor import EXECUTOR_CACHE

from host.batch import sharing
from host.bus import BUS
from tests.conftest import FIXTURE_PLUGINS, batch, body, create, login

Client = Callable[..., Awaitable[TestClient]]


async def test_rollback_on_sqlite(make_client: Client) -> None:
    await _rolls_everything_back(await make_client())


@pytest.mark.pg
async def test_rollback_on_postgres(make_client: Client, pg_url: str) -> None:
    # Tortoise caches INSERT SQL per (connection, table) process-wide: drop SQLite's "?" version
    EXECUTOR_CACHE.clear()
    await _rolls_everything_back(await make_client(db_url=pg_url))


async def test_commit_on_sqlite(make_client: Client) -> None:
    await _commits_then_delivers(await make_client())


@pytest.mark.pg
async def test_commit_on_postgres(make_client: Client, pg_url: str) -> None:
    EXECUTOR_CACHE.clear()
    await _commits_then_delivers(await make_client(db_url=pg_url))


async def _count(client: TestClient, headers: dict[str, str], url: str) -> int:
    resp = await client.get(url, headers=headers)
    assert resp.status == 200
    return int((await resp.json())["totalFilteredRecords"])


def _with_savings(request_id: int) -> dict[str, Any]:
    payload = {"firstname": "Tx", "lastname": f"T{request_id}", "savingsProductId": 1}
    return {"requestId": request_id, "method": "POST", "relativeUrl": "clients", "body": payload}


async def _rolls_everything_back(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {await login(client)}"}
    items = [
        _with_savings(1),
        {
            "requestId": 2,
            "method": "POST",
            "relativeUrl": "loans",
            "reference": 1,
            "body": {"clientId": "$.clientId", "productId": 1},
        },
        {"requestId": 3, "method": "GET", "relativeUrl": "clients/999999"},
        create(4),
    ]
    resp = await client.post(
        "/api/v1/batches?enclosingTransaction=true", json=items, headers=headers
    )
    assert resp.status == 200
    assert resp.headers["X-Batch-Outcome"] == "rolled-back"
    assert resp.headers["X-Batch-Failed-Request-Id"] == "3"
    answer = await resp.json()
    assert [a["requestId"] for a in answer] == [1, 2, 3, 4]
    assert [a["statusCode"] for a in answer] == [424, 424, 404, 424]
    for kept in (answer[0], answer[1]):
        problem = body(kept)
        assert problem["type"] == "/problems/batch-rolled-back"
        assert problem["originalStatusCode"] == 201 and problem["failedRequestId"] == 3
    assert body(answer[2])["status"] == 404
    assert body(answer[3])["failedRequestId"] == 3

    bus = client.app[BUS]
    await bus.join()
    assert not [e for e in bus.recent if e.topic.startswith(("clients.", "loans.", "savings."))]
    assert await _count(client, headers, "/api/v1/clients") == 0
    assert await _count(client, headers, "/api/v1/loans") == 0
    assert await _count(client, headers, "/api/v1/savingsaccounts") == 0


async def _commits_then_delivers(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {await login(client)}"}
    items = [_with_savings(1), {**create(2), "reference": 1}]
    resp = await client.post(
        "/api/v1/batches?enclosingTransaction=true", json=items, headers=headers
    )
    answer = await resp.json()
    assert resp.headers["X-Batch-Outcome"] == "committed"
    assert [a["statusCode"] for a in answer] == [201, 201]
    await client.app[BUS].join()
    assert await _count(client, headers, "/api/v1/clients") == 2
    assert await _count(client, headers, "/api/v1/savingsaccounts") == 1
    topics = [e.topic for e in client.app[BUS].recent]
    assert topics.count("clients.created") == 2


async def test_enclosing_failure_streams_the_same_answer(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [create(1), {"requestId": 2, "method": "GET", "relativeUrl": "clients/424242"}]
    resp = await client.post(
        "/api/v1/batches?enclosingTransaction=true",
        json=items,
        headers={**admin_headers, "Accept": "application/x-ndjson"},
    )
    assert resp.headers["X-Batch-Outcome"] == "rolled-back"
    lines = [json.loads(line) for line in (await resp.text()).splitlines()]
    assert [line["statusCode"] for line in lines] == [424, 404]


# Idempotency-Key ---------------------------------------------------------------------------------
async def test_batch_idempotency_replay_conflict_and_in_flight(make_client: Client) -> None:
    client = await make_client(plugin_path=str(FIXTURE_PLUGINS))
    headers = {"Authorization": f"Bearer {await login(client)}", "Idempotency-Key": "k-1"}
    items = [create(1), {"requestId": 2, "method": "GET", "relativeUrl": "overlap/wait"}]

    first = asyncio.create_task(batch(client, items, headers))
    while True:  # wait until the first batch is blocked inside its second item
        stats = await (await client.get("/api/v1/overlap/stats", headers=headers)).json()
        if stats["waiting"]:
            break
        await asyncio.sleep(0.01)
    status, problem = await batch(client, items, headers)
    assert status == 409 and problem["type"] == "/problems/idempotency-in-flight"
    await client.post("/api/v1/overlap/open", headers=headers)
    status, answer = await first
    assert status == 200 and [a["statusCode"] for a in answer] == [201, 200]

    resp = await client.post("/api/v1/batches", json=items, headers=headers)
    assert resp.status == 200 and resp.headers["Idempotent-Replayed"] == "true"
    assert await resp.json() == answer
    assert await _count(client, headers, "/api/v1/clients") == 1

    status, problem = await batch(client, [create(9)], headers)
    assert status == 422 and problem["type"] == "/problems/idempotency-key-reused"
    # another caller's key space is separate
    other = {**headers, "Idempotency-Key": "k-2"}
    status, answer = await batch(client, [create(1)], other)
    assert status == 200 and answer[0]["statusCode"] == 201


async def test_item_idempotency_key_replays_per_item(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    keyed = {**create(1), "headers": [{"name": "Idempotency-Key", "value": "item-1"}]}
    _, first = await batch(client, [keyed, create(2)], admin_headers)
    _, again = await batch(client, [keyed, create(2)], admin_headers)
    assert first[0]["statusCode"] == again[0]["statusCode"] == 201
    assert body(first[0])["clientId"] == body(again[0])["clientId"]
    cached = {h["name"]: h["value"] for h in again[0]["headers"]}
    assert cached["x-served-from-cache"] == "true"
    assert body(first[1])["clientId"] != body(again[1])["clientId"]  # unkeyed items run again
    assert await _count(client, admin_headers, "/api/v1/clients") == 3
    changed = {**keyed, "body": {"firstname": "Other", "lastname": "Body"}}
    _, answer = await batch(client, [changed], admin_headers)
    assert answer[0]["statusCode"] == 422
    assert body(answer[0])["type"] == "/problems/idempotency-key-reused"


@pytest.mark.pg
async def test_idempotency_keys_on_postgres(make_client: Client, pg_url: str) -> None:
    """A replayed item key inside an enclosing transaction must not abort it (savepoint)."""
    EXECUTOR_CACHE.clear()
    client = await make_client(db_url=pg_url)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    keyed = {**create(1), "headers": [{"name": "Idempotency-Key", "value": "pg-item"}]}
    url = "/api/v1/batches?enclosingTransaction=true"
    first = await (await client.post(url, json=[keyed, create(2)], headers=headers)).json()
    resp = await client.post(url, json=[keyed, create(2)], headers=headers)
    again = await resp.json()
    assert resp.headers["X-Batch-Outcome"] == "committed"
    assert [a["statusCode"] for a in again] == [201, 201]
    assert body(first[0]) == body(again[0])
    assert await _count(client, headers, "/api/v1/clients") == 3
    batch_key = {**headers, "Idempotency-Key": "pg-batch"}
    _, answer = await batch(client, [create(5)], batch_key)
    resp = await client.post("/api/v1/batches", json=[create(5)], headers=batch_key)
    assert resp.headers["Idempotent-Replayed"] == "true" and await resp.json() == answer


async def test_replay_as_ndjson(client: TestClient, admin_headers: dict[str, str]) -> None:
    headers = {**admin_headers, "Idempotency-Key": "nd-1"}
    _, answer = await batch(client, [create(1), create(2)], headers)
    resp = await client.post(
        "/api/v1/batches",
        json=[create(1), create(2)],
        headers={**headers, "Accept": "application/x-ndjson"},
    )
    assert resp.headers["Idempotent-Replayed"] == "true"
    assert [json.loads(line) for line in (await resp.text()).splitlines()] == answer


@pytest.mark.parametrize("query", ["", "?enclosingTransaction=true"])
async def test_other_tasks_get_turns_of_the_loop_between_batch_items(
    make_client: Client, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """On SQLite a create's INSERT runs on the loop's thread, so an item may never suspend; the
    batch hands the loop over now and then (host/batch/sharing.py), or a big batch would keep
    every other request waiting until it ends. With SLICE 0 it does before every item: another
    task counting the loop's turns sees the count move between any two items' handlers."""
    monkeypatch.setattr(sharing, "SLICE", 0.0)
    client = await make_client()
    headers = {"Authorization": f"Bearer {await login(client)}"}
    api = sys.modules["clients.api"]  # the demo plugin, as the server loaded it
    turns, seen, running = 0, [], True
    original = api.open_client

    async def counted_open_client(*args: Any, **kwargs: Any) -> Any:
        seen.append(turns)
        return await original(*args, **kwargs)

    async def other_task() -> None:
        nonlocal turns
        while running:
            await asyncio.sleep(0)
            turns += 1

    monkeypatch.setattr(api, "open_client", counted_open_client)
    watcher = asyncio.create_task(other_task())
    status, answer = await batch(client, [create(i) for i in range(200)], headers, query)
    running = False
    await watcher
    assert status == 200 and all(a["statusCode"] == 201 for a in answer)
    assert len(seen) == 200
    assert all(later > earlier for earlier, later in itertools.pairwise(seen)), seen
