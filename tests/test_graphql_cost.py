"""GraphQL cost limits (issue 12 #1): hostile queries are refused fast, as 400 problem+json.

The refusals must come before validation and execution. A server without the memoised measure
blocks its event loop for minutes on the fragment bomb; `asyncio.wait_for` cannot interrupt a blocked
loop, so each call also runs under a SIGALRM deadline that raises inside whatever code is running:
such a test fails (a 500 or the TimeoutError) instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import login

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "graphql_plugins"
Headers = dict[str, str]
GUARD = 30.0
"""Seconds after which a test fails instead of hanging (the unfixed server takes many minutes)."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    def expired(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


async def post(client: TestClient, query: str, headers: Headers) -> tuple[int, str, dict[str, Any]]:
    async def call() -> tuple[int, str, dict[str, Any]]:
        resp = await client.post("/graphql", json={"query": query}, headers=headers)
        return resp.status, resp.content_type, await resp.json()

    with deadline(GUARD):
        return await asyncio.wait_for(call(), GUARD)


async def nobody(client: TestClient) -> Headers:
    """A user holding no role at all: the attacker of the report."""
    from host.auth.users import add_user

    await add_user("nobody", "nobody-password-1", [])
    return {"Authorization": f"Bearer {await login(client, 'nobody', 'nobody-password-1')}"}


def fragment_bomb(n: int = 30, *, on: str = "ProbeNode", leaf: str = "value") -> str:
    """~1 KB that expands to 2^n fields: each fragment spreads the next one twice."""
    fragments = [
        f"fragment F{i} on {on} {{ next {{ ...F{i + 1} }} {leaf} ...F{i + 1} }}" for i in range(n)
    ]
    fragments.append(f"fragment F{n} on {on} {{ {leaf} }}")
    return "{ probeNode { ...F0 } } " + " ".join(fragments)


def assert_refused(status: int, content_type: str, body: dict[str, Any], code: str) -> None:
    assert status == 400, body
    assert content_type == "application/problem+json"
    assert body["type"] == f"/problems/{code.lower().replace('_', '-')}"
    assert body["status"] == 400
    assert body["errors"][0]["extensions"]["code"] == code
    assert "data" not in body


async def test_fragment_bomb_is_refused(make_client: Callable[..., Awaitable[TestClient]]) -> None:
    client = await make_client(plugins_dir=FIXTURES, graphql_max_depth=64)
    headers = await nobody(client)
    query = fragment_bomb(30)
    assert len(query) < 2000
    status, ctype, body = await post(client, query, headers)
    assert_refused(status, ctype, body, "QUERY_TOO_COMPLEX")
    assert body["errors"][0]["extensions"]["max"] == 1000
    assert "after fragment expansion" in body["detail"]
    # the same bomb with the default depth limit: refused for its depth, just as fast
    client2 = await make_client(plugins_dir=FIXTURES)
    status, ctype, body = await post(
        client2, query, {"Authorization": f"Bearer {await login(client2)}"}
    )
    assert_refused(status, ctype, body, "QUERY_TOO_DEEP")


async def test_fragment_bomb_without_depth_is_refused(
    make_client: Callable[..., Awaitable[TestClient]],
) -> None:
    """Shallow but wide: every fragment spreads the next twice on the same object (depth 1)."""
    client = await make_client(plugins_dir=FIXTURES)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    fragments = [
        f"fragment W{i} on ProbeNode {{ ...W{i + 1} a{i}: value ...W{i + 1} }}" for i in range(40)
    ]
    fragments.append("fragment W40 on ProbeNode { value }")
    query = "{ probeNode { ...W0 } } " + " ".join(fragments)
    status, ctype, body = await post(client, query, headers)
    assert_refused(status, ctype, body, "QUERY_TOO_COMPLEX")


async def test_many_aliases_are_refused(client: TestClient) -> None:
    headers = await nobody(client)
    query = (
        "{ "
        + " ".join(f"a{i}: clients(limit: 200) {{ loans {{ id }} }}" for i in range(300))
        + " }"
    )
    status, ctype, body = await post(client, query, headers)
    assert_refused(status, ctype, body, "QUERY_TOO_COMPLEX")
    assert body["errors"][0]["extensions"]["aliases"] == 300
    assert body["errors"][0]["extensions"]["max"] == 50


async def test_query_size_is_capped(make_client: Callable[..., Awaitable[TestClient]]) -> None:
    client = await make_client(plugins_dir=FIXTURES, graphql_max_query_chars=200)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    # comments are not tokens, so only the size limit stops this one
    query = "{ viewer { subject } }\n" + "# padding\n" * 50
    status, ctype, body = await post(client, query, headers)
    assert_refused(status, ctype, body, "QUERY_TOO_LARGE")
    status, _, body = await post(client, "{ viewer { subject } }", headers)
    assert status == 200
    assert body == {"data": {"viewer": {"subject": "admin"}}}


async def test_execution_time_budget(make_client: Callable[..., Awaitable[TestClient]]) -> None:
    client = await make_client(plugins_dir=FIXTURES, graphql_timeout_seconds=0.2)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    status, ctype, body = await post(client, "{ probeSleep(seconds: 3600) }", headers)
    assert_refused(status, ctype, body, "QUERY_TIMEOUT")
    assert "budget of 0.2 s" in body["detail"]
    status, _, body = await post(client, "{ probeSleep(seconds: 0) }", headers)
    assert (status, body) == (200, {"data": {"probeSleep": True}})


async def test_normal_queries_are_unaffected(
    make_client: Callable[..., Awaitable[TestClient]],
) -> None:
    """Fragments reused many times, a few aliases and the full introspection query all pass."""
    from graphql import get_introspection_query

    client = await make_client(plugins_dir=FIXTURES)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    query = """
    query Items {
      a: probeItems(count: 3) { ...Item }
      b: probeItems(count: 2) { ...Item children { id } }
      probeNode { ...Node next { ...Node next { ...Node } } }
    }
    fragment Item on ProbeItem { id createdOn children { id parentId } }
    fragment Node on ProbeNode { value }
    """
    status, _, body = await post(client, query, headers)
    assert status == 200, body
    assert len(body["data"]["a"]) == 3
    assert body["data"]["probeNode"]["next"]["next"]["value"] == 9
    status, _, body = await post(client, get_introspection_query(descriptions=True), headers)
    assert status == 200, body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
