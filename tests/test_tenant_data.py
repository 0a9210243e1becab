"""Tenants, second part (issue 12 #8): the rows of tenant-scoped plugin models stay in their tenant.

Tenant A creates a client (with a savings account opened by the bus), a loan and a loan
transaction; tenant B can neither read nor change them over REST, GraphQL (top-level fields and
nested loaders), batches and async jobs, and a client B creates stays invisible to A. Both run on
SQLite and on PostgreSQL (when PLUGHOST_TEST_PG is set).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from dramatiq import Middleware

from host.auth.users import add_user
from host.bus import BUS
from host.jobs import JOBS
from tests.conftest import finished, login, wait_for

MakeClient = Callable[..., Awaitable[TestClient]]
Headers = dict[str, str]
TODAY = dt.date.today().isoformat()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    return str(request.getfixturevalue("pg_url")) if request.param == "postgres" else None


@pytest.fixture
async def server(db_url: str | None, make_client: MakeClient) -> TestClient:
    return await make_client(db_url=db_url) if db_url else await make_client()


async def call(
    client: TestClient, method: str, path: str, headers: Headers, body: Any = None
) -> tuple[int, Any]:
    resp = await client.request(method, path, json=body, headers=headers)
    return resp.status, await resp.json()


async def tenant_headers(client: TestClient) -> tuple[Headers, Headers]:
    token = {"Authorization": f"Bearer {await login(client)}"}  # a platform user: may choose
    return {**token, "X-Tenant": "tenant-a"}, {**token, "X-Tenant": "tenant-b"}


async def seed_tenant_a(client: TestClient, a: Headers) -> dict[str, int]:
    """A client (its savings account opened by the bus), an approved and disbursed loan."""
    status, made = await call(
        client,
        "POST",
        "/api/v1/clients",
        a,
        {
            "firstname": "Ada",
            "lastname": "Tenant-A",
            "externalId": "ext-a",
            "active": True,
            "activationDate": TODAY,
            "savingsProductId": 1,
        },
    )
    assert status == 201, made
    cid = made["clientId"]
    status, loan = await call(client, "POST", "/api/v1/loans", a, {"clientId": cid, "productId": 1})
    assert status == 201, loan
    lid = loan["loanId"]
    for command, body in (
        ("approve", {"approvedOnDate": TODAY}),
        ("disburse", {"actualDisbursementDate": TODAY}),
    ):
        status, answer = await call(
            client, "POST", f"/api/v1/loans/{lid}?command={command}", a, body
        )
        assert status == 200, answer
    await client.app[BUS].join()
    status, accounts = await call(client, "GET", f"/api/v1/savingsaccounts?clientId={cid}", a)
    assert status == 200 and accounts["totalFilteredRecords"] == 1, accounts
    return {"client": cid, "loan": lid, "savings": accounts["pageItems"][0]["id"]}


async def test_rest_rows_stay_in_their_tenant(server: TestClient) -> None:
    client = server
    a, b = await tenant_headers(client)
    ids = await seed_tenant_a(client, a)
    cid, lid, sid = ids["client"], ids["loan"], ids["savings"]

    # B reads nothing of A's: one row, lists, filters, nested paths
    for path in (
        f"/api/v1/clients/{cid}",
        f"/api/v2/clients/{cid}",
        f"/api/v1/loans/{lid}",
        f"/api/v1/savingsaccounts/{sid}",
        f"/api/v1/loans/{lid}/transactions/1",  # the disbursement
    ):
        assert (await call(client, "GET", path, a))[0] == 200, path
        status, body = await call(client, "GET", path, b)
        assert status == 404, (path, body)
    for path in (
        "/api/v1/clients",
        "/api/v2/clients",
        "/api/v1/clients?externalId=ext-a",
        f"/api/v1/loans?clientId={cid}",
        "/api/v1/loans",
        "/api/v1/savingsaccounts",
    ):
        status, body = await call(client, "GET", path, b)
        assert status == 200 and body["totalFilteredRecords"] == 0, (path, body)
        assert body["pageItems"] == []

    # B changes nothing of A's: update, delete, commands, accounts on A's client
    attempts = [
        ("PUT", f"/api/v1/clients/{cid}", {"firstname": "Mallory"}),
        ("POST", f"/api/v1/clients/{cid}?command=close", {"closureDate": TODAY}),
        ("DELETE", f"/api/v1/clients/{cid}", None),
        ("POST", "/api/v1/loans", {"clientId": cid, "productId": 1}),
        ("POST", "/api/v1/savingsaccounts", {"clientId": cid, "productId": 1}),
        ("POST", f"/api/v1/loans/{lid}?command=approve", {"approvedOnDate": TODAY}),
        (
            "POST",
            f"/api/v1/loans/{lid}/transactions?command=repayment",
            {"transactionDate": TODAY, "transactionAmount": 5},
        ),
        ("DELETE", f"/api/v1/loans/{lid}", None),
        (
            "POST",
            f"/api/v1/savingsaccounts/{sid}/transactions?command=deposit",
            {"transactionDate": TODAY, "transactionAmount": 100},
        ),
    ]
    for method, path, payload in attempts:
        status, body = await call(client, method, path, b, payload)
        assert status == 404, (method, path, body)

    # ... and A's rows are as A left them
    status, mine = await call(client, "GET", f"/api/v1/clients/{cid}", a)
    assert status == 200
    assert (mine["firstname"], mine["status"]["value"]) == ("Ada", "Active")
    status, loan = await call(client, "GET", f"/api/v1/loans/{lid}", a)
    assert status == 200 and loan["status"]["active"] is True
    status, account = await call(client, "GET", f"/api/v1/savingsaccounts/{sid}", a)
    assert status == 200 and account["summary"]["accountBalance"] == 0

    # B's own rows work, and A does not see them either
    status, made = await call(
        client, "POST", "/api/v1/clients", b, {"firstname": "Bo", "lastname": "Tenant-B"}
    )
    assert status == 201, made
    status, _ = await call(client, "GET", f"/api/v1/clients/{made['clientId']}", a)
    assert status == 404
    status, listing = await call(client, "GET", "/api/v1/clients", a)
    assert [c["id"] for c in listing["pageItems"]] == [cid]
    # a user bound to tenant B, without any header, sees B's client only
    await add_user("bea", "bea-password-1", ["clients:read"], tenant="tenant-b")
    bea = {"Authorization": f"Bearer {await login(client, 'bea', 'bea-password-1')}"}
    status, listing = await call(client, "GET", "/api/v1/clients", bea)
    assert [c["id"] for c in listing["pageItems"]] == [made["clientId"]]
    assert (await call(client, "GET", f"/api/v1/clients/{cid}", bea))[0] == 404


async def test_external_ids_are_unique_per_tenant(server: TestClient) -> None:
    client = server
    a, b = await tenant_headers(client)
    for headers in (a, b):
        status, made = await call(
            client,
            "POST",
            "/api/v1/clients",
            headers,
            {"firstname": "Same", "lastname": "Id", "externalId": "shared-1"},
        )
        assert status == 201, made
        status, loan = await call(
            client,
            "POST",
            "/api/v1/loans",
            headers,
            {"clientId": made["clientId"], "productId": 1, "externalId": "loan-1"},
        )
        assert status == 201, loan
    status, again = await call(
        client,
        "POST",
        "/api/v1/clients",
        a,
        {"firstname": "X", "lastname": "Y", "externalId": "shared-1"},
    )
    assert status == 409 and again["type"] == "/problems/duplicate-external-id"
    for headers in (a, b):
        status, found = await call(client, "GET", "/api/v1/clients?externalId=shared-1", headers)
        assert found["totalFilteredRecords"] == 1


async def test_bus_handlers_run_in_the_events_tenant(server: TestClient) -> None:
    """Both tenants' clients.created events go through one delivery queue; each opens its savings
    account in its own tenant, and the events carry their tenant."""
    client = server
    a, b = await tenant_headers(client)
    made: dict[str, int] = {}
    for name, headers in (("a", a), ("b", b), ("a2", a)):
        status, body = await call(
            client,
            "POST",
            "/api/v1/clients",
            headers,
            {"firstname": name, "lastname": "Saver", "savingsProductId": 1},
        )
        assert status == 201, body
        made[name] = body["clientId"]
    bus = client.app[BUS]
    await bus.join()
    assert not bus.failures
    for name, headers, other in (("a", a, b), ("b", b, a), ("a2", a, b)):
        path = f"/api/v1/savingsaccounts?clientId={made[name]}"
        assert (await call(client, "GET", path, headers))[1]["totalFilteredRecords"] == 1
        assert (await call(client, "GET", path, other))[1]["totalFilteredRecords"] == 0
    tenants = {
        (e.topic, e.payload.get("clientId")): e.tenant
        for e in bus.recent
        if e.topic in ("clients.created", "savings.created")
    }
    assert tenants[("clients.created", made["b"])] == "tenant-b"
    assert tenants[("savings.created", made["b"])] == "tenant-b"
    assert tenants[("savings.created", made["a"])] == "tenant-a"


async def graphql(client: TestClient, headers: Headers, query: str) -> dict[str, Any]:
    resp = await client.post("/graphql", json={"query": query}, headers=headers)
    body = await resp.json()
    assert resp.status == 200 and "errors" not in body, body
    return dict(body["data"])


async def test_graphql_rows_stay_in_their_tenant(server: TestClient) -> None:
    client = server
    a, b = await tenant_headers(client)
    ids = await seed_tenant_a(client, a)
    cid, lid, sid = ids["client"], ids["loan"], ids["savings"]
    data = await graphql(
        client,
        b,
        f'{{ client(id: "{cid}") {{ id }} loan(id: "{lid}") {{ id }} '
        f'savingsAccount(id: "{sid}") {{ id }} clients {{ id }} }}',
    )
    assert data == {"client": None, "loan": None, "savingsAccount": None, "clients": []}

    # a mutation in B writes in B
    made = await graphql(
        client, b, 'mutation { createClient(input: {firstname: "Bo", lastname: "B"}) { id } }'
    )
    bid = made["createClient"]["id"]
    assert (await graphql(client, a, f'{{ client(id: "{bid}") {{ id }} }}'))["client"] is None

    # nested loaders filter too: rows of A pointing at B's client (which the API would never
    # write) stay out of B's `loans` and `savingsAccounts`
    from loans.models import Loan
    from savings.models import SavingsAccount

    await Loan.in_tenant("tenant-a").filter(id=lid).update(client_id=int(bid))
    await SavingsAccount.in_tenant("tenant-a").filter(id=sid).update(client_id=int(bid))
    nested = await graphql(client, b, "{ clients { id loans { id } savingsAccounts { id } } }")
    assert nested["clients"] == [{"id": bid, "loans": [], "savingsAccounts": []}]
    seen = await graphql(client, a, "{ clients { id loans { id } savingsAccounts { id } } }")
    assert seen["clients"] == [{"id": str(cid), "loans": [], "savingsAccounts": []}]


async def test_batches_and_jobs_stay_in_their_tenant(server: TestClient) -> None:
    client = server
    a, b = await tenant_headers(client)
    ids = await seed_tenant_a(client, a)
    cid = ids["client"]
    items = [
        {"requestId": 1, "method": "GET", "relativeUrl": f"clients/{cid}"},
        {
            "requestId": 2,
            "method": "PUT",
            "relativeUrl": f"clients/{cid}",
            "body": {"firstname": "Mallory"},
        },
        {"requestId": 3, "method": "DELETE", "relativeUrl": f"clients/{cid}"},
        {
            "requestId": 4,
            "method": "POST",
            "relativeUrl": "clients",
            "body": {"firstname": "Bo", "lastname": "Batch", "savingsProductId": 1},
        },
    ]
    # a synchronous batch in B
    status, answers = await call(client, "POST", "/api/v1/batches", b, items)
    assert status == 200, answers
    assert [r["statusCode"] for r in answers] == [404, 404, 404, 201]
    made_in_b = json.loads(answers[3]["body"])
    assert (await call(client, "GET", f"/api/v1/clients/{made_in_b['clientId']}", a))[0] == 404

    # the same items as an async batch (a job: items run by the worker, as sub-requests)
    resp = await client.post(
        "/api/v1/batches", json=items, headers={**b, "Prefer": "respond-async"}
    )
    assert resp.status == 202, await resp.text()
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    view = await wait_for(client, b, job_id, finished)
    assert view["tenant"] == "tenant-b"
    status, listing = await call(client, "GET", f"/api/v1/jobs/{job_id}/items", b)
    assert status == 200, listing
    assert [i["statusCode"] for i in listing["pageItems"]] == [404, 404, 404, 201]
    # the job is B's: A cannot even see it
    assert (await call(client, "GET", f"/api/v1/jobs/{job_id}", a))[0] == 404

    status, mine = await call(client, "GET", f"/api/v1/clients/{cid}", a)
    assert status == 200 and mine["firstname"] == "Ada"
    status, listing = await call(client, "GET", "/api/v1/clients", b)
    assert listing["totalFilteredRecords"] == 2  # the sync and the async batch's clients
    # their clients.created events carried B: the savings plugin opened both accounts in B
    await client.app[BUS].join()
    for headers, count in ((b, 2), (a, 1)):
        status, accounts = await call(client, "GET", "/api/v1/savingsaccounts", headers)
        assert status == 200 and accounts["totalFilteredRecords"] == count, accounts


class Enqueued(Middleware):
    """Records the tenant option of every message the broker enqueues (a Dramatiq hook)."""

    def __init__(self) -> None:
        self.tenants: list[str | None] = []

    def after_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        self.tenants.append(message.options.get("tenant"))


async def test_broker_messages_carry_the_jobs_tenant(client: TestClient) -> None:
    service = client.app[JOBS]
    assert service.broker is not None
    seen = Enqueued()
    service.broker.add_middleware(seen)
    _, b = await tenant_headers(client)
    items = [
        {"requestId": i, "method": "POST", "relativeUrl": "clients", "body": {"fullname": f"E{i}"}}
        for i in range(3)
    ]
    resp = await client.post(
        "/api/v1/batches", json=items, headers={**b, "Prefer": "respond-async"}
    )
    assert resp.status == 202
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    view = await wait_for(client, b, job_id, finished)
    assert view["state"] == "completed", view
    assert seen.tenants and set(seen.tenants) == {"tenant-b"}


@pytest.mark.redis
async def test_broker_messages_on_redis_carry_the_tenant(
    make_client: MakeClient, redis_url: str
) -> None:
    """On a real broker the message itself holds the tenant (this server only enqueues: with a
    broker URL, `plughost worker` processes consume)."""
    import redis.asyncio as aioredis

    queue = f"tenants-{uuid.uuid4().hex[:8]}"
    client = await make_client(broker_url=redis_url, jobs_queue=queue)
    _, b = await tenant_headers(client)
    items = [{"requestId": 1, "method": "GET", "relativeUrl": "clients"}]
    resp = await client.post(
        "/api/v1/batches", json=items, headers={**b, "Prefer": "respond-async"}
    )
    assert resp.status == 202, await resp.text()
    connection = aioredis.from_url(redis_url)
    try:
        stored = await connection.hvals(f"dramatiq:{queue}.msgs")
        assert stored, "no message was enqueued"
        assert {json.loads(m)["options"].get("tenant") for m in stored} == {"tenant-b"}
    finally:
        await connection.delete(f"dramatiq:{queue}", f"dramatiq:{queue}.msgs")
        await connection.aclose()


async def test_every_orm_query_of_a_scoped_model_is_filtered(server: TestClient) -> None:
    """The plugin contract itself: in tenant B's context, each way Tortoise reaches a row of A
    finds nothing and changes nothing."""
    from clients.models import Client
    from loans.models import Loan
    from tortoise.exceptions import DoesNotExist

    from host.context import context_for, reset_context, use_context

    client = server
    a, _ = await tenant_headers(client)
    ids = await seed_tenant_a(client, a)
    cid, lid = ids["client"], ids["loan"]
    token = use_context(context_for("tenant-b"))
    try:
        with pytest.raises(DoesNotExist):
            await Client.get(id=cid)
        assert await Client.get_or_none(id=cid) is None
        assert not await Client.exists(id=cid)
        assert await Client.filter(id=cid).count() == 0
        assert await Client.all().values_list("id", flat=True) == []
        assert await Client.filter(id=cid).update(firstname="Mallory") == 0
        assert await Client.filter(id=cid).delete() == 0
        assert await Client.in_bulk([cid]) == {}
        assert await Client.first() is None
        assert await Loan.filter(client_id=cid).prefetch_related("client") == []
        made, created = await Client.get_or_create(
            external_id="ext-a", defaults={"display_name": "B's own", "office_id": 1}
        )
        assert created and made.tenant == "tenant-b"  # A's ext-a is not B's
        # a row of B pointing at A's client: following the foreign key finds nothing either
        await Loan.all_tenants().filter(id=lid).update(tenant="tenant-b")
        loan = await Loan.get(id=lid)
        assert await loan.client is None
        await loan.fetch_related("client")
        assert loan.client is None
    finally:
        reset_context(token)
    status, mine = await call(client, "GET", f"/api/v1/clients/{cid}", a)
    assert status == 200 and mine["firstname"] == "Ada"


async def test_no_tenant_in_context_is_refused_not_answered_across_tenants(
    client: TestClient,
) -> None:
    """Outside a request (a CLI command, a start-up hook) a scoped model must be told which rows."""
    from clients.models import Client

    from host.data.tenancy import TenantRequired

    a, b = await tenant_headers(client)
    for headers in (a, b):
        status, _ = await call(
            client, "POST", "/api/v1/clients", headers, {"firstname": "X", "lastname": "Y"}
        )
        assert status == 201
    with pytest.raises(TenantRequired):
        await Client.all()
    with pytest.raises(TenantRequired):
        await Client.create(display_name="nowhere", office_id=1)
    assert await Client.in_tenant("tenant-a").count() == 1
    assert await Client.all_tenants().count() == 2
    made = await Client.create(display_name="named", office_id=1, tenant="tenant-b")
    assert made.tenant == "tenant-b"
