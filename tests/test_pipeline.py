"""The request pipeline through HTTP: context headers, auth decisions, problem+json errors."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.conftest import login


async def test_login_and_call_a_plugin_endpoint(client: TestClient) -> None:
    token = await login(client)
    headers = {"Authorization": f"Bearer {token}"}
    resp = await client.post("/api/v1/clients", json={"firstname": "Ada"}, headers=headers)
    assert resp.status == 201
    client_id = (await resp.json())["clientId"]
    resp = await client.get(f"/api/v1/clients/{client_id}", headers=headers)
    assert resp.status == 200
    assert (await resp.json())["firstname"] == "Ada"


async def test_no_identity_is_401_with_problem_and_request_id(client: TestClient) -> None:
    resp = await client.get("/api/v1/clients/1", headers={"X-Request-Id": "abc-123"})
    assert resp.status == 401
    assert resp.content_type == "application/problem+json"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    body = await resp.json()
    assert body["status"] == 401 and body["requestId"] == "abc-123"
    assert resp.headers["X-Request-Id"] == "abc-123"


async def test_traceparent_keeps_trace_and_gets_new_span(client: TestClient) -> None:
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    resp = await client.get("/healthz", headers={"traceparent": incoming})
    out = resp.headers["traceparent"].split("-")
    assert out[1] == "0af7651916cd43dd8448eb211c80319c"
    assert out[2] != "b7ad6b7169203331" and len(out[2]) == 16


async def test_bad_tenant_is_400(client: TestClient) -> None:
    resp = await client.get("/healthz", headers={"X-Tenant": "../../etc"})
    assert resp.status == 400
    assert (await resp.json())["type"] == "/problems/invalid-tenant"


async def test_malformed_json_is_400_with_position(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {await login(client)}", "Content-Type": "application/json"}
    resp = await client.post("/api/v1/clients", data=b'{"firstname": ', headers=headers)
    assert resp.status == 400
    assert "line 1 column" in (await resp.json())["detail"]


async def test_wrong_password_is_401(client: TestClient) -> None:
    resp = await client.post(
        "/api/v1/authentication", json={"username": "admin", "password": "nope"}
    )
    assert resp.status == 401
    assert resp.content_type == "application/problem+json"
