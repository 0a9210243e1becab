"""Loan lifecycle, Fineract style: commands, repayments, the schedule and transactions.

`POST /loans/{id}?command=approve|undoApproval|reject|disburse` and
`POST /loans/{id}/transactions?command=repayment` form a small state machine:

    submitted ─approve→ approved ─disburse→ active ─repayments→ closed (or overpaid)
        ↑   └─reject→ rejected        │
        └──────undoApproval───────────┘

A command from another state is refused with Fineract's error code (409 here; Fineract answers
400 for these); dates follow Fineract's rules (not in the future, not before the previous step),
refused as 422 with its codes. An unknown command is a 400 `error.msg.command.unsupported`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from aiohttp import web
from mifos import (
    DateArray,
    MifosBody,
    MifosFieldError,
    Number,
    Transition,
    check_date,
    command_body,
    command_of,
    command_parameter,
    date_array,
    decimal_number,
    field_problem,
    path_id,
)
from pydantic import BaseModel, Field

from host import Answer, ApiRequest, Problem, get_or_404

from .api import READ, STATUS, TAGS, WRITE, LoanEnum, LoanResource, LoanV1, loan_v1, v1
from .models import Loan, LoanStatus, LoanTransaction, LoanTransactionType
from .schedule import schedule

__all__ = ("LoanDetail", "LoanTransactionV1", "loan_schedule", "loan_summary", "transaction_v1")

NumberIn = int | float | str | None
S = LoanStatus


class Approval(MifosBody):
    approvedOnDate: str | list[int] | None = None
    approvedLoanAmount: NumberIn = None
    expectedDisbursementDate: str | list[int] | None = None
    note: str | None = Field(default=None, max_length=500)


class UndoApproval(MifosBody):
    note: str | None = Field(default=None, max_length=500)


class Rejection(MifosBody):
    rejectedOnDate: str | list[int] | None = None
    note: str | None = Field(default=None, max_length=500)


class Disbursement(MifosBody):
    actualDisbursementDate: str | list[int] | None = None
    transactionAmount: NumberIn = None
    paymentTypeId: int | None = None
    note: str | None = Field(default=None, max_length=500)


class Repayment(MifosBody):
    transactionDate: str | list[int] | None = None
    transactionAmount: NumberIn = None
    paymentTypeId: int | None = None
    note: str | None = Field(default=None, max_length=500)


LOAN_COMMANDS = {
    "approve": Transition(
        frozenset({S.SUBMITTED}),
        S.APPROVED,
        "error.msg.loan.approve.account.is.not.submitted.and.pending.state",
        "Loan Account Approval is not allowed. Loan Account is not in submitted and pending "
        "approval state.",
    ),
    "undoApproval": Transition(
        frozenset({S.APPROVED}),
        S.SUBMITTED,
        "error.msg.loan.undo.approval.account.is.not.approved",
        "Loan Account Undo Approval is not allowed. Loan Account is not in approved state.",
    ),
    "reject": Transition(
        frozenset({S.SUBMITTED}),
        S.REJECTED,
        "error.msg.loan.reject.account.is.not.submitted.pending.approval.state",
        "Only the loan applications with status 'Submitted and pending approval' are allowed "
        "to be rejected.",
    ),
    "disburse": Transition(
        frozenset({S.APPROVED}),
        S.ACTIVE,
        "error.msg.loan.disbursal.account.is.not.approve.not.disbursed.state",
        "Loan Disbursal is not allowed. Loan Account is not in approved and not disbursed state.",
    ),
}
REPAYMENT = Transition(
    frozenset({S.ACTIVE}),
    S.ACTIVE,
    "error.msg.loan.repayment.or.waiver.account.is.not.active",
    "Loan Repayment (or its types) or Waiver is not allowed. Loan Account is not active.",
)
TRANSACTION_TYPES = {
    LoanTransactionType.DISBURSEMENT: ("disbursement", "Disbursement"),
    LoanTransactionType.REPAYMENT: ("repayment", "Repayment"),
}


# answers ----------------------------------------------------------------------------------------
class LoanTransactionKind(LoanEnum):
    disbursement: bool
    repayment: bool


class LoanTransactionV1(BaseModel):
    id: int
    loanId: int
    type: LoanTransactionKind
    date: DateArray
    amount: Number
    note: str | None


class LoanSummary(BaseModel):
    principalDisbursed: Number
    totalExpectedRepayment: Number
    totalRepayment: Number
    totalOutstanding: Number


class SchedulePeriod(BaseModel):
    period: int
    dueDate: DateArray
    principalDue: Number
    interestDue: Number
    totalDueForPeriod: Number


class RepaymentSchedule(BaseModel):
    totalPrincipalExpected: Number
    totalInterestCharged: Number
    totalRepaymentExpected: Number
    periods: list[SchedulePeriod]


class LoanDetail(LoanV1):
    """`GET /loans/{id}`: the loan, its summary, and the associations asked for."""

    summary: LoanSummary
    repaymentSchedule: RepaymentSchedule | None = None
    transactions: list[LoanTransactionV1] | None = None


async def _loan(request: ApiRequest) -> Loan:
    loan_id = path_id(request.match_info, what="Loan")
    loan = await get_or_404(Loan, "client", id=loan_id)
    return loan


def _status(loan: Loan) -> dict[str, Any]:
    code, value = STATUS.get(loan.status, ("unknown", "Unknown"))
    return {"id": loan.status, "code": f"loanStatusType.{code}", "value": value}


def _answer(loan: Loan, changes: dict[str, Any], **extra: Any) -> web.Response:
    return web.json_response(
        {
            "officeId": loan.client.office_id,
            "clientId": loan.client_id,
            "loanId": loan.id,
            "resourceId": extra.pop("resourceId", loan.id),
            **extra,
            "changes": changes,
        }
    )


def _amount(field: str, value: Decimal | None, *, limit: Decimal | None = None) -> list[Any]:
    if value is None:
        return []
    if value <= 0:
        return [MifosFieldError(field, "must be greater than zero", value=str(value))]
    if limit is not None and value > limit:
        return [
            MifosFieldError(
                field,
                f"cannot be greater than {decimal_number(limit)}",
                code=f"validation.msg.loan.{field}.amount.can't.be.greater.than.loan.amount",
                value=str(value),
            )
        ]
    return []


@v1.post(
    "/loans/{id}",
    roles=WRITE,
    tags=TAGS,
    response=LoanResource,
    openapi=command_parameter(LOAN_COMMANDS),
)
async def loan_command(request: ApiRequest) -> web.Response:
    """Run a loan command: `?command=approve|undoApproval|reject|disburse`."""
    command = command_of(request.query, LOAN_COMMANDS)
    loan = await _loan(request)
    target = LOAN_COMMANDS[command].check(loan.status)
    changes: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    errors: list[MifosFieldError] = []
    if command == "approve":
        approval = command_body(Approval, request.body)
        read = approval.read(
            approvedOnDate="date", approvedLoanAmount="decimal", expectedDisbursementDate="date"
        )
        when = read["approvedOnDate"]
        errors = check_date(
            "approvedOnDate",
            when,
            code_prefix="loan.approval",
            not_before=(loan.submitted_on_date, "submittal"),
        ) + _amount("approvedLoanAmount", read["approvedLoanAmount"], limit=loan.principal)
        loan.approved_on_date = when
        loan.approved_principal = read["approvedLoanAmount"] or loan.principal
        if read["expectedDisbursementDate"] is not None:
            loan.expected_disbursement_date = read["expectedDisbursementDate"]
        changes = {"approvedOnDate": date_array(when), "note": approval.note}
    elif command == "undoApproval":
        command_body(UndoApproval, request.body)
        loan.approved_on_date = loan.approved_principal = None
    elif command == "reject":
        rejection = command_body(Rejection, request.body)
        when = rejection.read(rejectedOnDate="date")["rejectedOnDate"]
        errors = check_date(
            "rejectedOnDate",
            when,
            code_prefix="loan.reject",
            not_before=(loan.submitted_on_date, "submittal"),
        )
        loan.rejected_on_date = when
        changes = {"rejectedOnDate": date_array(when)}
    else:
        disbursement = command_body(Disbursement, request.body)
        read = disbursement.read(actualDisbursementDate="date", transactionAmount="decimal")
        when = read["actualDisbursementDate"]
        approved = loan.approved_principal or loan.principal
        errors = check_date(
            "actualDisbursementDate",
            when,
            code_prefix="loan.disbursal",
            not_before=(loan.approved_on_date, "approval"),
        ) + _amount("transactionAmount", read["transactionAmount"], limit=approved)
        if not errors:
            assert when is not None
            loan.disbursed_on_date = when
            loan.principal = read["transactionAmount"] or approved
            tx = await LoanTransaction.create(
                loan_id=loan.id,
                type=LoanTransactionType.DISBURSEMENT,
                amount=loan.principal,
                date=when,
                note=disbursement.note,
            )
            extra["subResourceId"] = tx.id
        changes = {"actualDisbursementDate": date_array(when)}
    if errors:
        raise field_problem(errors)
    loan.status = target
    await loan.save()
    await request.publish(f"loans.{command}", {"loanId": loan.id, "clientId": loan.client_id})
    changes["status"] = _status(loan)
    return _answer(loan, changes, **extra)


@v1.post(
    "/loans/{id}/transactions",
    roles=WRITE,
    tags=TAGS,
    response=LoanResource,
    openapi=command_parameter({"repayment"}),
)
async def loan_transaction(request: ApiRequest) -> web.Response:
    """A loan transaction: `?command=repayment` (transactionDate, transactionAmount)."""
    command_of(request.query, {"repayment"})
    loan = await _loan(request)
    REPAYMENT.check(loan.status)
    repayment = command_body(Repayment, request.body)
    read = repayment.read(transactionDate="date", transactionAmount="decimal")
    when, amount = read["transactionDate"], read["transactionAmount"]
    errors = check_date(
        "transactionDate",
        when,
        code_prefix="loan.transaction",
        not_before=(loan.disbursed_on_date, "disbursement"),
    )
    if amount is None:
        errors.append(MifosFieldError("transactionAmount", "is required"))
    errors += _amount("transactionAmount", amount)
    if errors:
        raise field_problem(errors)
    assert when is not None and amount is not None
    tx = await LoanTransaction.create(
        loan_id=loan.id,
        type=LoanTransactionType.REPAYMENT,
        amount=amount,
        date=when,
        note=repayment.note,
    )
    summary = loan_summary(loan, await loan.transactions.all())
    if summary["totalOutstanding"] <= 0:
        loan.status = S.CLOSED if summary["totalOutstanding"] == 0 else S.OVERPAID
        loan.closed_on_date = when
        await loan.save()
    await request.publish("loans.repayment", {"loanId": loan.id, "transactionId": tx.id})
    changes = {
        "transactionDate": date_array(when),
        "transactionAmount": decimal_number(amount),
        "status": _status(loan),
    }
    return _answer(loan, changes, resourceId=tx.id)


@v1.get("/loans/{id}/transactions/{txid}", roles=READ, tags=TAGS, response=LoanTransactionV1)
async def read_transaction(request: ApiRequest) -> Answer:
    """One transaction of a loan (a disbursement or a repayment)."""
    loan_id = path_id(request.match_info, what="Loan")
    tx_id = path_id(request.match_info, "txid", what="Loan transaction")
    tx = await LoanTransaction.get_or_none(id=tx_id, loan_id=loan_id)
    if tx is None:
        raise Problem(404, f"Loan transaction with identifier {tx_id} does not exist")
    return transaction_v1(tx)


def transaction_v1(tx: LoanTransaction) -> dict[str, Any]:
    code, value = TRANSACTION_TYPES.get(tx.type, ("unknown", "Unknown"))
    return {
        "id": tx.id,
        "loanId": tx.loan_id,
        "type": {
            "id": tx.type,
            "code": f"loanTransactionType.{code}",
            "value": value,
            "disbursement": tx.type == LoanTransactionType.DISBURSEMENT,
            "repayment": tx.type == LoanTransactionType.REPAYMENT,
        },
        "date": date_array(tx.date),
        "amount": decimal_number(tx.amount),
        "note": tx.note,
    }


def _periods(loan: Loan) -> list[Any]:
    start = loan.disbursed_on_date or loan.expected_disbursement_date or loan.submitted_on_date
    return schedule(
        Decimal(loan.principal),
        Decimal(loan.interest_rate_per_period),
        loan.number_of_repayments,
        loan.repayment_every,
        loan.repayment_frequency_type,
        start or dt.date.today(),
        equal_installments=loan.amortization_type != 0,
        flat=loan.interest_type == 1,
    )


def loan_summary(loan: Loan, transactions: list[LoanTransaction]) -> dict[str, Any]:
    """Disbursed, repaid and outstanding amounts (Decimals)."""
    disbursed = sum(
        (t.amount for t in transactions if t.type == LoanTransactionType.DISBURSEMENT),
        Decimal(0),
    )
    repaid = sum(
        (t.amount for t in transactions if t.type == LoanTransactionType.REPAYMENT), Decimal(0)
    )
    expected = sum((p.total for p in _periods(loan)), Decimal(0)) if disbursed else Decimal(0)
    return {
        "principalDisbursed": disbursed,
        "totalExpectedRepayment": expected,
        "totalRepayment": repaid,
        "totalOutstanding": expected - repaid,
    }


def loan_schedule(loan: Loan) -> dict[str, Any]:
    """Fineract's `repaymentSchedule` association: periods with due dates and amounts."""
    periods = _periods(loan)
    return {
        "totalPrincipalExpected": decimal_number(sum((p.principal for p in periods), Decimal(0))),
        "totalInterestCharged": decimal_number(sum((p.interest for p in periods), Decimal(0))),
        "totalRepaymentExpected": decimal_number(sum((p.total for p in periods), Decimal(0))),
        "periods": [
            {
                "period": p.number,
                "dueDate": date_array(p.due),
                "principalDue": decimal_number(p.principal),
                "interestDue": decimal_number(p.interest),
                "totalDueForPeriod": decimal_number(p.total),
            }
            for p in periods
        ],
    }


