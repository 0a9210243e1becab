"""The host core through its public interfaces: HTTP, the plugin contract, the bus.

The plugins come from tests/fixtures/core_plugins: two working ones (core_alpha, core_beta) next to
plugins that fail in every way the loader must survive.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from host.bus import BUS
from tests.conftest import login

CORE_PLUGINS = Path(__file__).parent / "fixtures" / "core_plugins"


@pytest.fixture
async def core(make_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    import core_alpha  # type: ignore[import-not-found]

    core_alpha.SEEN.clear()
    return await make_client(plugins_dir=CORE_PLUGINS)


@pytest.fixture(autouse=True)
def _core_plugins_importable() -> None:
    import sys

    if str(CORE_PLUGINS) not in sys.path:
        sys.path.insert(0, str(CORE_PLUGINS))


async def auth(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {await login(client)}"}


# plugin discovery ----------------------------------------------------------------------------
async def test_broken_plugins_are_skipped_with_reasons_and_the_rest_serve(core: TestClient) -> None:
    resp = await core.get("/healthz")
    assert resp.status == 200
    health = await resp.json()
    loaded = {p["name"] for p in health["plugins"]["loaded"]}
    skipped = {p["name"]: p["reason"] for p in health["plugins"]["skipped"]}
    assert loaded == {"core_alpha", "core_beta", "host_admin"}  # the admin UI is a plugin too
    assert "core_nowhere" in skipped["core_missing_req"]
    assert "cyclic" in skipped["core_cycle_a"] and "cyclic" in skipped["core_cycle_b"]
    assert "core_this_module_does_not_exist" in skipped["core_import_error"]
    assert "licence server" in skipped["core_setup_fails"]
    assert "core_setup_fails" in skipped["core_after_setup_fails"]
    assert "plugin" in skipped["core_not_a_plugin"]
    assert "/api/v1/beta/ping" in skipped["core_bad_route"]
    # the survivors answer; the skipped plugin's route is not mounted
    assert (await core.get("/api/v1/beta/ping")).status == 200
    assert (await core.get("/api/v1/setup-fails/ping")).status == 404


# REST conventions --------------------------------------------------------------------------
async def problem(resp: object) -> dict[str, object]:
    assert resp.content_type == "application/problem+json"  # type: ignore[attr-defined]
    body = await resp.json()  # type: ignore[attr-defined]
    for member in ("type", "title", "status", "detail", "instance", "requestId"):
        assert member in body, member
    return dict(body)


async def test_each_client_error_is_problem_json(core: TestClient) -> None:
    headers = await auth(core)
    resp = await core.get("/api/v1/nothing-here", headers=headers)
    assert resp.status == 404
    await problem(resp)

    resp = await core.delete("/api/v1/alpha/echo", headers=headers)
    assert resp.status == 405
    assert resp.headers["Allow"] == "GET, HEAD"
    await problem(resp)

    resp = await core.post("/api/v1/alpha/small", json={"text": "x" * 100}, headers=headers)
    assert resp.status == 413
    await problem(resp)

    resp = await core.post(
        "/api/v1/alpha/items", data="name=x", headers={**headers, "Content-Type": "text/csv"}
    )
    assert resp.status == 415
    await problem(resp)

    resp = await core.post("/api/v1/alpha/items", json={"name": "", "qty": -1}, headers=headers)
    assert resp.status == 422
    body = await problem(resp)
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert fields == {"name", "qty"}

    resp = await core.post(
        "/api/v1/alpha/items", json={"name": "a", "qty": 1, "colour": "red"}, headers=headers
    )
    assert resp.status == 422
    assert "colour" in str((await problem(resp))["detail"])


async def send_head_and_part_of_the_body(
    client: TestClient, head: list[str], part: bytes, wait: float = 5
) -> bytes:
    """Send a request's head and the start of its body, never the rest; the status line back.

    A server that reads the whole body before deciding keeps waiting for bytes that never come, and
    the wait below ends the test with a TimeoutError instead of a status.
    """
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + part)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), wait)
    finally:
        writer.close()


async def test_declared_body_over_the_route_limit_is_413_without_reading_it(
    make_client: Callable[..., Awaitable[TestClient]],
) -> None:
    client = await make_client(plugins_dir=CORE_PLUGINS, max_body_bytes=1024)
    token = await login(client)
    declared = 8 << 20  # far over the route's 1 KiB, well under the 64 MiB any route accepts
    head = [
        "POST /api/v1/alpha/items HTTP/1.1",
        f"Host: {client.server.host}",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
        f"Content-Length: {declared}",
    ]
    status = await send_head_and_part_of_the_body(client, head, b'{"name": "')
    assert status.startswith(b"HTTP/1.1 413 "), status


async def test_streamed_body_is_413_once_past_the_route_limit_without_waiting_for_the_end(
    make_client: Callable[..., Awaitable[TestClient]],
) -> None:
    client = await make_client(plugins_dir=CORE_PLUGINS, max_body_bytes=1024)
    token = await login(client)
    head = [
        "POST /api/v1/alpha/items HTTP/1.1",
        f"Host: {client.server.host}",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
    ]
    chunk = b"x" * 512
    part = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(4))  # 2 KiB, no end
    status = await send_head_and_part_of_the_body(client, head, part)
    assert status.startswith(b"HTTP/1.1 413 "), status


async def test_unexpected_error_is_a_bare_500_without_details(core: TestClient) -> None:
    resp = await core.get("/api/v1/alpha/boom", headers=await auth(core))
    assert resp.status == 500
    body = await problem(resp)
    assert "secret internal detail" not in str(body) and "Traceback" not in str(body)


async def test_a_handler_returning_a_value_is_answered_as_json_with_the_route_status(
    core: TestClient,
) -> None:
    headers = {**await auth(core), "X-Tenant": "acme"}
    resp = await core.post("/api/v1/alpha/values", headers=headers)
    assert resp.status == 201  # the route's declared status
    assert resp.content_type == "application/json"
    assert await resp.json() == {"made": True, "tenant": "acme"}
    resp = await core.get("/api/v1/alpha/values", headers=headers)
    assert (resp.status, await resp.json()) == (
        200,
        [{"name": "a", "qty": 1}, {"name": "b", "qty": 2}],
    )
    resp = await core.get("/api/v1/alpha/values/model", headers=headers)
    assert await resp.json() == {"name": "m", "qty": 3}
    # a value JSON cannot hold is the plugin's bug: a bare 500, nothing of it leaks
    resp = await core.get("/api/v1/alpha/values/unencodable", headers=headers)
    assert resp.status == 500
    assert "object" not in (await resp.text())


async def test_api_versions_mount_side_by_side(core: TestClient) -> None:
    assert (await (await core.get("/api/v2/alpha/echo")).json()) == {"version": 2}
    assert (await core.get("/api/v1/alpha/echo")).status == 401  # v1 needs an identity


async def test_context_headers_reach_the_handler_and_come_back(core: TestClient) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    resp = await core.get(
        "/api/v1/alpha/echo?x=1",
        headers={
            **(await auth(core)),
            "X-Request-Id": "req-42",
            "traceparent": f"00-{trace}-00f067aa0ba902b7-01",
            "X-Tenant": "acme",
        },
    )
    body = await resp.json()
    assert body == {
        "tenant": "acme",
        "requestId": "req-42",
        "traceId": trace,
        "subject": "admin",
        "query": {"x": "1"},
    }
    assert resp.headers["X-Request-Id"] == "req-42"
    assert resp.headers["traceparent"].split("-")[1] == trace


async def test_bad_request_id_is_replaced_not_echoed(core: TestClient) -> None:
    resp = await core.get("/healthz", headers={"X-Request-Id": "evil\u2028id" + "x" * 300})
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", resp.headers["X-Request-Id"])


# auth ----------------------------------------------------------------------------------------
async def test_roles_give_401_then_403_then_201(core: TestClient) -> None:
    admin = await auth(core)
    resp = await core.post("/api/v1/alpha/items", json={"name": "a", "qty": 1})
    assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")

    resp = await core.post(
        "/api/v1/apikeys", json={"name": "reader", "roles": ["alpha:read"]}, headers=admin
    )
    assert resp.status == 201
    reader = (await resp.json())["key"]
    resp = await core.post(
        "/api/v1/alpha/items", json={"name": "a", "qty": 1}, headers={"X-API-Key": reader}
    )
    assert resp.status == 403
    await problem(resp)

    resp = await core.post(
        "/api/v1/apikeys", json={"name": "writer", "roles": ["alpha:write"]}, headers=admin
    )
    writer = await resp.json()
    resp = await core.post(
        "/api/v1/alpha/items",
        json={"name": "a", "qty": 1},
        headers={"Authorization": f"ApiKey {writer['key']}"},
    )
    assert resp.status == 201

    listed = await (await core.get("/api/v1/apikeys", headers=admin)).json()
    assert "key" not in listed[0] and {k["name"] for k in listed} == {"reader", "writer"}
    assert (await core.delete(f"/api/v1/apikeys/{writer['id']}", headers=admin)).status == 200
    resp = await core.get("/api/v1/me", headers={"X-API-Key": writer["key"]})
    assert resp.status == 401


async def test_tampered_token_is_401(core: TestClient) -> None:
    token = await login(core)
    resp = await core.get("/api/v1/me", headers={"Authorization": f"Bearer {token[:-2]}xx"})
    assert resp.status == 401
    resp = await core.get("/api/v1/me", headers={"Authorization": "Basic YTpi"})
    assert resp.status == 401


# bus -------------------------------------------------------------------------------------------
async def test_events_are_delivered_after_commit_to_every_matching_handler(
    core: TestClient,
) -> None:
    headers = await auth(core)
    resp = await core.post("/api/v1/alpha/items", json={"name": "kept", "qty": 1}, headers=headers)
    assert resp.status == 201
    seen = await (await core.get("/api/v1/alpha/seen", headers=headers)).json()
    # the failing handler ran first and did not stop the async or the sync (pattern) handler
    assert sorted(e["handler"] for e in seen) == ["async", "sync"]
    assert {e["name"] for e in seen} == {"kept"}
    bus = core.app[BUS]
    assert [f.handler for f in bus.failures] == ["core_alpha:explodes"]


async def test_events_of_a_rolled_back_request_are_never_delivered(core: TestClient) -> None:
    headers = await auth(core)
    resp = await core.post("/api/v1/alpha/refused", headers=headers)
    assert resp.status == 400
    # a committed call after it: its event arrives, so the refused one had every chance to
    resp = await core.post("/api/v1/alpha/items", json={"name": "kept", "qty": 1}, headers=headers)
    assert resp.status == 201
    seen = await (await core.get("/api/v1/alpha/seen", headers=headers)).json()
    assert {e["name"] for e in seen} == {"kept"}
    assert [e.payload.get("name") for e in core.app[BUS].recent] == ["kept"]


# documents -------------------------------------------------------------------------------------
async def test_openapi_lists_plugin_routes_with_their_security(core: TestClient) -> None:
    resp = await core.get("/api/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/alpha/items" in doc["paths"] and "/api/v2/alpha/echo" in doc["paths"]
    post = doc["paths"]["/api/v1/alpha/items"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]
    assert "/api/v1/setup-fails/ping" not in doc["paths"]


async def test_metrics_are_prometheus_text(core: TestClient) -> None:
    await core.get("/api/v2/alpha/echo")
    resp = await core.get("/metrics")
    assert resp.status == 200
    text = await resp.text()
    assert "plughost_plugins" in text
    assert re.search(r"^plughost_http_requests_total\{.*\} \d", text, re.M)


async def test_traceparent_keeps_the_trace_with_a_new_span(core: TestClient) -> None:
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    resp = await core.get("/healthz", headers={"traceparent": incoming})
    out = resp.headers["traceparent"].split("-")
    assert out[1] == "0af7651916cd43dd8448eb211c80319c"
    assert out[2] != "b7ad6b7169203331" and len(out[2]) == 16


async def test_bad_tenant_is_400(core: TestClient) -> None:
    resp = await core.get("/healthz", headers={"X-Tenant": "../../etc"})
    assert resp.status == 400
    assert (await problem(resp))["type"] == "/problems/invalid-tenant"


async def test_malformed_json_is_400_with_its_position(core: TestClient) -> None:
    headers = {**(await auth(core)), "Content-Type": "application/json"}
    resp = await core.post("/api/v1/alpha/items", data=b'{"name": ', headers=headers)
    assert resp.status == 400
    assert "line 1 column" in str((await problem(resp))["detail"])


async def test_wrong_password_is_401_and_nothing_more(core: TestClient) -> None:
    resp = await core.post("/api/v1/authentication", json={"username": "admin", "password": "nope"})
    assert resp.status == 401
    body = await problem(resp)
    assert "access_token" not in body
