"""The API contract (issue 12 #7): /api/openapi.json is a valid OpenAPI 3.1 document that says what
the server really does (201s, If-Match, request schemas for batches and route files, the body of
every success answer, `Allow` for every path)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator, ValidationError
from openapi_spec_validator import validate
from pydantic import BaseModel

from host.openapi import build_document
from host.pipeline import RouteDef
from tests.conftest import login


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
    headers = {"Authorization": f"Bearer {await login(client)}"}
    resp = await client.post("/api/v1/clients", json={"fullname": "Doc"}, headers=headers)
    assert resp.status == 201


async def test_every_success_answer_has_a_schema(client: TestClient) -> None:
    doc = await document(client)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            success = {c: r for c, r in op["responses"].items() if c.startswith("2")}
            assert success, f"{method} {path}"
            for code, answer in success.items():
                if code == "204":
                    assert "content" not in answer, f"{method} {path}: a 204 has no body"
                    continue
                assert answer["content"], f"{method} {path} {code}"
                for media, content in answer["content"].items():
                    assert content.get("schema"), f"{method} {path} {code} {media}"
            default = op["responses"]["default"]["content"]["application/problem+json"]
            assert default["schema"] == {"$ref": "#/components/schemas/Problem"}


class Contract:
    """Answers checked against the document: the path is found as the server's router finds it
    (the most specific template, static segments before parameters, whatever the method), the
    schema by status (or `default`) and Content-Type."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.checked: set[str] = set()

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        parts = path.split("?")[0].strip("/").split("/")
        best: tuple[tuple[int, ...], str] | None = None
        for template in self.doc["paths"]:
            segments = template.strip("/").split("/")
            if len(segments) != len(parts):
                continue
            if all(s.startswith("{") or s == p for s, p in zip(segments, parts, strict=True)):
                rank = tuple(0 if s.startswith("{") else 1 for s in segments)
                if best is None or rank > best[0]:
                    best = (rank, template)
        assert best is not None, f"{path} is not in the document"
        operations = self.doc["paths"][best[1]]
        assert method.lower() in operations, f"{method} {best[1]} is not in the document"
        return best[1], operations[method.lower()]

    async def check(self, resp: ClientResponse, method: str, path: str) -> Any:
        template, op = self.operation(method, path)
        answer = op["responses"].get(str(resp.status)) or op["responses"]["default"]
        media = resp.content_type
        assert media in answer.get("content", {}), f"{method} {path}: {resp.status} {media}"
        body = await resp.json(content_type=None)
        schema = answer["content"][media]["schema"]
        Draft202012Validator({**schema, "components": self.doc["components"]}).validate(body)
        self.checked.add(f"{method} {template}")
        return body


def day(days_ago: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days_ago)).isoformat()


async def test_answers_match_their_schemas(client: TestClient) -> None:
    """A client's life through loans and savings, and the host's own endpoints: every answer
    validates against the schema the document gives it."""
    contract = Contract(await document(client))
    headers = {"Authorization": f"Bearer {await login(client)}"}

    async def call(method: str, path: str, json: Any = None, expect: int = 200) -> Any:
        resp = await client.request(method, path, json=json, headers=headers)
        assert resp.status == expect, (method, path, await resp.text())
        return await contract.check(resp, method, path)

    made = await call(
        "POST",
        "/api/v1/clients",
        {"firstname": "Ada", "lastname": "L", "submittedOnDate": day(30)},
        201,
    )
    cid = made["clientId"]
    await call("POST", f"/api/v1/clients/{cid}?command=activate", {"activationDate": day(20)})
    await call("PUT", f"/api/v1/clients/{cid}", {"mobileNo": "555"})
    for path in (
        f"/api/v1/clients/{cid}",
        "/api/v1/clients",
        f"/api/v2/clients/{cid}",
        "/api/v2/clients",
        "/api/v1/offices",
    ):
        await call("GET", path)
    loan = await call(
        "POST",
        "/api/v1/loans",
        {
            "clientId": cid,
            "productId": 1,
            "principal": 1200,
            "numberOfRepayments": 3,
            "interestRatePerPeriod": 1,
            "submittedOnDate": day(10),
        },
        201,
    )
    lid = loan["loanId"]
    await call("POST", f"/api/v1/loans/{lid}?command=approve", {"approvedOnDate": day(9)})
    disbursed = await call(
        "POST", f"/api/v1/loans/{lid}?command=disburse", {"actualDisbursementDate": day(8)}
    )
    await call(
        "POST",
        f"/api/v1/loans/{lid}/transactions?command=repayment",
        {"transactionDate": day(1), "transactionAmount": 100},
    )
    await call("GET", f"/api/v1/loans/{lid}/transactions/{disbursed['subResourceId']}")
    for path in (
        f"/api/v1/loans/{lid}?associations=all",
        f"/api/v1/loans/{lid}",
        "/api/v1/loans",
        "/api/v1/loanproducts",
        "/api/v1/loanproducts/1",
    ):
        await call("GET", path)
    account = await call("POST", "/api/v1/savingsaccount", {"clientId": cid, "productId": 1}, 201)
    sid = account["savingsId"]
    await call("POST", f"/api/v1/savingsaccounts/{sid}?command=approve", {"approvedOnDate": day(0)})
    await call(
        "POST", f"/api/v1/savingsaccounts/{sid}?command=activate", {"activatedOnDate": day(0)}
    )
    await call(
        "POST",
        f"/api/v1/savingsaccounts/{sid}/transactions?command=deposit",
        {"transactionDate": day(0), "transactionAmount": 50},
    )
    for path in (
        f"/api/v1/savingsaccounts/{sid}",
        "/api/v1/savingsaccounts",
        "/api/v1/savingsproducts",
        "/api/v1/savingsproducts/1",
    ):
        await call("GET", path)
    other = await call("POST", "/api/v1/clients", {"fullname": "Gone Ltd"}, 201)
    await call("DELETE", f"/api/v1/clients/{other['clientId']}")
    # the host's own endpoints
    key = await call(
        "POST", "/api/v1/apikeys", {"name": "contract", "roles": ["clients:read"]}, 201
    )
    await call("GET", "/api/v1/apikeys")
    await call("DELETE", f"/api/v1/apikeys/{key['id']}")
    await call("GET", "/api/v1/me")
    batch = [{"requestId": 1, "method": "GET", "relativeUrl": f"clients/{cid}"}]
    await call("POST", "/api/v1/batches", batch)
    await call("POST", "/api/v1/batches?dryRun=true", batch)
    job = await call("POST", "/api/v1/batches?async=true", batch, 202)
    for path in (
        "/api/v1/jobs",
        f"/api/v1/jobs/{job['id']}",
        f"/api/v1/jobs/{job['id']}/items",
        "/api/v1/workflows",
    ):
        await call("GET", path)
    await call("POST", "/graphql", {"query": "{ viewer { subject } }"})
    await call("POST", "/graphql", {"query": "{ nothing }"}, 400)
    await call("GET", "/healthz")
    await call("GET", "/readyz")
    await call("GET", "/api/v1/admin/routes/status")
    await call("POST", "/api/v1/admin/routes/reload")
    await call("GET", "/api/v1/clients/999999", expect=404)
    resp = await client.post("/api/v1/authentication", json={"username": "admin", "password": "no"})
    assert resp.status == 401
    await contract.check(resp, "POST", "/api/v1/authentication")
    assert len(contract.checked) >= 39, sorted(contract.checked)


