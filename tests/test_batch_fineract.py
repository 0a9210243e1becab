"""Apache Fineract's own batch integration tests, ported to HTTP calls against plughost.

Sources (apache/fineract, integration-tests/src/test/java/org/apache/fineract/integrationtests/):
`BatchApiTest.java`, `BatchRequestsIntegrationTest.java`, and `common/BatchHelper.java` for the
request bodies. Each test below is named after the Java test it ports. The item bodies are
built exactly as BatchHelper builds them (same strings, same relativeUrls with `v1/`, same
requestIds), including its quirks: `createClientRequest` writes the externalId without quotes
(Fineract reads bodies leniently) and the lending tests send the same requestId several times.

Deliberate differences, asserted as plughost's behaviour and marked `# Fineract:` where they occur:
- a create answers 201 (the seeds' batch sample); Fineract answers 200;
- a path no plugin serves is 404; Fineract answers 501 for anything outside its command list;
- after an enclosingTransaction rollback every item is listed, the cause among them (Fineract
  lists only the failing item); a duplicate externalId is 409 (Fineract: 403 data integrity);
- an unknown command is 400 `error.msg.command.unsupported` (Fineract's batch: 501);
- collateral, loan products, groups and datatables are not part of the demo plugins: the ported
  tests use loan product 1 and pass no `clientCollateralId` (BatchHelper's own null branch).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import ADMIN_PASSWORD

BATCH = "/api/v1/batches"
PRODUCT_ID = 1  # the demo loan product (Fineract's tests create one with LoanProductTestBuilder)


# BatchHelper, as written in Java ---------------------------------------------------------------
def _java_double() -> str:
    return str(10000 * random.random())


def fmt(day: dt.date) -> str:
    """Java's DateTimeFormatter.ofPattern("dd MMMM yyyy") in the default (English) locale."""
    return day.strftime("%d %B %Y")


def create_client_request(request_id: int, external_id: str) -> dict[str, Any]:
    ext = external_id or "ext" + _java_double() + _java_double()
    body = (
        '{ "officeId": 1, "legalFormId":1, "firstname": "Petra", "lastname": "Yton",'
        '"externalId": ' + ext + ',  "dateFormat": "dd MMMM yyyy", "locale": "en",'
        '"active": false, "submittedOnDate": "04 March 2009"}'
    )
    return {"requestId": request_id, "relativeUrl": "v1/clients", "method": "POST", "body": body}


def create_active_client_request(request_id: int, external_id: str) -> dict[str, Any]:
    body = (
        '{ "officeId": 1, "legalFormId":1, "firstname": "Petra", "lastname": "Yton",'
        '"externalId": "' + external_id + '",  "dateFormat": "dd MMMM yyyy", "locale": "en",'
        '"active": true, "activationDate": "04 March 2010", "submittedOnDate": "04 March 2010"}'
    )
    return {"requestId": request_id, "relativeUrl": "v1/clients", "method": "POST", "body": body}


def update_client_request(request_id: int, reference: int) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "relativeUrl": "v1/clients/$.clientId",
        "method": "PUT",
        "reference": reference,
        "body": '{"firstname": "TestFirstName", "lastname": "TestLastName"}',
    }


def apply_loan_request(
    request_id: int,
    reference: int | None,
    product_id: int,
    date: dt.date | None = None,
    amount: str = "10,000.00",
) -> dict[str, Any]:
    day = fmt(date or dt.date.today() - dt.timedelta(days=10))
    body = (
        '{"dateFormat": "dd MMMM yyyy", "locale": "en_GB", "clientId": "$.clientId",'
        '"productId": ' + str(product_id) + ', "principal": "' + amount + '", '
        '"loanTermFrequency": 10,"loanTermFrequencyType": 2, "loanType": "individual", '
        '"numberOfRepayments": 10,"repaymentEvery": 1, "repaymentFrequencyType": 2, '
        '"interestRatePerPeriod": 10,"amortizationType": 1, "interestType": 0, '
        '"interestCalculationPeriodType": 1,"transactionProcessingStrategyCode": '
        '"mifos-standard-strategy", "expectedDisbursementDate": "' + day + '",'
        '"submittedOnDate": "' + day + '"}'
    )
    item: dict[str, Any] = {
        "requestId": request_id,
        "relativeUrl": "v1/loans",
        "method": "POST",
        "body": body,
    }
    if reference is not None:  # Gson leaves a null reference out
        item["reference"] = reference
    return item