ASSOCIATIONS = frozenset({"repaymentSchedule", "transactions", "all"})


@v1.get(
    "/loans/{id}",
    roles=READ,
    tags=TAGS,
    response=LoanDetail,
    openapi={
        "parameters": [
            {
                "name": "associations",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "Comma-separated: repaymentSchedule, transactions, all",
            }
        ]
    },
)
async def read_loan(request: ApiRequest) -> Answer:
    """One loan in Fineract's representation; `?associations=repaymentSchedule,transactions`
    (or `all`) adds the schedule and the transactions, as Fineract does."""
    loan_id = path_id(request.match_info, what="Loan")
    wanted = {a.strip() for a in request.query.get("associations", "").split(",") if a.strip()}
    unknown = sorted(wanted - ASSOCIATIONS)
    if unknown:
        raise Problem(
            400,
            f"associations {', '.join(unknown)} not supported; use repaymentSchedule, "
            "transactions or all",
            userMessageGlobalisationCode="error.msg.parameter.unsupported",
        )
    loan = await get_or_404(Loan, "client", "product", id=loan_id)
    answer = loan_v1(loan)
    transactions = await loan.transactions.all()
    answer["summary"] = {k: decimal_number(v) for k, v in loan_summary(loan, transactions).items()}
    if wanted & {"repaymentSchedule", "all"}:
        answer["repaymentSchedule"] = loan_schedule(loan)
    if wanted & {"transactions", "all"}:
        answer["transactions"] = [transaction_v1(t) for t in transactions]
    return answer
