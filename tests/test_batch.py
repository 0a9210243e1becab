"""The batch API over HTTP: the Mifos seed sample, references, failures, parity with single calls."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from host.auth.users import add_user
from host.bus import BUS
from tests.conftest import FIXTURE_PLUGINS, batch, body, create, login

# The seed's sample request as written (Content-type text/html, the Mifos tenant header, a raw line
# break inside item 1's body string); only its elided `...` fields are filled in.
SEED_SAMPLE = """[
  {
    "requestId" : 1,
    "relativeUrl" : "clients",
    "method" : "POST",
    "headers": [{"name": "Content-type", "value": "text/html"}, {"name": "X-Mifos-Platform-TenantId", "value": "text/html"}],
    "body" : "{ \\"officeId\\": 1, \\"firstname\\": \\"Petra\\", \\"lastname\\": \\"Yton\\", \\"externalId\\": \\"76YYP7\\",  \\"dateFormat\\": \\"dd MMMM yyyy\\", \\"locale\\": \\"en\\", \\"active\\": true, \\"activationDate\\": \\"04 March 2009\\",
    \\"submittedOnDate\\": \\"04 March 2009\\", \\"savingsProductId\\" : 1 } "
  },
  {
\t"requestId" : 2,
  \t"relativeUrl" : "loans",
    "method" : "POST",
    "headers":  [{"name": "Content-type", "value": "text/html"}],
    "reference": 1,
    "body" : "{ \\"clientId\\" : \\"$.clientId\\", \\"productId\\" : 1}"
  },
  {
    "requestId" : 3,
    "method" : "POST",
    "relativeUrl" : "clients",
\t"headers":  [{"name": "Content-type", "value": "text/html"}],
    "body" : "{ \\"officeId\\": 1, \\"fullname\\": \\"Pocahontas\\", \\"dateFormat\\": \\"dd MMMM yyyy\\", \\"locale\\": \\"en\\", \\"active\\": true, \\"activationDate\\": \\"04 March 2009\\" }"
  },
  {
    "requestId" : 4,
    "method" : "POST",
    "relativeUrl" : "savingsaccount",
\t"headers":  [{"name": "Content-type", "value": "text/html"}],
\t"reference": 3,
    "body" : "{ \\"clientId\\" : \\"$.clientId\\", \\"productId\\" : 1, \\"dateFormat\\": \\"dd MMMM yyyy\\", \\"locale\\": \\"en\\", \\"submittedOnDate\\": \\"05 March 2009\\"}"
  }
]"""

Client = Callable[..., Awaitable[TestClient]]


async def test_seed_sample_runs_as_fineract_does(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    status, answer = await batch(client, SEED_SAMPLE, admin_headers)
    assert status == 200, answer
    assert [a["requestId"] for a in answer] == [1, 2, 3, 4]
    assert [a["statusCode"] for a in answer] == [201, 201, 201, 201], answer
    first, loan, third, savings = (body(a) for a in answer)
    assert {"officeId", "clientId"} <= first.keys()
    assert loan["loanId"] and loan["clientId"] == first["clientId"]
    assert third["clientId"] != first["clientId"]
    assert savings["savingsId"] and savings["clientId"] == third["clientId"]
    content_type = {h["name"].lower(): h["value"] for h in answer[0]["headers"]}["content-type"]
    assert content_type.startswith("application/json")

    # item 1's savingsProductId opened that client's savings account through the bus
    await client.app[BUS].join()
    resp = await client.get(
        f"/api/v1/savingsaccounts?clientId={first['clientId']}", headers=admin_headers
    )
    assert resp.status == 200
    accounts = await resp.json()
    assert accounts["totalFilteredRecords"] == 1
    assert accounts["pageItems"][0]["clientId"] == first["clientId"]


async def test_v2_batches_run_v2_routes(client: TestClient, admin_headers: dict[str, str]) -> None:
    _status, answer = await batch(client, [create(1)], admin_headers)
    client_id = body(answer[0])["clientId"]
    resp = await client.post(
        "/api/v2/batches",
        json=[{"requestId": "a", "method": "GET", "relativeUrl": f"clients/{client_id}"}],
        headers=admin_headers,
    )
    assert resp.status == 200
    item = (await resp.json())[0]
    assert item["requestId"] == "a" and item["statusCode"] == 200
    assert body(item)["name"]["first"] == "Ada"


async def test_references_nested_paths_interpolation_and_escapes(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [
        create(1),
        {"requestId": 2, "method": "GET", "relativeUrl": "clients/$.clientId", "reference": 1},
        {
            "requestId": 3,
            "method": "GET",
            "relativeUrl": "clients?offset=0&limit=${1:$.clientId}",
            "dependsOn": [2],
        },
        {
            "requestId": 4,
            "method": "PUT",
            "relativeUrl": "clients/${1:$.clientId}",
            "dependsOn": [2, 3],
            "body": {
                "externalId": "ext-${2:$.id}-$$-${3:$.pageItems[0].id}",
                "firstname": "${2:$.firstname}",
                "lastname": "$$.literal",
            },
        },
    ]
    status, answer = await batch(client, items, admin_headers)
    assert status == 200
    assert [a["statusCode"] for a in answer] == [201, 200, 200, 200], answer
    client_id = body(answer[0])["clientId"]
    assert body(answer[1])["id"] == client_id
    changes = body(answer[3])["changes"]
    assert changes["externalId"] == f"ext-{client_id}-$-{body(answer[2])['pageItems'][0]['id']}"
    assert changes["lastname"] == "$.literal"


async def test_escapes_apply_to_items_without_references(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    item = {**create(1), "body": {"firstname": "$$.id", "lastname": "US$$ 5 and $ 6"}}
    _, answer = await batch(client, [item], admin_headers)
    client_id = body(answer[0])["clientId"]
    resp = await client.get(f"/api/v1/clients/{client_id}", headers=admin_headers)
    data = await resp.json()
    assert (data["firstname"], data["lastname"]) == ("$.id", "US$ 5 and $ 6")


async def test_whole_value_reference_keeps_json_type(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [
        create(1),
        {
            "requestId": 2,
            "method": "POST",
            "relativeUrl": "loans",
            "reference": 1,
            "body": {"clientId": "${$.clientId}", "productId": "$.officeId"},
        },
    ]
    _status, answer = await batch(client, items, admin_headers)
    assert [a["statusCode"] for a in answer] == [201, 201], answer
    assert isinstance(body(answer[1])["clientId"], int)


async def test_unmatched_path_is_the_items_own_error(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [
        create(1),
        {
            "requestId": 2,
            "method": "POST",
            "relativeUrl": "loans",
            "reference": 1,
            "body": {"clientId": "$.nothing.here", "productId": 1},
        },
        {"requestId": 3, "method": "GET", "relativeUrl": "loans/$.loanId", "reference": 2},
    ]
    _status, answer = await batch(client, items, admin_headers)
    assert [a["statusCode"] for a in answer] == [201, 422, 424]
    problem = body(answer[1])
    assert problem["type"] == "/problems/unresolved-reference"
    assert problem["path"] == "$.nothing.here" and "$.nothing.here" in problem["detail"]


async def test_failed_parent_propagates_424_to_descendants(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [
        {"requestId": 1, "method": "GET", "relativeUrl": "clients/999999"},
        {"requestId": 2, "method": "GET", "relativeUrl": "clients/$.id", "reference": 1},
        {"requestId": 3, "method": "GET", "relativeUrl": "clients", "dependsOn": [2]},
        {"requestId": 4, "method": "GET", "relativeUrl": "clients"},
    ]
    status, answer = await batch(client, items, admin_headers)
    assert status == 200
    assert [a["statusCode"] for a in answer] == [404, 424, 424, 200]
    assert body(answer[1])["failedRequestId"] == 1
    assert body(answer[2])["failedRequestId"] == 2
    assert body(answer[2])["type"] == "/problems/failed-dependency"
    assert answer[0]["headers"][0]["value"] == "application/problem+json"


async def test_items_cannot_switch_identity(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    other = "Bearer someone-else"
    items = [{**create(1), "headers": [{"name": "Authorization", "value": other}]}]
    status, problem = await batch(client, items, admin_headers)
    assert status == 400 and problem["itemIndex"] == 0
    assert "identity" in problem["detail"]
    # the batch's own credentials repeated in an item are accepted (and ignored)
    same = [
        {
            **create(2),
            "headers": [{"name": "Authorization", "value": admin_headers["Authorization"]}],
        }
    ]
    status, answer = await batch(client, same, admin_headers)
    assert answer[0]["statusCode"] == 201
    tenant = [{**create(3), "headers": [{"name": "X-Tenant", "value": "other"}]}]
    status, problem = await batch(client, tenant, admin_headers)
    assert status == 400 and "tenant" in problem["detail"]


async def test_items_run_with_the_batch_tenant_and_trace(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    trace = "0af7651916cd43dd8448eb211c80319c"
    headers = {
        **admin_headers,
        "X-Tenant": "acme",
        "traceparent": f"00-{trace}-b7ad6b7169203331-01",
    }
    _status, answer = await batch(
        client, [{"requestId": 1, "method": "GET", "relativeUrl": "me"}], headers
    )
    assert answer[0]["statusCode"] == 200
    me = body(answer[0])
    assert me["tenant"] == "acme" and me["subject"] == "admin"


# parity: a batch item answers exactly what the same call alone answers ---------------------------
PARITY_CASES = [
    ("GET", "clients/{id}", None, 200),
    ("POST", "clients", {"firstname": "Bo", "lastname": "Parity"}, 201),
    ("GET", "clients?limit=abc", None, 400),
    ("PUT", "clients/{id}", {}, 400),
    ("GET", "clients/987654", None, 404),
    (
        "POST",
        "clients",
        {
            "firstname": "Bo",
            "lastname": "P",
            "activationDate": "xx",
            "active": True,
            "dateFormat": "dd MMMM yyyy",
            "locale": "en",
        },
        422,
    ),
    ("POST", "clients", {"firstname": 5, "unknownField": 1}, 422),
]


def _comparable(status: int, text: str) -> tuple[int, Any]:
    data = json.loads(text) if text else None
    if isinstance(data, dict):
        # ids of created rows and per-call ids differ by nature
        data = {
            k: v for k, v in data.items() if k not in {"requestId", "clientId", "resourceId", "id"}
        }
    return status, data


@pytest.mark.parametrize(("method", "url", "payload", "expected"), PARITY_CASES)
async def test_parity_with_standalone_calls(
    client: TestClient,
    admin_headers: dict[str, str],
    method: str,
    url: str,
    payload: Any,
    expected: int,
) -> None:
    _, made = await batch(client, [create(1)], admin_headers)
    url = url.format(id=body(made[0])["clientId"])
    alone = await client.request(method, f"/api/v1/{url}", json=payload, headers=admin_headers)
    alone_text = await alone.text()
    item: dict[str, Any] = {"requestId": 1, "method": method, "relativeUrl": url}
    if payload is not None:
        item["body"] = json.dumps(payload)
    _, answer = await batch(client, [item], admin_headers)
    assert alone.status == expected, alone_text
    assert answer[0]["statusCode"] == expected
    assert _comparable(alone.status, alone_text) == _comparable(
        answer[0]["statusCode"], answer[0]["body"]
    )
    assert alone.headers["Content-Type"] == answer[0]["headers"][0]["value"]


async def test_parity_401_and_403(make_client: Client) -> None:
    client = await make_client()
    await add_user("reader", "reader-password-1", ["clients:read"])
    reader = {"Authorization": f"Bearer {await login(client, 'reader', 'reader-password-1')}"}
    # 403: the batch runs as `reader`, which may read but not write
    alone = await client.post("/api/v1/clients", json={"firstname": "X"}, headers=reader)
    _, answer = await batch(client, [create(1)], reader)
    assert alone.status == answer[0]["statusCode"] == 403
    assert _comparable(403, await alone.text()) == _comparable(403, answer[0]["body"])
    # 401: a public endpoint reached through a batch still has the batch's identity, so 401 is
    # what the batch call itself gets without credentials
    resp = await client.post("/api/v1/batches", json=[create(1)])
    assert resp.status == 401
    alone = await client.get("/api/v1/clients/1")
    assert alone.status == 401
    # an item asking for a public route (log in) answers like the same call alone
    creds = {"username": "reader", "password": "wrong"}
    alone = await client.post("/api/v1/authentication", json=creds)
    _, answer = await batch(
        client,
        [{"requestId": 1, "method": "POST", "relativeUrl": "authentication", "body": creds}],
        reader,
    )
    assert alone.status == answer[0]["statusCode"] == 401
    assert _comparable(401, await alone.text()) == _comparable(401, answer[0]["body"])


# concurrency, shown by a route that counts calls in flight ---------------------------------------
async def test_independent_items_overlap_and_a_chain_does_not(make_client: Client) -> None:
    client = await make_client(plugin_path=str(FIXTURE_PLUGINS), batch_concurrency=4)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    independent = [
        {"requestId": i, "method": "GET", "relativeUrl": f"overlap/work?n={i}"} for i in range(12)
    ]
    _, answer = await batch(client, independent, headers)
    assert [a["requestId"] for a in answer] == list(range(12))
    assert all(a["statusCode"] == 200 for a in answer)
    stats = await (await client.get("/api/v1/overlap/stats", headers=headers)).json()
    assert 1 < stats["max"] <= 4

    client = await make_client(plugin_path=str(FIXTURE_PLUGINS), batch_concurrency=4)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    chain = [{"requestId": 0, "method": "GET", "relativeUrl": "overlap/work?n=0"}] + [
        {"requestId": i, "method": "GET", "relativeUrl": f"overlap/work?n={i}", "reference": i - 1}
        for i in range(1, 12)
    ]
    _status, answer = await batch(client, chain, headers)
    assert [body(a)["n"] for a in answer] == [str(i) for i in range(12)]
    stats = await (await client.get("/api/v1/overlap/stats", headers=headers)).json()
    assert stats["max"] == 1 and stats["calls"] == 12


async def test_dry_run_returns_levels_without_running(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [
        create(1),
        create(2),
        {**create(3), "reference": 1},
        {**create(4), "dependsOn": [2, 3]},
    ]
    status, plan = await batch(client, items, admin_headers, "?dryRun=true")
    assert status == 200
    assert plan["levels"] == [[1, 2], [3], [4]]
    assert plan["dryRun"] is True and plan["items"] == 4
    resp = await client.get("/api/v1/clients", headers=admin_headers)
    assert (await resp.json())["totalFilteredRecords"] == 0


async def test_ndjson_streams_one_line_per_item(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [create(1), {**create(2), "reference": 1}, create(3)]
    resp = await client.post(
        "/api/v1/batches",
        json=items,
        headers={**admin_headers, "Accept": "application/x-ndjson"},
    )
    assert resp.status == 200
    assert resp.content_type == "application/x-ndjson"
    lines = [json.loads(line) for line in (await resp.text()).splitlines()]
    assert sorted(line["requestId"] for line in lines) == [1, 2, 3]
    assert all(line["statusCode"] == 201 for line in lines)
    # a parent always finishes (and is written) before its child
    order = [line["requestId"] for line in lines]
    assert order.index(1) < order.index(2)


async def test_batch_through_a_micro_app_maps_every_item(
    make_client: Client, tmp_path: Path
) -> None:
    routes = tmp_path / "routes.d"
    routes.mkdir()
    table = {
        "version": 1,
        "routes": [
            {"path": "/batches", "methods": ["POST"], "location": "/api/v1/batches"},
            {"path": "/people", "methods": ["POST"], "location": "/api/v1/clients"},
            {"path": "/people/{id}", "methods": ["GET"], "location": "/api/v2/clients/{id}"},
            {"path": "/nested", "methods": ["POST"], "location": "/api/v1/batches"},
        ],
    }
    (routes / "mobile.json").write_text(json.dumps(table))
    client = await make_client()
    headers = {"Authorization": f"Bearer {await login(client)}", "X-App-Name": "mobile"}
    items = [
        {**create(1), "relativeUrl": "people"},
        {"requestId": 2, "method": "GET", "relativeUrl": "people/$.clientId", "reference": 1},
        {"requestId": 3, "method": "GET", "relativeUrl": "clients"},
        # an app route leading back to the batch endpoint is refused when it runs
        {"requestId": 4, "method": "POST", "relativeUrl": "nested", "body": [create(1)]},
    ]
    resp = await client.post("/batches", json=items, headers=headers)
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    assert [a["statusCode"] for a in answer] == [201, 200, 404, 400]
    assert body(answer[1])["name"]["first"] == "Ada"  # the app maps people/{id} to v2
    assert "mobile" in body(answer[2])["detail"]
    assert "inside a batch" in body(answer[3])["detail"]