def apply_loan_request_with_client_id(
    request_id: int, client_id: int, product_id: int, external_id: str | None = None
) -> dict[str, Any]:
    # String.format in Java; the same text here
    body = (
        '{"dateFormat": "dd MMMM yyyy", "locale": "en_GB", "clientId": CLIENT, '
        '"productId": PRODUCT, "principal": "10,000.00", "loanTermFrequency": 10,'
        '"loanTermFrequencyType": 2, "loanType": "individual", "numberOfRepayments": 10,'
        '"repaymentEvery": 1, "repaymentFrequencyType": 2, "interestRatePerPeriod": 10,'
        '"amortizationType": 1, "interestType": 0, "interestCalculationPeriodType": 1,'
        '"transactionProcessingStrategyCode": "mifos-standard-strategy", '
        '"expectedDisbursementDate": "10 Jun 2013","submittedOnDate": "10 Jun 2013", '
        '"externalId": "EXTERNAL"}'
    )
    body = body.replace("CLIENT", str(client_id)).replace("PRODUCT", str(product_id))
    body = body.replace("EXTERNAL", external_id or _uuid())
    return {"requestId": request_id, "relativeUrl": "v1/loans", "method": "POST", "body": body}


def apply_savings_request(request_id: int, reference: int, product_id: int) -> dict[str, Any]:
    body = (
        '{"clientId": "$.clientId", "productId": ' + str(product_id) + ","
        '"locale": "en", "dateFormat": "dd MMMM yyyy", "submittedOnDate": "01 March 2011"}'
    )
    return {
        "requestId": request_id,
        "relativeUrl": "v1/savingsaccounts",
        "method": "POST",
        "reference": reference,
        "body": body,
    }


def activate_client_request(request_id: int, reference: int) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "relativeUrl": "v1/clients/$.clientId?command=activate",
        "reference": reference,
        "method": "POST",
        "body": '{"locale": "en", "dateFormat": "dd MMMM yyyy", "activationDate": "01 March 2011"}',
    }


def approve_loan_request(
    request_id: int, reference: int, command: str = "approve"
) -> dict[str, Any]:
    day = fmt(dt.date.today() - dt.timedelta(days=10))
    note = ', "expectedDisbursementDate": "' + day + '"' if command == "approve" else ""
    return {
        "requestId": request_id,
        "relativeUrl": f"v1/loans/$.loanId?command={command}",
        "reference": reference,
        "method": "POST",
        "body": '{"locale": "en", "dateFormat": "dd MMMM yyyy", "approvedOnDate": "'
        + day
        + '","note": "Loan approval note"'
        + note
        + "}",
    }


def approve_loan_wrong_request(request_id: int, reference: int) -> dict[str, Any]:
    return approve_loan_request(request_id, reference, command="approveX")


def disburse_loan_request(request_id: int, reference: int) -> dict[str, Any]:
    day = fmt(dt.date.today() - dt.timedelta(days=8))
    return {
        "requestId": request_id,
        "relativeUrl": "v1/loans/$.loanId?command=disburse",
        "reference": reference,
        "method": "POST",
        "body": '{"locale": "en", "dateFormat": "dd MMMM yyyy", "actualDisbursementDate": "'
        + day
        + '"}',
    }


def repay_loan_request(request_id: int, reference: int, amount: str) -> dict[str, Any]:
    """createTransactionRequest(..., "repayment", amount, today)."""
    return {
        "requestId": request_id,
        "reference": reference,
        "relativeUrl": "v1/loans/$.loanId/transactions?command=repayment",
        "method": "POST",
        "body": '{"locale": "en", "dateFormat": "dd MMMM yyyy", "transactionDate": "'
        + fmt(dt.date.today())
        + '",  "transactionAmount": '
        + amount
        + ', "note":null}',
    }


def get_loan_by_id_request(request_id: int, reference: int, query: str | None) -> dict[str, Any]:
    url = "v1/loans/$.loanId" + (f"?{query}" if query else "")
    return {
        "requestId": request_id,
        "relativeUrl": url,
        "method": "GET",
        "reference": reference,
        "body": "{}",
    }


def get_transaction_by_id_request(request_id: int, reference: int) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "relativeUrl": "v1/loans/$.loanId/transactions/$.subResourceId",
        "method": "GET",
        "reference": reference,
        "body": "{}",
    }


