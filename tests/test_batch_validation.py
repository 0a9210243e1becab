"""Batch validation before anything runs (400 naming the item, 413 for size) and the pure parts."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from host.batch.items import check_relative_url, parse_batch
from host.batch.plan import build_plan
from host.batch.refs import (
    PathError,
    Unresolved,
    lookup_path,
    parse_path,
    resolve_json,
    resolve_text,
)
from host.problems import Problem
from tests.conftest import batch, create, login

Client = Callable[..., Awaitable[TestClient]]


def get(request_id: Any, url: str = "clients", **extra: Any) -> dict[str, Any]:
    return {"requestId": request_id, "method": "GET", "relativeUrl": url, **extra}


INVALID: list[tuple[str, Any, int | None, str]] = [
    ("not an array", {"requestId": 1}, None, "JSON array"),
    ("empty", [], None, "empty"),
    ("not an object", [get(1), "x"], 1, "JSON object"),
    ("no requestId", [{"method": "GET", "relativeUrl": "clients"}], 0, "requestId is required"),
    ("ambiguous reference", [get(1), get(2), get(1), get(3, reference=1)], 3, "items 0, 2"),
    ("ambiguous ${id:}", [get(1), get(1), get(3, "clients/${1:$.id}", dependsOn=[])], 2, "unique"),
    ("unknown reference", [get(1), get(2, reference=7)], 1, "unknown requestId '7'"),
    ("unknown dependsOn", [get(1, dependsOn=[1, 5])], 0, "unknown requestId '5'"),
    ("cycle", [get(1, reference=3), get(2, reference=1), get(3, reference=2)], 0, "cycle"),
    ("self cycle", [get(1), get(2, reference=2)], 1, "cycle"),
    ("method", [{**get(1), "method": "TRACE"}], 0, "not supported"),
    ("absolute url", [get(1, "https://evil.example/x")], 0, "absolute"),
    ("scheme-relative", [get(1, "//evil.example/x")], 0, "host"),
    ("dot-dot", [get(1, "clients/../../admin")], 0, "'..'"),
    ("encoded dot-dot", [get(1, "clients/%2e%2e/%2E%2E/x")], 0, "encoded"),
    ("encoded slash", [get(1, "clients%2f..%2fx")], 0, "encoded"),
    ("double encoding", [get(1, "clients/%252e%252e")], 0, "encoded"),
    ("backslash", [get(1, "clients\\..\\x")], 0, "backslash"),
    ("batch of batches", [get(1, "batches")], 0, "batch endpoint"),
    ("batch of batches, case", [get(1, "Batches?x=1")], 0, "batch endpoint"),
    ("batch of batches, versioned", [get(1, "/v1/batches")], 0, "batch endpoint"),
    ("body not JSON", [{**create(1), "body": "{ not json"}], 0, "body is not JSON"),
    ("unknown field", [get(1, dependson=[2])], 0, "unknown field"),
    ("$.path without reference", [{**create(1), "body": {"x": "$.id"}}], 0, "reference"),
    ("bad path", [get(1), {**create(2), "reference": 1, "body": {"x": "$.a..b"}}], 1, "path"),
    ("unterminated", [get(1), get(2, "clients/${1:$.id", dependsOn=[1])], 1, "unterminated"),
    ("not an ancestor", [get(1), get(2), get(3, "clients/${2:$.id}", reference=1)], 2, "ancestor"),
    ("bad headers", [get(1, headers="Accept: x")], 0, "headers"),
]


async def test_invalid_batches_are_400_naming_the_item(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for name, payload, index, words in INVALID:
        status, problem = await batch(client, json.dumps(payload), admin_headers)
        assert status == 400, (name, problem)
        assert words in problem["detail"], (name, problem["detail"])
        if index is not None:
            assert problem["itemIndex"] == index, name
            assert problem["errors"][0]["index"] == index, name
    resp = await client.get("/api/v1/clients", headers=admin_headers)
    assert (await resp.json())["totalFilteredRecords"] == 0


async def test_malformed_json_is_400(client: TestClient, admin_headers: dict[str, str]) -> None:
    status, problem = await batch(client, "[{", admin_headers)
    assert status == 400 and problem["type"] == "/problems/malformed-json"


async def test_every_error_is_listed(client: TestClient, admin_headers: dict[str, str]) -> None:
    payload = [get(1, "//x"), get(2, method="NOPE"), get(2)]
    status, problem = await batch(client, json.dumps(payload), admin_headers)
    assert status == 400
    assert [e["index"] for e in problem["errors"]] == [0, 1]


async def test_too_many_items_and_bytes_are_413(make_client: Client) -> None:
    client = await make_client(batch_max_items=3, batch_max_bytes=2000)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    status, problem = await batch(client, [get(i) for i in range(4)], headers)
    assert status == 413 and problem["limit"] == 3
    big = [{**create(1), "body": {"firstname": "x" * 3000}}]
    status, problem = await batch(client, big, headers)
    assert status == 413


async def test_batch_needs_an_identity(client: TestClient) -> None:
    resp = await client.post("/api/v1/batches", json=[get(1)])
    assert resp.status == 401


async def test_bad_query_flag_is_400(client: TestClient, admin_headers: dict[str, str]) -> None:
    status, problem = await batch(client, [get(1)], admin_headers, "?enclosingTransaction=maybe")
    assert status == 400 and "enclosingTransaction" in problem["detail"]


# the pure parts ---------------------------------------------------------------------------------
def test_parse_path_subset() -> None:
    assert parse_path("$") == ()
    assert parse_path("$.a.b_c[0][-1]['x y'][\"z\"]") == ("a", "b_c", 0, -1, "x y", "z")
    for bad in ("a.b", "$.", "$..a", "$[x]", "$.a[", "$.a b"):
        with pytest.raises(PathError):
            parse_path(bad)


def test_lookup_names_what_is_missing() -> None:
    doc = {"a": {"b": [10, {"c": None}]}}
    assert lookup_path(doc, ("a", "b", 1, "c"), source="1", path="p") is None
    assert lookup_path(doc, ("a", "b", -2), source="1", path="p") == 10
    with pytest.raises(Unresolved, match="no field 'x'"):
        lookup_path(doc, ("a", "x"), source="1", path="$.a.x")
    with pytest.raises(Unresolved, match="out of range"):
        lookup_path(doc, ("a", "b", 5), source="1", path="$.a.b[5]")


def test_resolution_keeps_types_interpolates_and_escapes() -> None:
    answers = {"1": {"id": 7, "tags": ["a", "b"], "name": "Ada"}, "2": {"n": 2.5}}

    def find(source: str | None, path: str, steps: tuple[str | int, ...]) -> Any:
        return lookup_path(answers[source or "1"], steps, source=source, path=path)

    document = {
        "whole": "$.id",
        "list": "$.tags",
        "lone": "${2:$.n}",
        "text": "id=${1:$.id}, n=${2:$.n}, tag=${$.tags[1]}",
        "escaped": "$$.id costs $$5 and ${1:$.name}$$",
        "plain": "US$ 5",
        "nested": [{"deep": "$.name"}],
        "number": 3,
    }
    assert resolve_json(document, find) == {
        "whole": 7,
        "list": ["a", "b"],
        "lone": 2.5,
        "text": "id=7, n=2.5, tag=b",
        "escaped": "$.id costs $5 and Ada$",
        "plain": "US$ 5",
        "nested": [{"deep": "Ada"}],
        "number": 3,
    }
    assert resolve_text("$.tags", find) == '["a","b"]'


@pytest.mark.parametrize(
    "url",
    ["clients", "clients/5?fields=x", "savingsaccount", "clients/$.clientId", "/clients", "a/b/c"],
)
def test_relative_urls_accepted(url: str) -> None:
    assert check_relative_url(url) is None


def test_fineract_body_quirks() -> None:
    raw = b'[{"requestId": 1, "method": "POST", "relativeUrl": "clients", "body": "{\\"a\\": \\"x\ny\\"}"}]'
    items = parse_batch(raw, max_items=10)
    assert items[0].body == {"a": "x\ny"}
    with pytest.raises(Problem) as caught:
        parse_batch(b"[1, 2]", max_items=1)
    assert caught.value.status == 413


def test_levels_follow_dependencies() -> None:
    raw = json.dumps(
        [get("a"), get("b", reference="a"), get("c"), get("d", dependsOn=["b", "c"]), get("e")]
    ).encode()
    plan = build_plan(parse_batch(raw, max_items=10))
    assert plan.describe() == [["a", "c", "e"], ["b"], ["d"]]
    assert [plan.items[i].request_id for i in plan.order] == ["a", "b", "c", "d", "e"]
