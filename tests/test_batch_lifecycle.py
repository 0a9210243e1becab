"""Lifecycle commands (clients, loans, savings) in batches with references, and their refusals."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from aiohttp.test_utils import TestClient

from tests.test_batch_fineract import auth, body, post_batch

TODAY = dt.date.today()


def item(request_id: int, url: str, payload: Any = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"requestId": request_id, "method": "POST", "relativeUrl": url, **extra}
    if payload is not None:
        out["body"] = json.dumps(payload)
    return out


def day(days_ago: int) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


async def test_client_to_repaid_loan_in_one_batch(client: TestClient) -> None:
    """create client → apply → approve → disburse → repay in full, each referring to the last."""
    headers = await auth(client)
    items = [
        item(1, "v1/clients", {"firstname": "Ada", "lastname": "L", "submittedOnDate": day(30)}),
        item(2, "v1/clients/$.clientId?command=activate", {"activationDate": day(20)}, reference=1),
        item(
            3,
            "v1/loans",
            {
                "clientId": "$.clientId",
                "productId": 1,
                "principal": 1200,
                "numberOfRepayments": 3,
                "interestRatePerPeriod": 0,
                "submittedOnDate": day(10),
            },
            reference=2,
        ),
        item(4, "v1/loans/$.loanId?command=approve", {"approvedOnDate": day(9)}, reference=3),
        item(
            5, "v1/loans/$.loanId?command=disburse", {"actualDisbursementDate": day(8)}, reference=4
        ),
        item(
            6,
            "v1/loans/$.loanId/transactions?command=repayment",
            {"transactionDate": day(1), "transactionAmount": 1200},
            reference=5,
        ),
        {
            "requestId": 7,
            "method": "GET",
            "relativeUrl": "v1/loans/$.loanId?associations=all",
            "reference": 5,
        },
    ]
    answer = await post_batch(client, headers, items, enclosing=False)
    assert [a["statusCode"] for a in answer] == [201, 200, 201, 200, 200, 200, 200], answer
    loan = body(answer[6])
    assert loan["status"]["code"] == "loanStatusType.closed.obligations.met"
    assert loan["summary"]["totalOutstanding"] == 0
    assert [p["principalDue"] for p in loan["repaymentSchedule"]["periods"]] == [400, 400, 400]
    assert body(answer[4])["subResourceId"] == loan["transactions"][0]["id"]


async def test_wrong_transitions_answer_fineract_codes(client: TestClient) -> None:
    headers = await auth(client)
    items = [
        item(
            1,
            "clients",
            {"firstname": "Bo", "lastname": "B", "active": True, "activationDate": day(5)},
        ),
        item(2, "clients/$.clientId?command=activate", {"activationDate": day(1)}, reference=1),
        item(
            3,
            "loans",
            {"clientId": "$.clientId", "productId": 1, "submittedOnDate": day(3)},
            reference=1,
        ),
        item(4, "loans/$.loanId?command=disburse", {"actualDisbursementDate": day(1)}, reference=3),
        item(
            5,
            "loans/$.loanId/transactions?command=repayment",
            {"transactionDate": day(1), "transactionAmount": 5},
            reference=3,
        ),
        item(6, "loans/$.loanId?command=approve", {"approvedOnDate": day(4)}, reference=3),
        item(
            7,
            "loans/$.loanId?command=reject",
            {"rejectedOnDate": day(1)},
            dependsOn=[6],
            reference=3,
        ),
        item(8, "loans/$.loanId?command=undoApproval", dependsOn=[7], reference=3),
        item(
            9,
            "loans/$.loanId?command=reject",
            {"rejectedOnDate": day(1)},
            dependsOn=[8],
            reference=3,
        ),
        item(10, "clients/$.clientId?command=close", {"closureDate": day(0)}, reference=1),
        item(
            11,
            "clients/$.clientId?command=close",
            {"closureDate": day(0)},
            dependsOn=[10],
            reference=1,
        ),
    ]
    answer = await post_batch(client, headers, items, enclosing=False)
    status = {a["requestId"]: a["statusCode"] for a in answer}
    code = {
        a["requestId"]: body(a)["userMessageGlobalisationCode"]
        for a in answer
        if a["statusCode"] >= 400
    }
    assert status[2] == 409 and code[2] == "error.msg.clients.already.active"
    assert status[4] == 409
    assert code[4] == "error.msg.loan.disbursal.account.is.not.approve.not.disbursed.state"
    assert code[5] == "error.msg.loan.repayment.or.waiver.account.is.not.active"
    # approving before the submittal date breaks Fineract's date rule (422, its code)
    assert status[6] == 422
    assert body(answer[5])["errors"][0]["userMessageGlobalisationCode"] == (
        "error.msg.loan.approval.cannot.be.before.submittal.date"
    )
    assert status[7] == 424  # its parent failed
    assert [status[10], status[11]] == [200, 409]
    assert code[11] == "error.msg.client.close.is.already.closed"


async def test_savings_lifecycle_and_insufficient_balance(client: TestClient) -> None:
    headers = await auth(client)
    deposit = {"transactionDate": day(0), "transactionAmount": 5}
    items = [
        item(1, "clients", {"firstname": "Cy", "lastname": "C"}),
        item(2, "savingsaccounts", {"clientId": "$.clientId", "productId": 1}, reference=1),
        item(3, "savingsaccounts/$.savingsId/transactions?command=deposit", deposit, reference=2),
        item(4, "savingsaccounts/$.savingsId?command=activate", {}, reference=2),
        item(5, "savingsaccounts/$.savingsId?command=close", reference=2),
    ]
    answer = await post_batch(client, headers, items, enclosing=False)
    assert [a["statusCode"] for a in answer] == [201, 201, 409, 409, 400], answer
    assert [body(a)["userMessageGlobalisationCode"] for a in answer[2:]] == [
        "validation.msg.savingsaccount.transaction.invalid.account.is.not.active",
        "validation.msg.savingsaccount.activate.not.in.approved.state",
        "error.msg.command.unsupported",
    ]
    savings = f"savingsaccounts/{body(answer[1])['savingsId']}"
    amount = {"transactionDate": day(0), "transactionAmount": "1,000.50", "locale": "en"}
    items = [
        item(1, f"{savings}?command=approve", {"approvedOnDate": day(0)}),
        item(2, f"{savings}?command=activate", {"activatedOnDate": day(0)}, dependsOn=[1]),
        item(3, f"{savings}/transactions?command=deposit", amount, dependsOn=[2]),
        item(
            4,
            f"{savings}/transactions?command=withdrawal",
            {**amount, "transactionAmount": 2000},
            dependsOn=[3],
        ),
    ]
    answer = await post_batch(client, headers, items, enclosing=False)
    assert [a["statusCode"] for a in answer] == [200, 200, 200, 409], answer
    assert body(answer[2])["changes"]["accountBalance"] == 1000.5
    problem = body(answer[3])
    assert problem["userMessageGlobalisationCode"] == (
        "error.msg.savingsaccount.transaction.insufficient.account.balance"
    )
    assert problem["errors"][0]["parameterName"] == "transactionAmount"