def savings_command_request(
    request_id: int, reference: int, amount: float, command: str
) -> dict[str, Any]:
    """depositSavingAccount / withdrawSavingAccount (amount as Java's String.format of a float)."""
    json_body = (
        '{"locale": "en", "dateFormat": "dd MMMM yyyy", "transactionDate": "'
        + fmt(dt.date.today())
        + '", "transactionAmount": "'
        + str(float(amount))
        + '", "paymentTypeId": "1"}'
    )
    return {
        "requestId": request_id,
        "reference": reference,
        "relativeUrl": f"v1/savingsaccounts/$.id/transactions?command={command}",
        "method": "POST",
        "body": json_body,
    }


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


# HTTP -----------------------------------------------------------------------------------------
async def auth(client: TestClient) -> dict[str, str]:
    """As Fineract's tests log in: HTTP Basic on every request (no token exchange)."""
    credential = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {credential}"}


async def post_batch(
    client: TestClient, headers: dict[str, str], items: list[dict[str, Any]], enclosing: bool
) -> list[dict[str, Any]]:
    """BatchHelper.postBatchRequests{With,Without}EnclosingTransaction: 200 and the array."""
    flag = "true" if enclosing else "false"
    resp = await client.post(
        f"{BATCH}?tenantIdentifier=default&enclosingTransaction={flag}",  # BatchHelper's URL
        data=json.dumps(items),  # Gson's toJson of the BatchRequest list
        headers={**headers, "Content-Type": "application/json"},
    )
    assert resp.status == 200, await resp.text()
    answer: list[dict[str, Any]] = await resp.json()
    return answer


def body(item: dict[str, Any]) -> Any:
    return json.loads(item["body"])


async def create_client(client: TestClient, headers: dict[str, str]) -> int:
    """ClientHelper.createClient: an active client, created over REST."""
    resp = await client.post(
        "/api/v1/clients",
        json={
            "officeId": 1,
            "legalFormId": 1,
            "firstname": "Client",
            "lastname": "Helper",
            "dateFormat": "dd MMMM yyyy",
            "locale": "en",
            "active": True,
            "activationDate": "04 March 2011",
        },
        headers=headers,
    )
    assert resp.status == 201, await resp.text()
    return int((await resp.json())["clientId"])


# BatchApiTest ---------------------------------------------------------------------------------
async def test_should_return_status_not_implemented_unknown_command(client: TestClient) -> None:
    headers = await auth(client)
    item = {"requestId": 4711, "relativeUrl": "/nirvana", "method": "POST"}
    answer = await post_batch(client, headers, [item], enclosing=False)
    # Fineract: 501 (outside its fixed command list); here a path no plugin serves is a 404
    assert [a["statusCode"] for a in answer] == [404]
    assert body(answer[0])["userMessageGlobalisationCode"] == "error.msg.resource.not.found"


async def test_should_return_ok_status_for_create_client_command(client: TestClient) -> None:
    headers = await auth(client)
    answer = await post_batch(client, headers, [create_client_request(4712, "")], False)
    assert [a["statusCode"] for a in answer] == [201]  # Fineract: 200


async def test_should_roll_back_all_transactions_on_failure(client: TestClient) -> None:
    headers = await auth(client)
    items = [
        create_client_request(4713, "TestExtId11"),
        create_client_request(4714, "TestExtId12"),
        # the same externalId as the first: the cause of the failure
        create_client_request(4715, "TestExtId11"),
    ]
    answer = await post_batch(client, headers, items, enclosing=True)
    for external_id in ("TestExtId11", "TestExtId12"):  # verifyClientNotCreatedOnServer
        resp = await client.get(f"/api/v1/clients?externalId={external_id}", headers=headers)
        assert (await resp.json())["totalFilteredRecords"] == 0
    # Fineract: one entry, 403 (data integrity). Here every item is listed, none with a 2xx,
    # and the cause keeps its own status: 409 for the duplicate externalId
    assert [a["requestId"] for a in answer] == [4713, 4714, 4715]
    assert [a["statusCode"] for a in answer] == [424, 424, 409]  # rolled back, the cause
    cause = body(answer[2])
    assert answer[2]["statusCode"] == 409 and cause["errors"][0]["parameterName"] == "externalId"


