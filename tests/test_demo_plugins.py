"""The demo plugins (clients, loans, savings) through HTTP: Mifos requests in, Mifos answers out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from tortoise.backends.base.executor import EXECUTOR_CACHE

from host.auth.users import add_user
from host.bus import BUS
from host.context import context_for, reset_context, use_context
from tests.conftest import login

Headers = dict[str, str]

# the first request body of the Mifos batch sample (seed 001/002), line break included
PETRA = (
    '{ "officeId": 1, "firstname": "Petra", "lastname": "Yton", "externalId": "76YYP7",  '
    '"dateFormat": "dd MMMM yyyy", "locale": "en", "active": true, "activationDate": "04 March 2009",'
    '\n    "submittedOnDate": "04 March 2009", "savingsProductId" : 1 } '
)


async def post(client: TestClient, path: str, body: Any, headers: Headers) -> tuple[int, Any]:
    resp = await client.post(path, json=body, headers=headers)
    return resp.status, await resp.json()


async def get(client: TestClient, path: str, headers: Headers) -> tuple[int, Any]:
    resp = await client.get(path, headers=headers)
    return resp.status, await resp.json()


async def new_client(client: TestClient, headers: Headers, **fields: Any) -> int:
    body = {"officeId": 1, "firstname": "Ada", "lastname": "Lovelace", **fields}
    status, answer = await post(client, "/api/v1/clients", body, headers)
    assert status == 201, answer
    return int(answer["clientId"])


def events(client: TestClient, topic: str) -> list[dict[str, Any]]:
    return [e.payload for e in client.app[BUS].recent if e.topic == topic]


# the Mifos batch sample's bodies, one by one -----------------------------------------------------
async def test_seed_bodies_are_accepted_and_answered_like_mifos(
    client: TestClient, admin_headers: Headers
) -> None:
    resp = await client.post(
        "/api/v1/clients",
        data=PETRA.encode(),
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert resp.status == 201
    assert await resp.json() == {"officeId": 1, "clientId": 1, "resourceId": 1}

    status, body = await post(
        client, "/api/v1/loans", {"clientId": 1, "productId": 1}, admin_headers
    )
    assert status == 201
    assert body == {"officeId": 1, "clientId": 1, "loanId": 1, "resourceId": 1}

    status, body = await post(
        client, "/api/v1/clients", {"officeId": 1, "fullname": "Pocahontas"}, admin_headers
    )
    assert (status, body) == (201, {"officeId": 1, "clientId": 2, "resourceId": 2})

    # batch references arrive as text ("$.clientId" resolved to "2"): Fineract reads them as ids
    status, body = await post(
        client, "/api/v1/savingsaccount", {"clientId": "2", "productId": 1}, admin_headers
    )
    assert status == 201
    assert body["officeId"] == 1 and body["clientId"] == 2
    assert body["resourceId"] == body["savingsId"]

    status, petra = await get(client, "/api/v1/clients/1", admin_headers)
    assert status == 200
    assert petra["displayName"] == "Petra Yton" and petra["externalId"] == "76YYP7"
    assert petra["officeName"] == "Head Office" and petra["fullname"] is None
    assert petra["activationDate"] == [2009, 3, 4]
    assert petra["timeline"]["submittedOnDate"] == [2009, 3, 4]
    assert petra["active"] is True and petra["status"]["value"] == "Active"
    assert events(client, "clients.created")[0] == {
        "clientId": 1,
        "officeId": 1,
        "savingsProductId": 1,
    }


# clients -----------------------------------------------------------------------------------------
async def test_client_create_read_list_update_delete(
    client: TestClient, admin_headers: Headers
) -> None:
    ids = [await new_client(client, admin_headers, externalId=f"ext-{i}") for i in range(3)]

    status, listing = await get(client, "/api/v1/clients?offset=1&limit=1", admin_headers)
    assert status == 200
    assert listing["totalFilteredRecords"] == 3
    assert [c["id"] for c in listing["pageItems"]] == [ids[1]]
    _, found = await get(client, "/api/v1/clients?externalId=ext-2", admin_headers)
    assert [c["id"] for c in found["pageItems"]] == [ids[2]]

    resp = await client.put(
        f"/api/v1/clients/{ids[0]}",
        json={
            "firstname": "Augusta",
            "activationDate": "10-12-2015",
            "submittedOnDate": "01-12-2015",
            "active": True,
            "dateFormat": "dd-MM-yyyy",
            "locale": "en",
        },
        headers=admin_headers,
    )
    assert resp.status == 200
    answer = await resp.json()
    assert answer["clientId"] == answer["resourceId"] == ids[0] and answer["officeId"] == 1
    assert answer["changes"]["firstname"] == "Augusta"
    assert answer["changes"]["activationDate"] == "2015-12-10"
    _, updated = await get(client, f"/api/v1/clients/{ids[0]}", admin_headers)
    assert updated["displayName"] == "Augusta Lovelace"
    assert updated["activationDate"] == [2015, 12, 10] and updated["active"] is True

    resp = await client.delete(f"/api/v1/clients/{ids[1]}", headers=admin_headers)
    assert resp.status == 200
    assert (await resp.json())["clientId"] == ids[1]
    status, problem = await get(client, f"/api/v1/clients/{ids[1]}", admin_headers)
    assert status == 404 and problem["detail"] == f"Client with identifier {ids[1]} does not exist"
    _, listing = await get(client, "/api/v1/clients", admin_headers)
    assert listing["totalFilteredRecords"] == 2
    assert [e["clientId"] for e in events(client, "clients.deleted")] == [ids[1]]


async def test_v2_shows_a_nested_name_and_iso_dates(
    client: TestClient, admin_headers: Headers
) -> None:
    cid = await new_client(
        client,
        admin_headers,
        active=True,
        activationDate="2020-01-31",
    )
    _, one = await get(client, f"/api/v1/clients/{cid}", admin_headers)
    _, two = await get(client, f"/api/v2/clients/{cid}", admin_headers)
    assert one["firstname"] == "Ada" and one["activationDate"] == [2020, 1, 31]
    assert "name" not in one
    assert two["id"] == cid and two["officeId"] == 1
    assert two["name"] == {
        "first": "Ada",
        "middle": None,
        "last": "Lovelace",
        "full": None,
        "display": "Ada Lovelace",
    }
    assert two["activationDate"] == "2020-01-31" and "firstname" not in two
    _, listing = await get(client, "/api/v2/clients", admin_headers)
    assert listing["pageItems"][0]["name"]["display"] == "Ada Lovelace"
    status, _ = await get(client, "/api/v2/clients/999", admin_headers)
    assert status == 404


BAD_DATES: list[tuple[dict[str, str], str, str]] = [
    (
        {"activationDate": "2009/03/04", "dateFormat": "dd MMMM yyyy"},
        "activationDate",
        "does not match dateFormat 'dd MMMM yyyy'",
    ),
    (
        {"activationDate": "31 February 2009", "dateFormat": "dd MMMM yyyy", "locale": "en"},
        "activationDate",
        "is not a valid date",
    ),
    (
        {"activationDate": "04 March 2009", "dateFormat": "dd MMMM yyyy", "locale": "tlh"},
        "locale",
        "locale 'tlh' is not supported",
    ),
    (
        {"activationDate": "04 March 2009", "dateFormat": "dd MMMM HH:mm"},
        "dateFormat",
        "pattern letter 'HH'",
    ),
    ({"submittedOnDate": "04.03.2009"}, "submittedOnDate", "is not a yyyy-MM-dd date"),
]


async def test_bad_dates_are_422_naming_the_field(
    client: TestClient, admin_headers: Headers
) -> None:
    for fields, field, message in BAD_DATES:
        body = {"firstname": "Ada", "lastname": "L", "active": True, **fields}
        status, problem = await post(client, "/api/v1/clients", body, admin_headers)
        assert status == 422, fields
        assert problem["type"] == "/problems/validation-error"
        assert problem["errors"][0]["field"] == field, fields
        assert message in problem["errors"][0]["message"] and field in problem["detail"]
    _, listing = await get(client, "/api/v1/clients", admin_headers)
    assert listing["totalFilteredRecords"] == 0
    assert events(client, "clients.created") == []


async def test_other_locales_and_formats(client: TestClient, admin_headers: Headers) -> None:
    cid = await new_client(
        client,
        admin_headers,
        active=True,
        activationDate="4 mars 2009",
        submittedOnDate="1 févr. 2009",
        dateFormat="d MMMM yyyy",
        locale="fr_FR",
    )
    _, body = await get(client, f"/api/v1/clients/{cid}", admin_headers)
    assert body["activationDate"] == [2009, 3, 4]
    assert body["timeline"]["submittedOnDate"] == [2009, 2, 1]


CLIENT_RULES: list[tuple[dict[str, Any], str, str]] = [
    ({"firstname": "Ada"}, "lastname", "is required"),
    ({"firstname": "  ", "lastname": "L"}, "firstname", "at least 1 character"),
    ({"fullname": "Acme Ltd", "firstname": "Ada"}, "fullname", "cannot be given together"),
    ({"firstname": "Ada", "lastname": "L", "active": True}, "activationDate", "required"),
    ({"firstname": "Ada", "lastname": "L", "nickname": "A"}, "nickname", "Unrecognized field"),
    ({"firstname": "Ada", "lastname": "L", "officeId": "one"}, "officeId", "integer"),
]


async def test_client_field_rules(client: TestClient, admin_headers: Headers) -> None:
    for body, field, message in CLIENT_RULES:
        status, problem = await post(client, "/api/v1/clients", body, admin_headers)
        assert status == 422, problem
        assert problem["errors"][0]["field"] == field, body
        assert message in problem["errors"][0]["message"], body


async def test_unknown_office_duplicate_external_id_and_bad_paging(
    client: TestClient, admin_headers: Headers
) -> None:
    status, problem = await post(
        client, "/api/v1/clients", {"fullname": "X", "officeId": 7}, admin_headers
    )
    assert status == 404 and "Office with identifier 7" in problem["detail"]
    await new_client(client, admin_headers, externalId="dup")
    status, problem = await post(
        client, "/api/v1/clients", {"fullname": "Y", "externalId": "dup"}, admin_headers
    )
    assert status == 409 and problem["errors"][0]["field"] == "externalId"
    status, problem = await get(client, "/api/v1/clients?limit=lots", admin_headers)
    assert status == 400 and "limit" in problem["detail"]
    status, problem = await get(client, "/api/v1/clients?limit=0", admin_headers)
    assert status == 400 and "limit" in problem["detail"]
    resp = await client.put("/api/v1/clients/1", json={"locale": "en"}, headers=admin_headers)
    assert resp.status == 400 and "changes nothing" in (await resp.json())["detail"]
    resp = await client.put("/api/v1/clients/1", json={"active": True}, headers=admin_headers)
    assert resp.status == 422
    assert (await resp.json())["errors"][0]["field"] == "activationDate"
    resp = await client.put("/api/v1/clients/1", json={"officeId": None}, headers=admin_headers)
    assert resp.status == 422 and "officeId: cannot be null" in (await resp.json())["detail"]
    resp = await client.put("/api/v1/clients/1", json={"officeId": 5}, headers=admin_headers)
    assert resp.status == 404


# roles -------------------------------------------------------------------------------------------
async def test_roles_401_and_403(client: TestClient, admin_headers: Headers) -> None:
    await add_user("reader", "reader-password-1", ["clients:read", "loans:read"])
    await add_user("teller", "teller-password-1", ["loans:write"])
    reader = {"Authorization": f"Bearer {await login(client, 'reader', 'reader-password-1')}"}
    teller = {"Authorization": f"Bearer {await login(client, 'teller', 'teller-password-1')}"}
    cid = await new_client(client, admin_headers)

    status, problem = await get(client, f"/api/v1/clients/{cid}", {})
    assert status == 401 and problem["status"] == 401
    assert (await get(client, f"/api/v1/clients/{cid}", reader))[0] == 200
    assert (await get(client, f"/api/v2/clients/{cid}", reader))[0] == 200
    status, problem = await post(client, "/api/v1/clients", {"fullname": "Z"}, reader)
    assert status == 403 and "clients:write" in problem["detail"]
    assert (await client.delete(f"/api/v1/clients/{cid}", headers=reader)).status == 403
    assert (await get(client, "/api/v1/savingsaccounts", reader))[0] == 403

    status, _ = await post(client, "/api/v1/loans", {"clientId": cid, "productId": 1}, teller)
    assert status == 201
    assert (await get(client, f"/api/v1/clients/{cid}", teller))[0] == 403
    status, _ = await post(
        client, "/api/v1/savingsaccounts", {"clientId": cid, "productId": 1}, teller
    )
    assert status == 403
    assert (await get(client, f"/api/v1/loans?clientId={cid}", reader))[0] == 200


# loans -------------------------------------------------------------------------------------------
async def test_loans_for_a_client(client: TestClient, admin_headers: Headers) -> None:
    cid = await new_client(client, admin_headers)
    other = await new_client(client, admin_headers, firstname="Bea")
    status, created = await post(
        client,
        "/api/v1/loans",
        {
            "clientId": cid,
            "productId": 1,
            "principal": "12,500.50",
            "numberOfRepayments": 6,
            "submittedOnDate": "01 January 2024",
            "expectedDisbursementDate": "15 January 2024",
            "dateFormat": "dd MMMM yyyy",
            "locale": "en",
            "note": "first loan",
        },
        admin_headers,
    )
    assert status == 201
    assert created == {"officeId": 1, "clientId": cid, "loanId": 1, "resourceId": 1}
    await post(client, "/api/v1/loans", {"clientId": other, "productId": 1}, admin_headers)

    status, loan = await get(client, "/api/v1/loans/1", admin_headers)
    assert status == 200
    assert loan["clientId"] == cid and loan["clientName"] == "Ada Lovelace"
    assert loan["principal"] == 12500.5 and loan["numberOfRepayments"] == 6
    assert loan["loanProductId"] == 1 and loan["repaymentEvery"] == 1  # from product 1
    assert loan["timeline"] == {
        "submittedOnDate": [2024, 1, 1],
        "expectedDisbursementDate": [2024, 1, 15],
    }
    assert loan["status"]["id"] == 100 and loan["note"] == "first loan"

    _, mine = await get(client, f"/api/v1/loans?clientId={cid}", admin_headers)
    assert [item["id"] for item in mine["pageItems"]] == [1]
    _, every = await get(client, "/api/v1/loans", admin_headers)
    assert every["totalFilteredRecords"] == 2
    assert events(client, "loans.created")[0] == {"loanId": 1, "clientId": cid, "productId": 1}

    resp = await client.delete("/api/v1/loans/1", headers=admin_headers)
    assert resp.status == 200
    assert await resp.json() == {"officeId": 1, "clientId": cid, "loanId": 1, "resourceId": 1}
    assert (await get(client, "/api/v1/loans/1", admin_headers))[0] == 404
    assert (await client.delete("/api/v1/loans/1", headers=admin_headers)).status == 404


async def test_demo_data_products_and_offices(client: TestClient, admin_headers: Headers) -> None:
    status, products = await get(client, "/api/v1/loanproducts", admin_headers)
    assert status == 200 and [p["id"] for p in products] == [1]
    _, product = await get(client, "/api/v1/loanproducts/1", admin_headers)
    assert product["principal"] == 10000 and product["currency"] == {"code": "USD"}
    assert (await get(client, "/api/v1/loanproducts/9", admin_headers))[0] == 404
    _, savings = await get(client, "/api/v1/savingsproducts", admin_headers)
    assert [p["id"] for p in savings] == [1]
    assert (await get(client, "/api/v1/savingsproducts/1", admin_headers))[0] == 200
    _, offices = await get(client, "/api/v1/offices", admin_headers)
    assert offices[0]["id"] == 1 and offices[0]["name"] == "Head Office"


BAD_LOANS: list[tuple[dict[str, Any], int, str]] = [
    ({"clientId": 99, "productId": 1}, 404, "Client with identifier 99 does not exist"),
    ({"clientId": 1, "productId": 9}, 404, "Loan product with identifier 9 does not exist"),
    ({"clientId": 1, "productId": 1, "principal": 5}, 422, "principal"),
    ({"clientId": 1, "productId": 1, "principal": "ten"}, 422, "principal"),
    ({"clientId": 1, "productId": 1, "collateral": []}, 422, "Unrecognized field"),
    ({"clientId": 1, "productId": 1, "loanTermFrequency": 2}, 422, "less than the 12"),
    ({"clientId": 1, "productId": 1, "loanTermFrequencyType": 0}, 422, "repaymentFrequencyType"),
    ({"clientId": 1, "productId": 1, "amortizationType": 5}, 422, "amortizationType"),
    (
        {
            "clientId": 1,
            "productId": 1,
            "submittedOnDate": "2024-02-01",
            "expectedDisbursementDate": "2024-01-01",
        },
        422,
        "expectedDisbursementDate",
    ),
    ({"productId": 1}, 422, "clientId"),
]


async def test_bad_loan_applications(client: TestClient, admin_headers: Headers) -> None:
    await new_client(client, admin_headers)
    for body, status, needle in BAD_LOANS:
        got, problem = await post(client, "/api/v1/loans", body, admin_headers)
        assert got == status, problem
        assert needle in problem["detail"], body
    _, listing = await get(client, "/api/v1/loans", admin_headers)
    assert listing["totalFilteredRecords"] == 0


# savings -----------------------------------------------------------------------------------------
async def test_savings_accounts_for_a_client(client: TestClient, admin_headers: Headers) -> None:
    cid = await new_client(client, admin_headers)
    status, created = await post(
        client,
        "/api/v1/savingsaccounts",
        {"clientId": cid, "productId": 1, "nominalAnnualInterestRate": "3,5", "locale": "de"},
        admin_headers,
    )
    assert status == 201
    assert created == {"officeId": 1, "clientId": cid, "savingsId": 1, "resourceId": 1}
    status, account = await get(client, "/api/v1/savingsaccounts/1", admin_headers)
    assert status == 200
    assert account["clientId"] == cid and account["savingsProductId"] == 1
    assert account["nominalAnnualInterestRate"] == 3.5
    assert account["summary"]["accountBalance"] == 0
    assert account["status"]["submittedAndPendingApproval"] is True
    _, listing = await get(client, f"/api/v1/savingsaccounts?clientId={cid}", admin_headers)
    assert listing["totalFilteredRecords"] == 1
    status, problem = await post(
        client, "/api/v1/savingsaccounts", {"clientId": 404, "productId": 1}, admin_headers
    )
    assert status == 404 and "Client with identifier 404" in problem["detail"]
    status, problem = await post(
        client, "/api/v1/savingsaccounts", {"clientId": cid, "productId": 2}, admin_headers
    )
    assert status == 404 and "Savings product with identifier 2" in problem["detail"]
    assert (await get(client, "/api/v1/savingsaccounts/77", admin_headers))[0] == 404
    assert (await get(client, "/api/v1/savingsaccounts?clientId=x", admin_headers))[0] == 400


async def test_client_created_with_savings_product_opens_one_account(
    client: TestClient, admin_headers: Headers
) -> None:
    cid = await new_client(
        client, admin_headers, savingsProductId=1, active=True, activationDate="2021-05-06"
    )
    plain = await new_client(client, admin_headers, firstname="NoSavings")
    bus = client.app[BUS]
    await bus.join()
    _, listing = await get(client, f"/api/v1/savingsaccounts?clientId={cid}", admin_headers)
    assert listing["totalFilteredRecords"] == 1
    account = listing["pageItems"][0]
    assert account["status"]["active"] is True
    assert account["timeline"]["activatedOnDate"] == [2021, 5, 6]
    _, none = await get(client, f"/api/v1/savingsaccounts?clientId={plain}", admin_headers)
    assert none["totalFilteredRecords"] == 0

    # redelivered event (in the client's tenant, as the outbox keeps it): still one account
    token = use_context(context_for("default"))
    try:
        for _ in range(2):
            await bus.publish(
                "clients.created", {"clientId": cid, "officeId": 1, "savingsProductId": 1}
            )
    finally:
        reset_context(token)
    await bus.join()
    _, listing = await get(client, f"/api/v1/savingsaccounts?clientId={cid}", admin_headers)
    assert listing["totalFilteredRecords"] == 1
    assert not bus.failures


# transactions: nothing half-saved, no event from a rolled-back change ----------------------------
async def test_refused_delete_rolls_back_and_publishes_nothing(
    client: TestClient, admin_headers: Headers
) -> None:
    cid = await new_client(client, admin_headers)
    await post(client, "/api/v1/loans", {"clientId": cid, "productId": 1}, admin_headers)
    resp = await client.delete(f"/api/v1/clients/{cid}", headers=admin_headers)
    assert resp.status == 409
    assert "has accounts" in (await resp.json())["detail"]
    assert (await get(client, f"/api/v1/clients/{cid}", admin_headers))[0] == 200
    _, loans = await get(client, f"/api/v1/loans?clientId={cid}", admin_headers)
    assert loans["totalFilteredRecords"] == 1
    await client.app[BUS].join()
    assert events(client, "clients.deleted") == []


async def test_refused_update_changes_nothing(client: TestClient, admin_headers: Headers) -> None:
    cid = await new_client(client, admin_headers, externalId="a")
    await new_client(client, admin_headers, externalId="b")
    resp = await client.put(
        f"/api/v1/clients/{cid}",
        json={"firstname": "Changed", "externalId": "b"},
        headers=admin_headers,
    )
    assert resp.status == 409
    _, body = await get(client, f"/api/v1/clients/{cid}", admin_headers)
    assert body["firstname"] == "Ada" and body["externalId"] == "a"
    assert events(client, "clients.updated") == []


# the same flow on PostgreSQL (cross-plugin foreign keys, decimals, dates) ------------------------
async def test_demo_plugins_on_postgresql(
    make_client: Callable[..., Awaitable[TestClient]], pg_url: str
) -> None:
    # Tortoise caches INSERT SQL per (connection name, table) for the whole process: after a SQLite
    # test the cached "?" placeholders would reach PostgreSQL. A server never switches dialect.
    EXECUTOR_CACHE.clear()
    pg = await make_client(db_url=pg_url)
    headers = {"Authorization": f"Bearer {await login(pg)}"}
    cid = await new_client(
        pg, headers, savingsProductId=1, active=True, activationDate="2022-02-02"
    )
    status, _ = await post(
        pg, "/api/v1/loans", {"clientId": cid, "productId": 1, "principal": 2500.75}, headers
    )
    assert status == 201
    _, loan = await get(pg, "/api/v1/loans/1", headers)
    assert loan["principal"] == 2500.75
    await pg.app[BUS].join()
    _, savings = await get(pg, f"/api/v1/savingsaccounts?clientId={cid}", headers)
    assert savings["totalFilteredRecords"] == 1
    assert (await pg.delete(f"/api/v1/clients/{cid}", headers=headers)).status == 409
