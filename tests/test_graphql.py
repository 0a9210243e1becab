"""GraphQL at /graphql: merged plugin schema, auth, limits, batch loading, broken SDL skipped."""

from __future__ import annotations

import io
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import login

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "graphql_plugins"
Headers = dict[str, str]


async def gql(
    client: TestClient, query: str, headers: Headers, variables: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    resp = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return resp.status, await resp.json()


@pytest.fixture
async def probe(make_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    """A server with only the GraphQL test plugins (one good, three broken): no database tables."""
    return await make_client(plugins_dir=FIXTURES)


@pytest.fixture
async def probe_admin(probe: TestClient) -> Headers:
    return {"Authorization": f"Bearer {await login(probe)}"}


# schema merging and broken plugins -------------------------------------------------------------
async def test_broken_sdl_is_skipped_with_reason_others_work(
    probe: TestClient, probe_admin: Headers
) -> None:
    health = await (await probe.get("/healthz")).json()
    skipped = {p["name"]: p["reason"] for p in health["plugins"]["skipped"]}
    assert "GraphQL SDL does not build" in skipped["gql_bad_syntax"]
    assert "Syntax Error" in skipped["gql_bad_syntax"]
    assert "NoSuchType" in skipped["gql_unknown_type"]
    assert "gql_unknown_type" in skipped["gql_needs_bad"]  # skipped as its dependent
    assert set(health["graphql"]["skipped"]) == {"gql_bad_syntax", "gql_unknown_type"}
    loaded = {p["name"] for p in health["plugins"]["loaded"]}
    assert "gql_probe" in loaded
    # skipped before mounting: its REST route is not there either
    assert (await probe.get("/api/v1/gql-unknown-type")).status == 404

    status, body = await gql(probe, '{ probeFail(kind: "ok") }', probe_admin)
    assert status == 200
    assert body == {"data": {"probeFail": "ok default admin"}}
    status, body = await gql(probe, "{ needsBad }", probe_admin)
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_introspection_works(probe: TestClient, probe_admin: Headers) -> None:
    status, body = await gql(
        probe,
        '{ __schema { queryType { name } types { name } } __type(name: "ProbeItem") '
        "{ fields { name } } }",
        probe_admin,
    )
    assert status == 200, body
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Query", "ProbeItem", "Viewer", "Date"} <= names
    assert "Broken" not in names
    fields = {f["name"] for f in body["data"]["__type"]["fields"]}
    assert fields == {"id", "children", "secret", "createdOn", "flaky"}


# batch loading -------------------------------------------------------------------------------------
async def test_list_field_loads_in_one_batch(probe: TestClient, probe_admin: Headers) -> None:
    calls: list[list[int]] = sys.modules["gql_probe"].BATCH_CALLS
    calls.clear()
    status, body = await gql(
        probe, "{ probeItems(count: 20) { id children { id parentId } } }", probe_admin
    )
    assert status == 200, body
    items = body["data"]["probeItems"]
    assert len(items) == 20
    assert items[3]["children"] == [{"id": "40", "parentId": "4"}, {"id": "41", "parentId": "4"}]
    assert calls == [list(range(1, 21))]  # one batch with every key, not 20 calls


async def test_failing_batch_is_a_field_error_per_item(
    probe: TestClient, probe_admin: Headers
) -> None:
    calls: list[list[int]] = sys.modules["gql_probe"].BATCH_CALLS
    calls.clear()
    status, body = await gql(probe, "{ probeItems(count: 3) { id flaky } }", probe_admin)
    assert status == 200
    assert body["data"]["probeItems"] == [{"id": str(i), "flaky": None} for i in (1, 2, 3)]
    assert [e["path"] for e in body["errors"]] == [["probeItems", i, "flaky"] for i in range(3)]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"INTERNAL_ERROR"}
    assert "internal detail" not in str(body)
    assert calls == [[-1, -2, -3]]  # one batch, failed once for all three


# auth and roles ------------------------------------------------------------------------------------
async def test_no_identity_is_401_problem(probe: TestClient) -> None:
    resp = await probe.post("/graphql", json={"query": "{ viewer { subject } }"})
    assert resp.status == 401
    assert resp.content_type == "application/problem+json"
    assert "WWW-Authenticate" in resp.headers
    resp = await probe.get("/graphql", params={"query": "{ viewer { subject } }"})
    assert resp.status == 401


async def test_field_role_error_is_graphql_error(probe: TestClient, probe_admin: Headers) -> None:
    from host.auth.users import add_user

    await add_user("reader", "reader-password-1", ["clients:read"])
    reader = {"Authorization": f"Bearer {await login(probe, 'reader', 'reader-password-1')}"}
    status, body = await gql(probe, "{ probeItems(count: 2) { id secret } }", reader)
    assert status == 200
    assert body["data"]["probeItems"] == [{"id": "1", "secret": None}, {"id": "2", "secret": None}]
    error = body["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["probeItems", 0, "secret"]
    assert "probe:secret" in error["message"]
    status, body = await gql(probe, "{ probeItems(count: 1) { secret } }", probe_admin)
    assert body == {"data": {"probeItems": [{"secret": "secret-1"}]}}


async def test_resolver_errors_are_mapped_never_leaked(
    probe: TestClient, probe_admin: Headers
) -> None:
    status, body = await gql(
        probe,
        '{ a: probeFail(kind: "problem") b: probeFail(kind: "crash") c: probeFail(kind: "x") }',
        probe_admin,
    )
    assert status == 200
    assert body["data"] == {"a": None, "b": None, "c": "ok default admin"}
    errors = {e["path"][0]: e for e in body["errors"]}
    assert errors["a"]["extensions"] == {"code": "NOT_FOUND", "status": 404}
    assert errors["a"]["message"] == "No probe with that name"
    assert errors["b"]["extensions"]["code"] == "INTERNAL_ERROR"
    assert "internal detail" not in str(body)
    assert "Traceback" not in str(body)


async def test_context_has_tenant_and_identity(probe: TestClient, probe_admin: Headers) -> None:
    status, body = await gql(
        probe,
        "{ viewer { subject roles kind tenant } }",
        {**probe_admin, "X-Tenant": "acme"},
    )
    assert status == 200
    assert body["data"]["viewer"] == {
        "subject": "admin",
        "roles": ["admin"],
        "kind": "user",
        "tenant": "acme",
    }


# limits ------------------------------------------------------------------------------------------
async def test_depth_limit(make_client: Callable[..., Awaitable[TestClient]]) -> None:
    client = await make_client(plugins_dir=FIXTURES, graphql_max_depth=3)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    ok = "{ probeNode { next { value } } }"  # depth 3
    status, body = await gql(client, ok, headers)
    assert status == 200, body
    deep = "query Deep { probeNode { next { next { value } } } }"  # depth 4
    status, body = await gql(client, deep, headers)
    assert status == 400
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert body["errors"][0]["message"] == "Query depth 4 exceeds the maximum of 3"
    # a fragment does not hide the depth
    sneaky = "{ probeNode { ...N } } fragment N on ProbeNode { next { next { value } } }"
    status, body = await gql(client, sneaky, headers)
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"


async def test_token_limit(make_client: Callable[..., Awaitable[TestClient]]) -> None:
    client = await make_client(plugins_dir=FIXTURES, graphql_max_tokens=30)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    status, _ = await gql(client, "{ viewer { subject } }", headers)
    assert status == 200
    many = "{ " + " ".join(f"a{i}: viewer {{ subject }}" for i in range(20)) + " }"
    status, body = await gql(client, many, headers)
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_LARGE"
    assert "more than 30 tokens" in body["errors"][0]["message"]


# HTTP ------------------------------------------------------------------------------------------
async def test_page_served_as_html(probe: TestClient) -> None:
    resp = await probe.get("/graphql", headers={"Accept": "text/html,application/xhtml+xml"})
    assert resp.status == 200
    assert resp.content_type == "text/html"
    text = await resp.text()
    assert "<textarea" in text
    assert "https://" not in text  # no CDN: works offline


async def test_get_query_and_mutation_refused_on_get(
    probe: TestClient, probe_admin: Headers
) -> None:
    resp = await probe.get(
        "/graphql",
        params={"query": "query($k: String!) { probeFail(kind: $k) }", "variables": '{"k": "x"}'},
        headers=probe_admin,
    )
    assert resp.status == 200
    assert await resp.json() == {"data": {"probeFail": "ok default admin"}}


async def test_bad_requests_are_problems(probe: TestClient, probe_admin: Headers) -> None:
    json_headers = {**probe_admin, "Content-Type": "application/json"}
    resp = await probe.post("/graphql", data=b'{"query": ', headers=json_headers)
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    assert "not valid JSON" in (await resp.json())["detail"]
    resp = await probe.post("/graphql", json={"variables": {}}, headers=probe_admin)
    assert resp.status == 400
    resp = await probe.post(
        "/graphql", json={"query": "{ viewer { subject } }", "variables": [1]}, headers=probe_admin
    )
    assert resp.status == 400
    resp = await probe.post("/graphql", data=io.BytesIO(b"x" * (2 << 20)), headers=json_headers)
    assert resp.status == 413
    status, body = await gql(probe, "{ viewer { ", probe_admin)
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    status, body = await gql(probe, "{ probeNode { } }", probe_admin)
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    status, body = await gql(
        probe, "query($n: Int!) { probeItems(count: $n) { id } }", probe_admin, {"n": "many"}
    )
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# demo plugins --------------------------------------------------------------------------------
CREATE = """
mutation New($input: NewClientInput!) {
  createClient(input: $input) { id displayName externalId active activationDate }
}
"""


async def _create_clients(client: TestClient, headers: Headers, count: int) -> list[int]:
    ids = []
    for i in range(count):
        status, body = await gql(
            client,
            CREATE,
            headers,
            {"input": {"firstname": "Ada", "lastname": f"Client{i}", "externalId": f"x-{i}"}},
        )
        assert status == 200 and "errors" not in body, body
        ids.append(int(body["data"]["createClient"]["id"]))
    return ids


async def test_create_client_mutation_publishes_after_commit(
    client: TestClient, admin_headers: Headers
) -> None:
    from host.bus import BUS

    status, body = await gql(
        client,
        CREATE,
        admin_headers,
        {
            "input": {
                "firstname": "Grace",
                "lastname": "Hopper",
                "externalId": "gh-1",
                "active": True,
                "activationDate": "2026-01-15",
            }
        },
    )
    assert status == 200, body
    created = body["data"]["createClient"]
    assert created["displayName"] == "Grace Hopper"
    assert created["activationDate"] == "2026-01-15"
    assert created["active"] is True
    bus = client.app[BUS]  # type: ignore[index]
    await bus.join()
    events = [e for e in bus.recent if e.topic == "clients.created"]
    assert [e.payload["clientId"] for e in events] == [int(created["id"])]

    # the same client over REST; a duplicate externalId is a GraphQL error and nothing is saved
    resp = await client.get(f"/api/v1/clients/{created['id']}", headers=admin_headers)
    assert (await resp.json())["displayName"] == "Grace Hopper"
    status, body = await gql(
        client,
        CREATE,
        admin_headers,
        {"input": {"firstname": "G", "lastname": "H", "externalId": "gh-1"}},
    )
    assert status == 200
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "DUPLICATE_EXTERNAL_ID"
    status, body = await gql(client, "{ clients(limit: 10) { id } }", admin_headers)
    assert len(body["data"]["clients"]) == 1
    assert len([e for e in bus.recent if e.topic == "clients.created"]) == 1


async def test_mutation_not_allowed_on_get(client: TestClient, admin_headers: Headers) -> None:
    resp = await client.get(
        "/graphql",
        params={"query": 'mutation { createClient(input: {fullname: "X"}) { id } }'},
        headers=admin_headers,
    )
    assert resp.status == 405
    assert resp.headers["Allow"] == "POST"
    assert resp.content_type == "application/problem+json"


async def test_client_queries_and_validation_errors(
    client: TestClient, admin_headers: Headers
) -> None:
    ids = await _create_clients(client, admin_headers, 3)
    status, body = await gql(
        client, "{ clients(offset: 1, limit: 1) { id lastname } }", admin_headers
    )
    assert body["data"]["clients"] == [{"id": str(ids[1]), "lastname": "Client1"}]
    status, body = await gql(
        client,
        f'{{ a: client(id: "{ids[0]}") {{ displayName }} b: client(id: "999") {{ id }} }}',
        admin_headers,
    )
    assert body == {"data": {"a": {"displayName": "Ada Client0"}, "b": None}}
    status, body = await gql(client, CREATE, admin_headers, {"input": {"firstname": "Only"}})
    assert status == 200
    error = body["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["errors"][0]["field"] == "lastname"


LOANS_QUERY = """
query Clients($limit: Int!) {
  clients(limit: $limit) {
    id
    displayName
    loans { id clientId principal status }
    savingsAccounts { id clientId status }
  }
}
"""


@pytest.fixture
def sql_log(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement the server runs from now on (wraps the connection's execute_query)."""
    from tortoise import connections

    statements: list[str] = []
    connection_class = type(connections.get("default"))
    original = connection_class.execute_query

    async def counting(self: Any, query: str, values: Any = None) -> Any:
        statements.append(query)
        return await original(self, query, values)

    monkeypatch.setattr(connection_class, "execute_query", counting)
    return statements


async def test_extend_type_across_plugins_without_n_plus_1(
    client: TestClient, admin_headers: Headers, sql_log: list[str]
) -> None:
    ids = await _create_clients(client, admin_headers, 20)
    for client_id in ids[:2]:
        for principal in (1000, 2500):
            resp = await client.post(
                "/api/v1/loans",
                json={"clientId": client_id, "productId": 1, "principal": principal},
                headers=admin_headers,
            )
            assert resp.status == 201, await resp.text()
    resp = await client.post(
        "/api/v1/savingsaccounts", json={"clientId": ids[1], "productId": 1}, headers=admin_headers
    )
    assert resp.status == 201, await resp.text()

    def loan_queries() -> int:
        return sum('"loans_loan"' in s and "SELECT" in s.upper() for s in sql_log)

    def data_queries() -> int:
        """Statements for the data: the host's own bookkeeping running meanwhile (the token's
        periodic check against its user, the outbox marking deliveries done) is not one."""
        return sum("host_" not in s for s in sql_log)

    sql_log.clear()
    status, body = await gql(client, LOANS_QUERY, admin_headers, {"limit": 1})
    assert status == 200, body
    one = body["data"]["clients"]
    assert [float(loan["principal"]) for loan in one[0]["loans"]] == [1000.0, 2500.0]
    assert one[0]["loans"][0]["status"] == "submitted"
    queries_for_one, loan_queries_for_one = data_queries(), loan_queries()

    sql_log.clear()
    status, body = await gql(client, LOANS_QUERY, admin_headers, {"limit": 20})
    assert status == 200, body
    clients = body["data"]["clients"]
    assert len(clients) == 20
    assert [len(c["loans"]) for c in clients] == [2, 2] + [0] * 18
    assert all(loan["clientId"] == c["id"] for c in clients for loan in c["loans"])
    assert [len(c["savingsAccounts"]) for c in clients[:3]] == [0, 1, 0]
    # the same number of statements for 20 clients as for 1: clients, loans, savings
    assert data_queries() == queries_for_one == 3, sql_log
    assert loan_queries() == loan_queries_for_one == 1


async def test_role_restricted_field_for_user_without_role(
    client: TestClient, admin_headers: Headers
) -> None:
    from host.auth.users import add_user

    await _create_clients(client, admin_headers, 2)
    await add_user("clerk", "clerk-password-1", ["clients:read"])
    clerk = {"Authorization": f"Bearer {await login(client, 'clerk', 'clerk-password-1')}"}
    status, body = await gql(client, "{ clients { displayName loans { id } } }", clerk)
    assert status == 200
    # the gated field is null with an error per client; the rest of the data is there
    assert body["data"]["clients"] == [
        {"displayName": "Ada Client0", "loans": None},
        {"displayName": "Ada Client1", "loans": None},
    ]
    assert [e["path"] for e in body["errors"]] == [["clients", 0, "loans"], ["clients", 1, "loans"]]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert "loans:read" in body["errors"][0]["message"]
    status, body = await gql(client, "{ clients { displayName } }", clerk)
    assert body == {
        "data": {"clients": [{"displayName": "Ada Client0"}, {"displayName": "Ada Client1"}]}
    }
    # writing needs clients:write
    status, body = await gql(client, CREATE, clerk, {"input": {"fullname": "Acme"}})
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "status": 403}


@pytest.mark.pg
async def test_cross_plugin_query_on_postgresql(
    make_client: Callable[..., Awaitable[TestClient]], pg_url: str
) -> None:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    # Tortoise caches INSERT statements per (connection name, table), not per dialect: drop the
    # SQLite ones earlier tests in this process left under the same connection name "default"
    EXECUTOR_CACHE.clear()
    client = await make_client(db_url=pg_url)
    headers = {"Authorization": f"Bearer {await login(client)}"}
    ids = await _create_clients(client, headers, 3)
    resp = await client.post(
        "/api/v1/loans",
        json={"clientId": ids[2], "productId": 1, "principal": 500},
        headers=headers,
    )
    assert resp.status == 201, await resp.text()
    status, body = await gql(client, LOANS_QUERY, headers, {"limit": 5})
    assert status == 200, body
    assert [len(c["loans"]) for c in body["data"]["clients"]] == [0, 0, 1]
    assert body["data"]["clients"][2]["loans"][0]["principal"] == 500.0