async def test_should_reflect_changes_on_client_update(client: TestClient) -> None:
    headers = await auth(client)
    items = [create_client_request(4716, ""), update_client_request(4717, 4716)]
    answer = await post_batch(client, headers, items, enclosing=False)
    changes = body(answer[1])["changes"]
    assert changes["firstname"] == "TestFirstName"
    assert changes["lastname"] == "TestLastName"


# BatchRequestsIntegrationTest -----------------------------------------------------------------
def _loans_for_selected_clients(client_ids: list[int]) -> list[dict[str, Any]]:
    """Loan applications for a few of the clients, all under one requestId, as Fineract's test
    builds them: `applyLoanRequest(selClientsCount, null, ...)` with `$.clientId` replaced."""
    selected = random.randint(3, len(client_ids) + 2)
    items = []
    for _ in range(selected):
        item = apply_loan_request(selected, None, PRODUCT_ID)
        chosen = client_ids[random.randrange(max(1, len(client_ids) - 1))]
        item["body"] = item["body"].replace("$.clientId", str(chosen))
        items.append(item)
    return items


async def test_should_return_ok_status_for_loans_applied_to_selected_clients(
    client: TestClient,
) -> None:
    headers = await auth(client)
    client_ids = [await create_client(client, headers) for _ in range(random.randint(4, 6))]
    items = _loans_for_selected_clients(client_ids)
    assert len({i["requestId"] for i in items}) == 1 < len(items)  # one requestId, repeated
    answer = await post_batch(client, headers, items, enclosing=False)
    assert [a["statusCode"] for a in answer] == [201] * len(items), answer  # Fineract: 200


async def test_should_return_ok_status_with_idempotency_support(client: TestClient) -> None:
    headers = await auth(client)
    client_ids = [await create_client(client, headers) for _ in range(random.randint(4, 6))]
    items = _loans_for_selected_clients(client_ids)
    for item in items:
        item["headers"] = [{"name": "Idempotency-Key", "value": _uuid()}]

    def cached(answer: dict[str, Any]) -> str | None:
        values = [h["value"] for h in answer["headers"] if h["name"] == "x-served-from-cache"]
        return values[0] if values else None

    first = await post_batch(client, headers, items, enclosing=False)
    for answer, item in zip(first, items, strict=True):
        assert cached(answer) is None, "First can not be cached!"
        assert answer["statusCode"] == 201  # Fineract: 200
        echoed = [h for h in answer["headers"] if h["name"] == "Idempotency-Key"]
        assert echoed == item["headers"]  # the item's own header, echoed as Fineract does
    second = await post_batch(client, headers, items, enclosing=False)
    for answer in second:
        assert cached(answer) == "true", "Not cached by idempotency key!"
        assert answer["statusCode"] == 201
    assert [body(a)["loanId"] for a in second] == [body(a)["loanId"] for a in first]


# BatchApiTest: the lending lifecycle ------------------------------------------------------------
async def test_should_return_ok_status_for_apply_loan_command(client: TestClient) -> None:
    headers = await auth(client)
    items = [
        create_client_request(4718, ""),
        activate_client_request(4719, 4718),
        apply_loan_request(4720, 4719, PRODUCT_ID),
    ]
    answer = await post_batch(client, headers, items, enclosing=False)
    assert answer[1]["statusCode"] == 200
    assert [a["statusCode"] for a in answer] == [201, 200, 201]  # Fineract: 200 for the creates
    assert body(answer[2])["clientId"] == body(answer[0])["clientId"]


async def test_should_return_ok_status_for_apply_savings_command(client: TestClient) -> None:
    headers = await auth(client)
    items = [
        create_client_request(4720, ""),
        activate_client_request(4721, 4720),
        apply_savings_request(4722, 4721, 1),
    ]
    answer = await post_batch(client, headers, items, enclosing=False)
    assert answer[1]["statusCode"] == 200
    assert answer[2]["statusCode"] == 201  # Fineract: 200


async def test_should_return_ok_status_for_batch_repayment(client: TestClient) -> None:
    headers = await auth(client)
    items = [
        create_client_request(4730, ""),
        activate_client_request(4731, 4730),
        apply_loan_request(4732, 4731, PRODUCT_ID),
        approve_loan_request(4733, 4732),
        disburse_loan_request(4734, 4733),
        repay_loan_request(4735, 4734, "500"),
        repay_loan_request(4736, 4734, "500"),
    ]
    answer = await post_batch(client, headers, items, enclosing=False)
    assert answer[5]["statusCode"] == 200, answer[5]
    assert answer[6]["statusCode"] == 200, answer[6]
    loan_id = body(answer[2])["loanId"]
    resp = await client.get(f"/api/v1/loans/{loan_id}?associations=transactions", headers=headers)
    loan = await resp.json()
    assert [t["type"]["value"] for t in loan["transactions"]] == [
        "Disbursement",
        "Repayment",
        "Repayment",
    ]
    assert loan["summary"]["totalRepayment"] == 1000 and loan["status"]["active"] is True


