"""Client mistakes are never a 500 (issue 12 #5): hostile JSON, odd ids, values the DB cannot hold.

Every case goes through HTTP; the same checks run on PostgreSQL (int4 ids) when it is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import login

Headers = dict[str, str]
DEEP = b"[" * 1000 + b"]" * 1000
VERY_DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE_INT = b'{"username": "admin", "password": ' + b"9" * 5000 + b"}"


async def problem(resp: Any) -> dict[str, Any]:
    assert resp.content_type == "application/problem+json", await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


@pytest.mark.parametrize("raw", [DEEP, VERY_DEEP, HUGE_INT], ids=["deep", "very-deep", "digits"])
async def test_hostile_json_is_400_on_every_json_endpoint(
    client: TestClient, admin_headers: Headers, raw: bytes
) -> None:
    json_headers = {**admin_headers, "Content-Type": "application/json"}
    for path, headers in (
        ("/api/v1/authentication", {"Content-Type": "application/json"}),
        ("/graphql", json_headers),
        ("/api/v1/batches", json_headers),
        ("/api/v1/clients", json_headers),
    ):
        resp = await client.post(path, data=raw, headers=headers)
        if "Authorization" not in headers and len(raw) > 64 << 10:
            # a caller without credentials never gets 200 KB read (the anonymous body limit)
            assert resp.status == 413, (path, await resp.text())
            continue
        assert resp.status == 400, (path, await resp.text())
        body = await problem(resp)
        assert body["type"] == "/problems/json-too-complex", body
    # the same inside a batch item's JSON-string body: that item is refused, nothing crashes
    item = {"requestId": 1, "relativeUrl": "clients", "method": "POST", "body": raw.decode()}
    resp = await client.post("/api/v1/batches", json=[item], headers=admin_headers)
    assert resp.status == 400, await resp.text()
    assert "too complex" in (await problem(resp))["detail"]


async def test_graphql_variables_in_the_url_too(client: TestClient, admin_headers: Headers) -> None:
    resp = await client.get(
        "/graphql",
        params={"query": "{ viewer { subject } }", "variables": DEEP.decode()},
        headers=admin_headers,
    )
    assert resp.status == 400
    assert (await problem(resp))["type"] == "/problems/json-too-complex"


async def test_nan_is_not_json(client: TestClient, admin_headers: Headers) -> None:
    resp = await client.post(
        "/api/v1/clients",
        data=b'{"fullname": "A", "officeId": NaN}',
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert resp.status == 400


async def _ids_and_ranges(client: TestClient, headers: Headers) -> None:
    for n in range(3):
        resp = await client.post("/api/v1/clients", json={"fullname": f"C{n}"}, headers=headers)
        assert resp.status == 201, await resp.text()
    resp = await client.get("/api/v1/clients/3", headers=headers)
    assert resp.status == 200
    # non-ASCII digits: superscript two, Arabic-Indic three, fullwidth three
    for raw in ("\u00b2", "\u0663", "\uff13", "\u00b9"):
        for path in (
            f"/api/v1/clients/{raw}",
            f"/api/v1/loans/{raw}",
            f"/api/v1/savingsaccounts/{raw}",
            f"/api/v1/apikeys/{raw}",
            f"/api/v1/jobs/{raw}",
        ):
            method = client.delete if "apikeys" in path else client.get
            resp = await method(path, headers=headers)
            assert resp.status in (400, 404), (path, resp.status, await resp.text())
    # beyond int4 (PostgreSQL), int8 (SQLite) and any integer column
    for number in (2**31, 2**63, 2**66):
        for path in (f"/api/v1/clients/{number}", f"/api/v1/loans/{number}"):
            resp = await client.get(path, headers=headers)
            assert resp.status == 404, (path, await resp.text())
        for query in (
            f"offset={number}",
            f"officeId={number}",
            f"clientId={number}",
        ):
            for base in ("/api/v1/clients", "/api/v1/loans", "/api/v1/jobs"):
                resp = await client.get(f"{base}?{query}", headers=headers)
                assert resp.status in (200, 400), (base, query, await resp.text())
                if resp.status == 400:
                    await problem(resp)
        resp = await client.post(
            "/api/v1/clients", json={"fullname": "Big", "officeId": number}, headers=headers
        )
        assert resp.status in (400, 404, 422), await resp.text()
        resp = await client.post(
            "/graphql", json={"query": f'{{ client(id: "{number}") {{ id }} }}'}, headers=headers
        )
        assert resp.status == 200
        body = await resp.json()
        assert body["data"] == {"client": None} or body["errors"][0]["extensions"]["status"] < 500
        resp = await client.post(
            "/graphql",
            json={"query": f"{{ clients(offset: {min(number, 2**31 - 1)}) {{ id }} }}"},
            headers=headers,
        )
        assert resp.status == 200
    resp = await client.post(
        "/graphql", json={"query": '{ client(id: "٣") { id } }'}, headers=headers
    )
    body = await resp.json()
    assert body.get("data", {}).get("client") is None, body


async def test_ids_and_ranges_sqlite(client: TestClient, admin_headers: Headers) -> None:
    await _ids_and_ranges(client, admin_headers)


@pytest.mark.pg
async def test_ids_and_ranges_postgresql(
    make_client: Callable[..., Awaitable[TestClient]], pg_url: str
) -> None:
    client = await make_client(db_url=pg_url)
    await _ids_and_ranges(client, {"Authorization": f"Bearer {await login(client)}"})


async def _api_key_prefix(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    secret_prefix = "p" * 40
    for headers in (
        {"X-API-Key": f"{secret_prefix}.the-secret-part"},
        {"Authorization": f"ApiKey {secret_prefix}.the-secret-part"},
    ):
        with caplog.at_level(logging.DEBUG):
            resp = await client.get("/api/v1/clients", headers=headers)
        assert resp.status == 401, await resp.text()
        assert "the-secret-part" not in caplog.text
        assert secret_prefix not in caplog.text


async def test_long_api_key_prefix_is_401_sqlite(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    await _api_key_prefix(client, caplog)


@pytest.mark.pg
async def test_long_api_key_prefix_is_401_postgresql(
    make_client: Callable[..., Awaitable[TestClient]],
    pg_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _api_key_prefix(await make_client(db_url=pg_url), caplog)


@pytest.mark.pg
async def test_nul_in_login_is_not_a_500_postgresql(
    make_client: Callable[..., Awaitable[TestClient]], pg_url: str
) -> None:
    client = await make_client(db_url=pg_url)
    resp = await client.post(
        "/api/v1/authentication", json={"username": "ad\u0000min", "password": "x"}
    )
    assert resp.status in (400, 401), await resp.text()


async def test_a_path_with_an_encoded_line_break_is_a_problem_not_aiohttps_text(
    client: TestClient, admin_headers: Headers
) -> None:
    """Found by schemathesis: `%0A` in a path once fell through to aiohttp's own text 404."""
    resp = await client.post("/api/v1/loans/a%0Ab", headers=admin_headers)
    assert 400 <= resp.status < 500, await resp.text()
    assert resp.content_type == "application/problem+json"
