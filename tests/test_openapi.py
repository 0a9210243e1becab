"""The API contract (issue 12 #7): /api/openapi.json is a valid OpenAPI 3.1 document that says what
the server really does (201s, If-Match, request schemas for batches and route files)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate


async def document(client: TestClient) -> dict[str, Any]:
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    doc: dict[str, Any] = await resp.json()
    return doc


async def test_document_is_valid_and_operation_ids_unique(client: TestClient) -> None:
    doc = await document(client)
    validate(doc)  # raises on any error, duplicate operationIds included
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    # the Mifos alias keeps its own operation
    assert "/api/v1/savingsaccount" in doc["paths"]


async def test_document_says_what_the_server_does(client: TestClient) -> None:
    doc = await document(client)
    paths = doc["paths"]
    for path in ("/api/v1/clients", "/api/v1/loans", "/api/v1/savingsaccounts", "/api/v1/apikeys"):
        responses = paths[path]["post"]["responses"]
        assert "201" in responses and "200" not in responses, path
    assert "204" in paths["/api/v1/authentication/logout"]["post"]["responses"]
    put = paths["/api/v1/admin/routes/{app}"]["put"]
    assert {p["name"] for p in put["parameters"] if p["in"] == "header"} == {
        "If-Match",
        "If-None-Match",
    }
    assert set(put["responses"]) >= {"200", "201"}
    route_file = put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert route_file == "#/components/schemas/RouteFile"
    assert "routes" in doc["components"]["schemas"]["RouteFile"]["properties"]
    delete = paths["/api/v1/admin/routes/{app}"]["delete"]
    assert "204" in delete["responses"]
    assert [p["name"] for p in delete["parameters"] if p["in"] == "header"] == ["If-Match"]
    batch = paths["/api/v1/batches"]["post"]
    body = batch["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    assert body["items"] == {"$ref": "#/components/schemas/BatchItem"}
    assert set(batch["responses"]) >= {"200", "202"}
    # the documented 201 is what the server answers
    from tests.conftest import login

    headers = {"Authorization": f"Bearer {await login(client)}"}
    resp = await client.post("/api/v1/clients", json={"fullname": "Doc"}, headers=headers)
    assert resp.status == 201