async def test_partial_fail_test_for_batch_request(client: TestClient) -> None:
    headers = await auth(client)
    items = [
        create_active_client_request(4730, ""),
        apply_loan_request(4731, 4730, PRODUCT_ID),
        approve_loan_wrong_request(4732, 4731),
        get_loan_by_id_request(4733, 4731, None),
    ]
    answer = await post_batch(client, headers, items, enclosing=False)
    # Fineract: 501 (no strategy for command=approveX); here the endpoint answers 400
    assert answer[2]["statusCode"] == 400
    problem = body(answer[2])
    assert problem["userMessageGlobalisationCode"] == "error.msg.command.unsupported"
    assert problem["errors"][0]["parameterName"] == "command"
    assert problem["errors"][0]["value"] == "approveX"
    assert answer[3]["statusCode"] == 200  # the other items are not harmed


async def test_should_return_ok_status_on_successful_client_activation(client: TestClient) -> None:
    headers = await auth(client)
    items = [create_client_request(4726, ""), activate_client_request(4727, 4726)]
    answer = await post_batch(client, headers, items, enclosing=False)
    assert answer[0]["statusCode"] == 201  # Fineract: 200
    assert answer[1]["statusCode"] == 200
    assert body(answer[1])["changes"]["status"]["value"] == "Active"


async def test_should_return_ok_status_on_successful_loan_approval_and_disburse(
    client: TestClient,
) -> None:
    headers = await auth(client)
    items = [
        create_client_request(4730, ""),
        activate_client_request(4731, 4730),
        apply_loan_request(4732, 4731, PRODUCT_ID),
        approve_loan_request(4733, 4732),
        disburse_loan_request(4734, 4733),
    ]
    answer = await post_batch(client, headers, items, enclosing=False)
    assert answer[3]["statusCode"] == 200 and answer[4]["statusCode"] == 200


async def test_should_return_ok_status_on_successful_loan_approval_and_disburse_with_transaction(
    client: TestClient,
) -> None:
    headers = await auth(client)
    items = [
        create_active_client_request(4740, ""),
        apply_loan_request(4742, 4740, PRODUCT_ID),
        approve_loan_request(4743, 4742),
        disburse_loan_request(4744, 4743),
    ]
    answer = await post_batch(client, headers, items, enclosing=True)
    assert [a["statusCode"] for a in answer] == [201, 201, 200, 200]  # Fineract: all 200


async def test_should_return_ok_status_on_successful_disbursement_and_get_transaction(
    client: TestClient,
) -> None:
    headers = await auth(client)
    client_id = await create_client(client, headers)
    items = [
        apply_loan_request_with_client_id(6730, client_id, PRODUCT_ID),
        approve_loan_request(6731, 6730),
        disburse_loan_request(6732, 6731),
        get_transaction_by_id_request(6733, 6732),
    ]
    answer = await post_batch(client, headers, items, enclosing=False)
    assert [a["statusCode"] for a in answer] == [201, 200, 200, 200], answer  # Fineract: 200s
    assert body(answer[3])["type"]["disbursement"] is True
    assert body(answer[3])["amount"] == 10000


async def test_should_return_ok_status_on_successful_create_client_create_approve_and_get_loan(
    client: TestClient,
) -> None:
    headers = await auth(client)
    items = [
        create_active_client_request(4730, ""),
        apply_loan_request(4731, 4730, PRODUCT_ID, amount="10,000.00"),
        approve_loan_request(4732, 4731),
        get_loan_by_id_request(4733, 4731, None),
    ]
    answer = await post_batch(client, headers, items, enclosing=True)
    assert [a["statusCode"] for a in answer] == [201, 201, 200, 200]  # Fineract: all 200
    loan = body(answer[3])
    assert loan["id"] == body(answer[1])["loanId"]
    assert loan["status"]["code"] == "loanStatusType.approved"
    assert loan["status"]["value"] == "Approved"


