"""Savings account lifecycle, Fineract style: approve, activate, deposit, withdraw.

`POST /savingsaccounts/{id}?command=approve|activate` and
`POST /savingsaccounts/{id}/transactions?command=deposit|withdrawal`:

    submitted ─approve→ approved ─activate→ active (deposits, withdrawals)

A command from another state is refused with Fineract's error code (409 here; Fineract: 400); a
withdrawal above the balance is 409 `error.msg.savingsaccount.transaction.insufficient.account.balance`
(Fineract: 403). An unknown command is a 400 `error.msg.command.unsupported`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web
from mifos import (
    MifosBody,
    MifosFieldError,
    Transition,
    check_date,
    command_body,
    command_of,
    command_parameter,
    date_array,
    decimal_number,
    field_problem,
    path_id,
    rule_problem,
)
from pydantic import Field

from host import ApiRequest, get_or_404

from .api import STATUS, TAGS, WRITE, SavingsResource, v1
from .models import SavingsAccount, SavingsStatus, SavingsTransaction

__all__ = ("COMMANDS",)

S = SavingsStatus


class Approval(MifosBody):
    approvedOnDate: str | list[int] | None = None
    note: str | None = Field(default=None, max_length=500)


class Activation(MifosBody):
    activatedOnDate: str | list[int] | None = None


class Movement(MifosBody):
    transactionDate: str | list[int] | None = None
    transactionAmount: int | float | str | None = None
    paymentTypeId: int | None = None
    note: str | None = Field(default=None, max_length=500)


COMMANDS = {
    "approve": Transition(
        frozenset({S.SUBMITTED}),
        S.APPROVED,
        "validation.msg.savingsaccount.approval.not.in.submittedandpendingapproval.state",
        "Savings account is not in submitted and pending approval state.",
    ),
    "activate": Transition(
        frozenset({S.APPROVED}),
        S.ACTIVE,
        "validation.msg.savingsaccount.activate.not.in.approved.state",
        "Savings account is not in approved state.",
    ),
}
MOVEMENT = Transition(
    frozenset({S.ACTIVE}),
    S.ACTIVE,
    "validation.msg.savingsaccount.transaction.invalid.account.is.not.active",
    "Transaction is not allowed. Savings account is not active.",
)


async def _account(request: ApiRequest) -> SavingsAccount:
    account_id = path_id(request.match_info, what="Savings account")
    account = await get_or_404(SavingsAccount, "client", id=account_id)
    return account


def _answer(account: SavingsAccount, changes: dict[str, Any], resource: int) -> web.Response:
    code, value = STATUS.get(account.status, ("unknown", "Unknown"))
    changes["status"] = {
        "id": account.status,
        "code": f"savingsAccountStatusType.{code}",
        "value": value,
    }
    return web.json_response(
        {
            "officeId": account.client.office_id,
            "clientId": account.client_id,
            "savingsId": account.id,
            "resourceId": resource,
            "changes": changes,
        }
    )


@v1.post(
    "/savingsaccounts/{id}",
    roles=WRITE,
    tags=TAGS,
    response=SavingsResource,
    openapi=command_parameter(COMMANDS),
)
async def savings_command(request: ApiRequest) -> web.Response:
    """Run a savings account command: `?command=approve` or `activate`."""
    command = command_of(request.query, COMMANDS)
    account = await _account(request)
    target = COMMANDS[command].check(account.status)
    if command == "approve":
        when = command_body(Approval, request.body).read(approvedOnDate="date")["approvedOnDate"]
        errors = check_date(
            "approvedOnDate",
            when,
            code_prefix="savingsaccount.approval",
            not_before=(account.submitted_on_date, "submittal"),
        )
        account.approved_on_date = when
        changes = {"approvedOnDate": date_array(when)}
    else:
        body = command_body(Activation, request.body)
        when = body.read(activatedOnDate="date")["activatedOnDate"]
        errors = check_date(
            "activatedOnDate",
            when,
            code_prefix="savingsaccount.activate",
            not_before=(account.approved_on_date, "approval"),
        )
        account.activated_on_date = when
        changes = {"activatedOnDate": date_array(when)}
    if errors:
        raise field_problem(errors)
    account.status = target
    await account.save()
    await request.publish(f"savings.{command}", {"savingsId": account.id})
    return _answer(account, changes, account.id)


@v1.post(
    "/savingsaccounts/{id}/transactions",
    roles=WRITE,
    tags=TAGS,
    response=SavingsResource,
    openapi=command_parameter({"deposit", "withdrawal"}),
)
async def savings_transaction(request: ApiRequest) -> web.Response:
    """A deposit or withdrawal: `?command=deposit|withdrawal` (transactionDate, transactionAmount)."""
    command = command_of(request.query, {"deposit", "withdrawal"})
    account = await _account(request)
    MOVEMENT.check(account.status)
    body = command_body(Movement, request.body)
    read = body.read(transactionDate="date", transactionAmount="decimal")
    when, amount = read["transactionDate"], read["transactionAmount"]
    errors = check_date(
        "transactionDate",
        when,
        code_prefix="savingsaccount.transaction",
        not_before=(account.activated_on_date, "activation"),
    )
    if amount is None or amount <= 0:
        errors.append(MifosFieldError("transactionAmount", "must be greater than zero"))
    if errors:
        raise field_problem(errors)
    assert when is not None and amount is not None
    balance = Decimal(account.balance)
    if command == "withdrawal":
        if amount > balance:
            raise rule_problem(
                409,
                "error.msg.savingsaccount.transaction.insufficient.account.balance",
                "Insufficient account balance.",
                field="transactionAmount",
                value=decimal_number(amount),
            )
        balance -= amount
    else:
        balance += amount
    account.balance = balance
    await account.save()
    tx = await SavingsTransaction.create(
        account_id=account.id,
        type=SavingsTransaction.DEPOSIT if command == "deposit" else SavingsTransaction.WITHDRAWAL,
        amount=amount,
        date=when,
        running_balance=balance,
    )
    await request.publish(f"savings.{command}", {"savingsId": account.id, "transactionId": tx.id})
    changes = {
        "transactionDate": date_array(when),
        "transactionAmount": decimal_number(amount),
        "accountBalance": decimal_number(balance),
    }
    return _answer(account, changes, tx.id)
