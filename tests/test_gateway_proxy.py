"""Gateway upstream proxy against a small upstream and token server started by the test."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import Gw

SECRET_ENV = "PLUGHOST_UPSTREAM_SECRET_GW_TEST"
SECRET = "s3cret-value"


@dataclass
class Upstream:
    tokens_issued: int = 0
    valid: set[str] = field(default_factory=set)
    seen: list[dict[str, Any]] = field(default_factory=list)


def upstream_app(state: Upstream) -> web.Application:
    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        auth = request.headers.get("Authorization", "")
        import base64

        expected = "Basic " + base64.b64encode(f"gw-client:{SECRET}".encode()).decode()
        if auth != expected or form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "invalid_client"}, status=401)
        await asyncio.sleep(0.05)  # slow enough that concurrent callers overlap
        state.tokens_issued += 1
        value = f"tok{state.tokens_issued}"
        state.valid.add(value)
        return web.json_response({"access_token": value, "token_type": "Bearer", "expires_in": 600})

    async def account(request: web.Request) -> web.StreamResponse:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in state.valid:
            return web.json_response({"error": "invalid_token"}, status=401)
        state.seen.append({"path": request.raw_path, "headers": dict(request.headers)})
        resp = web.json_response(
            {"id": request.match_info["id"], "path": request.raw_path, "token": bearer}
        )
        resp.headers["Proxy-Authenticate"] = "Basic"
        resp.headers["X-Upstream"] = "yes"
        return resp

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.json_response({})

    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "application/octet-stream"
        await resp.prepare(request)
        for _ in range(64):
            await resp.write(b"x" * 16384)
        await resp.write_eof()
        return resp

    async def files(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response({"path": request.raw_path, "received": len(body)})

    app = web.Application()
    app.router.add_post("/oauth/token", token)
    app.router.add_get("/partner/v2/accounts/{id}", account)
    app.router.add_get("/partner/slow", slow)
    app.router.add_get("/partner/big", big)
    app.router.add_route("*", "/partner/files/{rest:.*}", files)
    return app


def partner_doc(base: str, token_url: str) -> dict[str, Any]:
    client = {"token_url": token_url, "client_id": "gw-client", "secret_env": SECRET_ENV}
    return {
        "version": 1,
        "upstreams": {
            "partner": {"url": base, "timeout": 0.5, "client": client},
            "open": {"url": base, "timeout": 5},
        },
        "routes": [
            {
                "path": "/accounts/{id}",
                "upstream": "partner",
                "location": "/v2/accounts/{id}",
                "roles": ["partner:read"],
            },
            {"path": "/slow", "upstream": "partner", "location": "/slow", "public": True},
            {"path": "/big", "upstream": "open", "location": "/big", "public": True},
            {
                "path": "/files/{rest*}",
                "methods": ["GET", "PUT"],
                "upstream": "open",
                "location": "/files/{rest}",
                "public": True,
            },
        ],
    }


@pytest.fixture
async def partner(
    make_gw: Callable[..., Awaitable[Gw]],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Gw, Upstream]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    state = Upstream()
    server = TestServer(upstream_app(state))
    await server.start_server()
    base = str(server.make_url("/partner"))
    gw = await make_gw({"partner.json": partner_doc(base, str(server.make_url("/oauth/token")))})
    yield gw, state  # type: ignore[misc]
    await server.close()


async def test_one_token_call_for_50_concurrent_requests(partner: tuple[Gw, Upstream]) -> None:
    gw, upstream = partner
    headers = {"X-App-Name": "partner", **gw.token("partner:read")}
    resps = await asyncio.gather(
        *(gw.client.get(f"/accounts/{i}", headers=headers) for i in range(50))
    )
    assert [r.status for r in resps] == [200] * 50
    bodies = [await r.json() for r in resps]
    assert {b["token"] for b in bodies} == {"tok1"}
    assert upstream.tokens_issued == 1
    # the upstream revokes the token: one 401, one refresh, the call still succeeds
    upstream.valid.clear()
    status, body = await gw.get("/accounts/9", headers=headers)
    assert (status, body["token"]) == (200, "tok2")
    assert upstream.tokens_issued == 2
    # roles are checked before anything is sent upstream
    resp = await gw.client.get("/apps/partner/accounts/1", headers=gw.token("other"))
    assert resp.status == 403
    assert (await gw.client.get("/apps/partner/accounts/1")).status == 401


async def test_headers_propagated_and_hop_by_hop_dropped(partner: tuple[Gw, Upstream]) -> None:
    gw, upstream = partner
    caller = gw.token("partner:read")
    trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    headers = {
        **caller,
        "X-Request-Id": "req-123",
        "traceparent": trace,
        "X-Tenant": "acme",
        "Connection": "keep-alive, X-Drop-Me",
        "X-Drop-Me": "1",
        "Keep-Alive": "timeout=5",
        "Proxy-Authorization": "Basic c2VjcmV0",
        "X-Custom": "kept",
    }
    resp = await gw.client.get("/apps/partner/accounts/42?x=1&y=a%26b", headers=headers)
    assert resp.status == 200
    assert resp.headers["X-Upstream"] == "yes"
    assert "Proxy-Authenticate" not in resp.headers
    assert resp.headers["X-Request-Id"] == "req-123"
    body = await resp.json()
    assert body["path"] == "/partner/v2/accounts/42?x=1&y=a%26b"
    sent = {k.lower(): v for k, v in upstream.seen[-1]["headers"].items()}
    assert sent["x-request-id"] == "req-123"
    assert sent["x-tenant"] == "acme"
    assert sent["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert sent["traceparent"] != trace  # same trace, the gateway's own span
    assert sent["x-forwarded-for"] == "127.0.0.1"
    assert sent["x-forwarded-proto"] == "http"
    assert sent["x-forwarded-host"]
    assert sent["x-custom"] == "kept"
    assert sent["x-app-name"] == "partner"
    assert sent["authorization"] == "Bearer tok1"  # never the caller's own credential
    for dropped in ("x-drop-me", "keep-alive", "proxy-authorization"):
        assert dropped not in sent, dropped


async def test_502_when_down_504_when_slow(
    partner: tuple[Gw, Upstream], monkeypatch: pytest.MonkeyPatch
) -> None:
    gw, _ = partner
    resp = await gw.client.get("/apps/partner/slow")
    assert resp.status == 504
    assert resp.content_type == "application/problem+json"
    assert "partner" in (await resp.json())["detail"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    doc = partner_doc(f"http://127.0.0.1:{dead}/partner", f"http://127.0.0.1:{dead}/oauth/token")
    (gw.routes / "down.json").write_text(json.dumps(doc))

    async def loaded() -> bool:
        return "down" in await gw.status()

    await gw.until(loaded)
    resp = await gw.client.get("/apps/down/big")
    assert resp.status == 502
    assert (await resp.json())["type"] == "/problems/bad-gateway"
    # the token service down is a 502 too, and the secret never shows
    resp = await gw.client.get("/apps/down/accounts/1", headers=gw.token("partner:read"))
    assert resp.status == 502
    assert SECRET not in await resp.text()
    monkeypatch.delenv(SECRET_ENV)
    resp = await gw.client.get("/apps/down/accounts/1", headers=gw.token("partner:read"))
    assert resp.status == 502
    assert SECRET_ENV in (await resp.json())["detail"]


async def test_streaming_bodies_and_no_escape_from_the_upstream(
    partner: tuple[Gw, Upstream],
) -> None:
    gw, _ = partner
    resp = await gw.client.get("/apps/partner/big")
    assert resp.status == 200
    assert len(await resp.read()) == 64 * 16384
    payload = b"y" * 300_000
    # a caller without credentials gets the small anonymous body limit, even on a public route
    resp = await gw.client.put("/apps/partner/files/a/b.txt", data=payload)
    assert resp.status == 413
    resp = await gw.client.put(
        "/apps/partner/files/a/b.txt", data=payload, headers=gw.token("partner:read")
    )
    assert (await resp.json()) == {"path": "/partner/files/a/b.txt", "received": 300_000}
    # encoded slashes and host-looking segments stay inside the upstream's path
    resp = await gw.client.get("/apps/partner/files/%252F%252Fevil.example/x")
    body = await resp.json()
    assert body["path"].startswith("/partner/files/")
    assert "evil.example" in body["path"]
    resp = await gw.client.get("/apps/partner/files/a/%252e%252e/%252e%252e/oauth/token")
    assert resp.status == 400