async def test_allow_lists_exactly_the_documented_methods(client: TestClient) -> None:
    """OPTIONS (and any method a path lacks) is a 405 whose `Allow` is the methods the document
    lists for that path, HEAD with GET: `/admin/routes/status` is its own resource, not also the
    file of an app called `status`."""
    doc = await document(client)
    for template, ops in doc["paths"].items():
        path = re.sub(r"\{[^}]+\}", "x1", template)
        resp = await client.options(path)
        assert resp.status == 405, path
        documented = {m.upper() for m in ops}
        if "GET" in documented:
            documented.add("HEAD")
        assert set(resp.headers["Allow"].split(", ")) == documented, template
    status = "/api/v1/admin/routes/status"
    assert (await client.options(status)).headers["Allow"] == "GET, HEAD"
    resp = await client.put(status, data=b"{}")
    assert resp.status == 405 and resp.headers["Allow"] == "GET, HEAD"
    # the same name another way round is refused, not written as an app's file; the file API's
    # own path takes every name
    headers = {"Authorization": f"Bearer {await login(client)}"}
    resp = await client.put("/api/v1/admin/routes/Status", json={"routes": []}, headers=headers)
    assert resp.status == 400
    assert (await resp.json())["type"].endswith("/reserved-app-name")
    for name in ("status", "reload"):
        path = f"/api/v1/admin/routes/files/{name}"
        resp = await client.put(path, json={"version": 1, "routes": []}, headers=headers)
        assert resp.status == 201, await resp.text()
        resp = await client.get(path, headers=headers)
        assert resp.status == 200 and await resp.json() == {"version": 1, "routes": []}
    resp = await client.get("/api/v1/admin/routes/status", headers=headers)
    assert {a["app"] for a in (await resp.json())["apps"]} == {"status", "reload"}


async def _nothing(request: Any) -> web.Response:
    return web.Response()


def test_two_plugins_models_of_one_name_stay_apart() -> None:
    """Plugin `b` names its model `Resource` too: its schema goes in as `b.Resource`, and the
    models that use it refer to that, so neither plugin's answers are described by the other's."""

    class Resource(BaseModel):
        id: int

    first = Resource

    class Resource(BaseModel):  # type: ignore[no-redef]  # the other plugin's, same name
        name: str

    class Listing(BaseModel):
        items: list[Resource]

    def route(plugin: str, path: str, response: Any) -> RouteDef:
        return RouteDef("GET", path, _nothing, plugin=plugin, version="v1", response=response)

    doc = build_document(
        [route("a", "/a", first), route("b", "/b", Resource), route("b", "/bs", Listing)], []
    )
    validate(doc)
    schemas = doc["components"]["schemas"]
    assert schemas["Resource"]["required"] == ["id"]
    assert schemas["b.Resource"]["required"] == ["name"]
    items = schemas["Listing"]["properties"]["items"]["items"]
    assert items == {"$ref": "#/components/schemas/b.Resource"}

    def body_schema(path: str) -> Draft202012Validator:
        content = doc["paths"][path]["get"]["responses"]["200"]["content"]
        schema = content["application/json"]["schema"]
        return Draft202012Validator({**schema, "components": doc["components"]})

    body_schema("/api/v1/bs").validate({"items": [{"name": "x"}]})
    with pytest.raises(ValidationError):  # a's Resource is not b's
        body_schema("/api/v1/bs").validate({"items": [{"id": 1}]})
