"""Typed query parameters (`Routes.get(..., query=Model)`): parsed like bodies, 400 naming the
parameter, the same for HTTP and batch items, and described in the OpenAPI document."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from tests.conftest import login

CORE_PLUGINS = Path(__file__).parent / "fixtures" / "core_plugins"


async def core_client(make_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    if str(CORE_PLUGINS) not in sys.path:
        sys.path.insert(0, str(CORE_PLUGINS))
    return await make_client(plugins_dir=CORE_PLUGINS)


async def test_typed_query_parameters(make_client: Callable[..., Awaitable[TestClient]]) -> None:
    client = await core_client(make_client)
    auth = {"Authorization": f"Bearer {await login(client)}"}
    resp = await client.get("/api/v1/alpha/search?clientId=7&tag=a&tag=b&other=x", headers=auth)
    assert resp.status == 200
    assert await resp.json() == {"clientId": 7, "tag": ["a", "b"], "limit": 10}

    resp = await client.get("/api/v1/alpha/search?clientId=abc", headers=auth)
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    problem = await resp.json()
    assert problem["detail"] == (
        "Invalid query parameter clientId: Input should be a valid integer, unable to parse "
        "string as an integer (got 'abc')"
    )
    assert problem["errors"][0]["parameter"] == "clientId"

    resp = await client.get("/api/v1/alpha/search?limit=500", headers=auth)
    assert resp.status == 400
    params = [e["parameter"] for e in (await resp.json())["errors"]]
    assert params == ["clientId", "limit"]  # every bad or missing parameter, by name

    # a batch item gets the same answer as the HTTP call
    resp = await client.post(
        "/api/v1/batches",
        json=[{"requestId": 1, "relativeUrl": "alpha/search?clientId=x", "method": "GET"}],
        headers=auth,
    )
    assert resp.status == 200
    item = (await resp.json())[0]
    assert item["statusCode"] == 400 and "clientId" in item["body"]

    doc = await (await client.get("/api/openapi.json")).json()
    params = doc["paths"]["/api/v1/alpha/search"]["get"]["parameters"]
    assert {p["name"]: p["required"] for p in params} == {
        "clientId": True,
        "tag": False,
        "limit": False,
    }