async def test_should_return_ok_status_on_successful_create_approve_and_get_loan(
    client: TestClient,
) -> None:
    headers = await auth(client)
    client_id = await create_client(client, headers)
    items = [
        apply_loan_request_with_client_id(5730, client_id, PRODUCT_ID),
        approve_loan_request(5731, 5730),
        get_loan_by_id_request(5732, 5730, None),
        get_loan_by_id_request(5733, 5730, "associations=repaymentSchedule,transactions"),
    ]
    answer = await post_batch(client, headers, items, enclosing=True)
    assert [a["statusCode"] for a in answer] == [201, 200, 200, 200]  # Fineract: all 200
    loan = body(answer[2])
    assert loan["id"] == body(answer[0])["loanId"]
    assert loan["status"]["code"] == "loanStatusType.approved"
    assert "repaymentSchedule" not in answer[2]["body"]
    assert "repaymentSchedule" in answer[3]["body"]
    schedule = body(answer[3])["repaymentSchedule"]
    assert len(schedule["periods"]) == 10 and schedule["totalPrincipalExpected"] == 10000


async def test_should_return_ok_status_on_modifying_saving_account(client: TestClient) -> None:
    """Ported without hold/release amounts (not in the demo plugins): get, deposit, withdraw."""
    headers = await auth(client)
    client_id = await create_client(client, headers)
    resp = await client.post(
        "/api/v1/savingsaccounts", json={"clientId": client_id, "productId": 1}, headers=headers
    )
    savings_id = (await resp.json())["savingsId"]
    for command in ("approve", "activate"):
        resp = await client.post(
            f"/api/v1/savingsaccounts/{savings_id}?command={command}",
            json={command + "dOnDate": dt.date.today().isoformat()},  # approvedOnDate...
            headers=headers,
        )
        assert resp.status == 200, await resp.text()
    get = {
        "requestId": 1,
        "relativeUrl": f"v1/savingsaccounts/{savings_id}?chargeStatus=all",
        "method": "GET",
        "body": "{}",
    }
    first = await post_batch(
        client, headers, [get, savings_command_request(2, 1, 100, "deposit")], enclosing=True
    )
    assert first[1]["statusCode"] == 200
    second = await post_batch(
        client, headers, [get, savings_command_request(3, 1, 80, "withdrawal")], enclosing=True
    )
    assert second[1]["statusCode"] == 200
    assert body(second[1])["changes"]["accountBalance"] == 20


# logging in as Fineract clients do -----------------------------------------------------------
async def test_basic_login_and_fineract_tenant_headers(client: TestClient) -> None:
    headers = await auth(client)
    resp = await client.get("/api/v1/me?tenantIdentifier=t2", headers=headers)
    assert resp.status == 200 and (await resp.json())["tenant"] == "t2"
    resp = await client.get("/api/v1/me", headers={**headers, "Fineract-Platform-TenantId": "t1"})
    me = await resp.json()
    assert me["tenant"] == "t1" and me["subject"] == "admin" and me["kind"] == "user"
    resp = await client.get(
        "/api/v1/me", headers={**headers, "X-Tenant": "x", "Fineract-Platform-TenantId": "t1"}
    )
    assert (await resp.json())["tenant"] == "x"  # plughost's own header wins


async def test_bad_basic_credentials_are_401_then_throttled_like_every_login(
    client: TestClient,
) -> None:
    """Basic failures count in the login throttle's table (PLUGHOST_LOGIN_MAX_FAILURES, 5):
    the same count as the API login's, so alternating the two gains an attacker nothing."""
    wrong = base64.b64encode(b"admin:not-the-password").decode()
    for _ in range(4):
        resp = await client.get("/api/v1/me", headers={"Authorization": f"Basic {wrong}"})
        assert resp.status == 401
        assert (await resp.json())["userMessageGlobalisationCode"] == "error.msg.not.authenticated"
    resp = await client.post(
        "/api/v1/authentication", json={"username": "admin", "password": "not-the-password"}
    )
    assert resp.status == 401  # the fifth failure, through the token login
    right = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    for credential in (wrong, right):  # even the right password waits
        resp = await client.get("/api/v1/me", headers={"Authorization": f"Basic {credential}"})
        assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
        assert (await resp.json())["type"] == "/problems/too-many-logins"
    resp = await client.post(
        "/api/v1/authentication", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert resp.status == 429
    resp = await client.get("/api/v1/me", headers={"Authorization": "Basic not*base64"})
    assert resp.status == 401
