"""Credentials follow the user (issue 12 #6): deletion, deactivation, role changes and logout take
effect within seconds; the API login is throttled with counters in the database; X-Forwarded-For
counts only from trusted proxies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from host.auth import AUTH, Authenticator
from tests.conftest import ADMIN_PASSWORD, login

Headers = dict[str, str]
MakeClient = Callable[..., Awaitable[TestClient]]


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


async def status_of(client: TestClient, token: str, path: str = "/api/v1/apikeys") -> int:
    return (await client.get(path, headers=bearer(token))).status


async def test_deleted_deactivated_and_stripped_users_lose_access(make_client: MakeClient) -> None:
    from host.auth.models import User
    from host.auth.users import add_user

    client = await make_client(auth_user_cache_seconds=0)
    for name in ("gone", "asleep", "demoted"):
        await add_user(name, f"{name}-password-1", ["admin"])
    tokens = {n: await login(client, n, f"{n}-password-1") for n in ("gone", "asleep", "demoted")}
    assert {n: await status_of(client, t) for n, t in tokens.items()} == dict.fromkeys(tokens, 200)

    await User.filter(username="gone").delete()
    await User.filter(username="asleep").update(active=False)
    await User.filter(username="demoted").update(roles=["clients:read"])
    assert await status_of(client, tokens["gone"]) == 401
    assert await status_of(client, tokens["asleep"]) == 401
    assert await status_of(client, tokens["demoted"]) == 403  # admin endpoint, role gone
    assert await status_of(client, tokens["demoted"], "/api/v1/clients") == 200
    me = await (await client.get("/api/v1/me", headers=bearer(tokens["demoted"]))).json()
    assert me["roles"] == ["clients:read"]
    # GraphQL authenticates the same way
    resp = await client.post(
        "/graphql", json={"query": "{ viewer { subject } }"}, headers=bearer(tokens["gone"])
    )
    assert resp.status == 401


async def test_changes_take_effect_within_the_cache_time(make_client: MakeClient) -> None:
    from host.auth.models import User

    client = await make_client(auth_user_cache_seconds=0.5)
    token = await login(client)
    assert await status_of(client, token) == 200
    await User.filter(username="admin").update(active=False)
    for _ in range(400):  # bounded poll: the cache holds the old answer for up to 0.5 s
        if await status_of(client, token) == 401:
            break
        await asyncio.sleep(0.05)
    assert await status_of(client, token) == 401


async def test_logout_and_logout_everywhere(client: TestClient) -> None:
    first, second = await login(client), await login(client)
    resp = await client.post("/api/v1/authentication/logout", headers=bearer(first))
    assert resp.status == 204
    assert await status_of(client, first) == 401
    assert await status_of(client, second) == 200
    # another instance sharing the database refuses the token too (a fresh authenticator)
    other = Authenticator(client.app[AUTH]._key)
    identity = other.verify_token(first)
    with pytest.raises(Exception) as refused:
        await other.current_user(identity)
    assert getattr(refused.value, "status", None) == 401

    third = await login(client)
    resp = await client.post(
        "/api/v1/authentication/logout", json={"everywhere": True}, headers=bearer(second)
    )
    assert resp.status == 204
    assert await status_of(client, second) == 401
    assert await status_of(client, third) == 401
    assert await status_of(client, await login(client)) == 200  # logging in again works
    resp = await client.post("/api/v1/authentication/logout")
    assert resp.status == 401


async def _login_status(client: TestClient, password: str, headers: Headers | None = None) -> int:
    resp = await client.post(
        "/api/v1/authentication",
        json={"username": "Admin" if password == "x" else "admin", "password": password},
        headers=headers or {},
    )
    if resp.status == 429:
        assert int(resp.headers["Retry-After"]) >= 1
        assert (await resp.json())["type"] == "/problems/too-many-logins"
    return resp.status


async def test_api_login_is_throttled(make_client: MakeClient) -> None:
    client = await make_client()
    for _ in range(5):
        assert await _login_status(client, "x") == 401  # user names count case-insensitively
    assert await _login_status(client, "x") == 429
    assert await _login_status(client, ADMIN_PASSWORD) == 429  # even the right one waits
    # X-Forwarded-For is ignored unless trusted: a client cannot pick a fresh address
    assert await _login_status(client, ADMIN_PASSWORD, {"X-Forwarded-For": "1.2.3.4"}) == 429


async def test_forwarded_for_only_from_trusted_proxies(make_client: MakeClient) -> None:
    # the test client connects from 127.0.0.1, a trusted proxy by default
    client = await make_client(trust_forwarded=True)
    behind = {"X-Forwarded-For": "203.0.113.7"}
    for _ in range(5):
        assert await _login_status(client, "x", behind) == 401
    assert await _login_status(client, ADMIN_PASSWORD, behind) == 429
    # prepending a made-up hop does not help: the rightmost untrusted hop is the client
    spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert await _login_status(client, ADMIN_PASSWORD, spoofed) == 429
    # another client behind the same proxy is not affected
    other = {"X-Forwarded-For": "203.0.113.8"}
    assert await _login_status(client, ADMIN_PASSWORD, other) == 200
    # a successful login clears that client's counter only
    assert await _login_status(client, ADMIN_PASSWORD, behind) == 429

    # the proxy list decides: with an unrelated proxy network, 127.0.0.1 is the client
    strict = await make_client(trust_forwarded=True, trusted_proxies="10.0.0.0/8")
    for n in range(5):
        hop = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert await _login_status(strict, "x", hop) == 401
    assert await _login_status(strict, ADMIN_PASSWORD, {"X-Forwarded-For": "203.0.113.99"}) == 429
