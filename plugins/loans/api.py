"""Loans REST endpoints, Mifos/Fineract style: apply for a loan for a client, read, list by client.

A loan application takes its terms from the product unless the body gives them (the Mifos batch
sample sends only `clientId` and `productId`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from clients.models import Client
from mifos import (
    Currency,
    DateArray,
    EnumOption,
    MifosBody,
    MifosFieldError,
    Number,
    Paged,
    Resource,
    client_page,
    date_array,
    decimal_number,
    field_problem,
    list_parameters,
    path_id,
)
from pydantic import BaseModel, Field

from host import Answer, ApiRequest, Problem, Routes, get_or_404

from .models import Loan, LoanProduct, LoanStatus

__all__ = ("LoanResource", "LoanV1", "NewLoan", "loan_v1", "product_v1", "v1")

READ = ("loans:read",)
WRITE = ("loans:write",)
TAGS = ("loans",)

v1 = Routes()

NumberIn = int | float | str | None
"""An amount or rate in a request: a number, or text in the request's locale."""


class NewLoan(MifosBody):
    """POST /loans: a loan application; terms default to the product's.

    Fineract's application fields are all accepted (its clients send them all); the demo model
    stores them, but computes its schedule only from principal, rate, number and frequency.
    """

    clientId: int = Field(ge=1)
    productId: int = Field(ge=1)
    principal: NumberIn = None
    numberOfRepayments: int | None = Field(default=None, ge=1, le=1000)
    repaymentEvery: int | None = Field(default=None, ge=1, le=1000)
    repaymentFrequencyType: int | None = Field(default=None, ge=0, le=2)
    interestRatePerPeriod: NumberIn = None
    loanType: str = Field(default="individual", pattern="^(individual|group|jlg)$")
    externalId: str | None = Field(default=None, max_length=100)
    submittedOnDate: str | list[int] | None = None
    expectedDisbursementDate: str | list[int] | None = None
    note: str | None = Field(default=None, max_length=500)
    loanTermFrequency: int | None = Field(default=None, ge=1, le=100000)
    loanTermFrequencyType: int | None = Field(default=None, ge=0, le=3)
    amortizationType: int | None = Field(default=None, ge=0, le=1)
    interestType: int | None = Field(default=None, ge=0, le=1)
    interestCalculationPeriodType: int | None = Field(default=None, ge=0, le=1)
    transactionProcessingStrategyCode: str | None = Field(
        default=None, min_length=1, max_length=100, pattern="^[A-Za-z0-9._-]+$"
    )


STATUS = {
    LoanStatus.SUBMITTED: ("submitted.and.pending.approval", "Submitted and pending approval"),
    LoanStatus.APPROVED: ("approved", "Approved"),
    LoanStatus.ACTIVE: ("active", "Active"),
    LoanStatus.WITHDRAWN: ("withdrawn.by.client", "Withdrawn by applicant"),
    LoanStatus.REJECTED: ("rejected", "Rejected"),
    LoanStatus.CLOSED: ("closed.obligations.met", "Closed (obligations met)"),
    LoanStatus.OVERPAID: ("overpaid", "Overpaid"),
}
FREQUENCY = {0: "Days", 1: "Weeks", 2: "Months"}
TERM_UNITS = {0: "Days", 1: "Weeks", 2: "Months", 3: "Years"}
AMORTIZATION = {0: "Equal principal payments", 1: "Equal installments"}
INTEREST_TYPES = {0: "Declining Balance", 1: "Flat"}
INTEREST_PERIODS = {0: "Daily", 1: "Same as repayment period"}


def _enum(value: int | None, names: dict[int, str]) -> dict[str, Any] | None:
    """A Fineract enum option ({id, value}), or None when the loan has no value for it."""
    return None if value is None else {"id": value, "value": names.get(value, "Unknown")}


def _reached(**dates: dt.date | None) -> dict[str, list[int] | None]:
    """The lifecycle dates a loan has reached (Fineract leaves the others out of `timeline`)."""
    return {name: date_array(value) for name, value in dates.items() if value is not None}


class LoanResource(Resource):
    """What a loan write answers; `subResourceId` is the transaction a command made."""

    loanId: int
    subResourceId: int | None = None


class LoanStatusView(EnumOption):
    pendingApproval: bool
    waitingForDisbursal: bool
    active: bool
    closed: bool
    overpaid: bool


class LoanEnum(BaseModel):
    id: int | None = None
    code: str | None = None
    value: str


class LoanV1(BaseModel):
    """A loan in Fineract's representation (`GET /loans/{id}` adds `summary`, and the
    associations asked for: `repaymentSchedule`, `transactions`)."""

    id: int
    accountNo: str
    externalId: str | None
    status: LoanStatusView
    clientId: int
    clientName: str
    clientOfficeId: int
    loanProductId: int
    loanProductName: str
    loanType: LoanEnum
    currency: Currency
    principal: Number
    numberOfRepayments: int
    repaymentEvery: int
    repaymentFrequencyType: LoanEnum
    interestRatePerPeriod: Number
    termFrequency: int | None
    termPeriodFrequencyType: LoanEnum | None
    amortizationType: LoanEnum | None
    interestType: LoanEnum | None
    interestCalculationPeriodType: LoanEnum | None
    transactionProcessingStrategyCode: str | None
    timeline: dict[str, DateArray | None]
    approvedPrincipal: Number | None
    note: str | None


class LoanProductV1(BaseModel):
    id: int
    name: str
    shortName: str | None
    currency: Currency
    principal: Number
    minPrincipal: Number | None
    maxPrincipal: Number | None
    numberOfRepayments: int
    repaymentEvery: int
    repaymentFrequencyType: LoanEnum
    interestRatePerPeriod: Number


def loan_v1(loan: Loan) -> dict[str, Any]:
    """Fineract's loan representation; `client` and `product` must be prefetched."""
    code, value = STATUS.get(loan.status, ("unknown", "Unknown"))
    client: Client = loan.client
    product: LoanProduct = loan.product
    return {
        "id": loan.id,
        "accountNo": f"{loan.id:09d}",
        "externalId": loan.external_id,
        "status": {
            "id": loan.status,
            "code": f"loanStatusType.{code}",
            "value": value,
            "pendingApproval": loan.status == LoanStatus.SUBMITTED,
            "waitingForDisbursal": loan.status == LoanStatus.APPROVED,
            "active": loan.status == LoanStatus.ACTIVE,
            "closed": loan.status in (LoanStatus.CLOSED, LoanStatus.REJECTED),
            "overpaid": loan.status == LoanStatus.OVERPAID,
        },
        "clientId": loan.client_id,
        "clientName": client.display_name,
        "clientOfficeId": client.office_id,
        "loanProductId": loan.product_id,
        "loanProductName": product.name,
        "loanType": {"code": f"accountType.{loan.loan_type}", "value": loan.loan_type.title()},
        "currency": {"code": product.currency_code},
        "principal": decimal_number(loan.principal),
        "numberOfRepayments": loan.number_of_repayments,
        "repaymentEvery": loan.repayment_every,
        "repaymentFrequencyType": {
            "id": loan.repayment_frequency_type,
            "value": FREQUENCY.get(loan.repayment_frequency_type, "Unknown"),
        },
        "interestRatePerPeriod": decimal_number(loan.interest_rate_per_period),
        "termFrequency": loan.loan_term_frequency,
        "termPeriodFrequencyType": _enum(loan.loan_term_frequency_type, TERM_UNITS),
        "amortizationType": _enum(loan.amortization_type, AMORTIZATION),
        "interestType": _enum(loan.interest_type, INTEREST_TYPES),
        "interestCalculationPeriodType": _enum(
            loan.interest_calculation_period_type, INTEREST_PERIODS
        ),
        "transactionProcessingStrategyCode": loan.transaction_processing_strategy_code,
        "timeline": {
            "submittedOnDate": date_array(loan.submitted_on_date),
            "expectedDisbursementDate": date_array(loan.expected_disbursement_date),
            **_reached(
                approvedOnDate=loan.approved_on_date,
                rejectedOnDate=loan.rejected_on_date,
                actualDisbursementDate=loan.disbursed_on_date,
                closedOnDate=loan.closed_on_date,
            ),
        },
        "approvedPrincipal": decimal_number(loan.approved_principal),
        "note": loan.note,
    }


def check_loan_term(
    body: NewLoan, repayments: int, every: int, frequency: int
) -> list[MifosFieldError]:
    """Fineract's rule: the loan term is in the repayments' unit and equals their span."""
    term, unit = body.loanTermFrequency, body.loanTermFrequencyType
    if unit is not None and unit != frequency:
        return [
            MifosFieldError(
                "loanTermFrequencyType",
                "must be the same as repaymentFrequencyType",
                code="validation.msg.loan.loanTermFrequencyType.not.the.same.as.repaymentFrequencyType",
                value=unit,
            )
        ]
    if term is None:
        return []
    span = repayments * every
    if term < span:
        code, how = "less.than", "less than"
    elif term > span:
        code, how = "greater.than", "greater than"
    else:
        return []
    return [
        MifosFieldError(
            "loanTermFrequency",
            f"is {how} the {span} that numberOfRepayments x repaymentEvery suggests",
            code=f"validation.msg.loan.loanTermFrequency.{code}.repayment.structure.suggests",
            value=term,
        )
    ]


def check_terms(
    values: dict[str, Any], product: LoanProduct, today: dt.date
) -> list[MifosFieldError]:
    errors = []
    principal: Decimal = values["principal"]
    if principal <= 0:
        errors.append(MifosFieldError("principal", "must be greater than zero"))
    elif product.min_principal is not None and principal < product.min_principal:
        errors.append(
            MifosFieldError("principal", f"is below the product's minimum {product.min_principal}")
        )
    elif product.max_principal is not None and principal > product.max_principal:
        errors.append(
            MifosFieldError("principal", f"is above the product's maximum {product.max_principal}")
        )
    if values["interestRatePerPeriod"] < 0:
        errors.append(MifosFieldError("interestRatePerPeriod", "cannot be negative"))
    submitted, disbursement = values["submittedOnDate"], values["expectedDisbursementDate"]
    if submitted > today:
        errors.append(MifosFieldError("submittedOnDate", "cannot be in the future"))
    if disbursement is not None and disbursement < submitted:
        errors.append(
            MifosFieldError("expectedDisbursementDate", "cannot be before submittedOnDate")
        )
    return errors


@v1.post("/loans", roles=WRITE, body=NewLoan, tags=TAGS, status=201, response=LoanResource)
async def create_loan(request: ApiRequest[NewLoan]) -> Answer:
    """Submit a loan application for a client (Mifos `POST /loans`)."""
    body = request.validated
    values, errors = body.collect(
        principal="decimal",
        interestRatePerPeriod="decimal",
        submittedOnDate="date",
        expectedDisbursementDate="date",
    )
    if errors:
        raise field_problem(errors)
    client = await get_or_404(Client, id=body.clientId)
    product = await get_or_404(LoanProduct, id=body.productId)
    if values["principal"] is None:
        values["principal"] = product.principal
    if values["interestRatePerPeriod"] is None:
        values["interestRatePerPeriod"] = product.interest_rate_per_period
    today = dt.date.today()
    values["submittedOnDate"] = values["submittedOnDate"] or today
    repayments = body.numberOfRepayments or product.number_of_repayments
    every = body.repaymentEvery or product.repayment_every
    frequency = (
        body.repaymentFrequencyType
        if body.repaymentFrequencyType is not None
        else product.repayment_frequency_type
    )
    errors = check_terms(values, product, today) + check_loan_term(
        body, repayments, every, frequency
    )
    if errors:
        raise field_problem(errors)
    if body.externalId and await Loan.exists(external_id=body.externalId):
        raise Problem(
            409,
            f"Loan with externalId {body.externalId!r} already exists",
            slug="duplicate-external-id",
            errors=[{"field": "externalId", "message": "already used by another loan"}],
        )
    loan = await Loan.create(
        client_id=client.id,
        product_id=product.id,
        external_id=body.externalId,
        loan_type=body.loanType,
        principal=values["principal"],
        number_of_repayments=repayments,
        repayment_every=every,
        repayment_frequency_type=frequency,
        interest_rate_per_period=values["interestRatePerPeriod"],
        submitted_on_date=values["submittedOnDate"],
        expected_disbursement_date=values["expectedDisbursementDate"],
        note=body.note,
        loan_term_frequency=body.loanTermFrequency,
        loan_term_frequency_type=body.loanTermFrequencyType,
        amortization_type=body.amortizationType,
        interest_type=body.interestType,
        interest_calculation_period_type=body.interestCalculationPeriodType,
        transaction_processing_strategy_code=body.transactionProcessingStrategyCode,
    )
    await request.publish(
        "loans.created",
        {"loanId": loan.id, "clientId": client.id, "productId": product.id},
    )
    return {
        "officeId": client.office_id,
        "clientId": client.id,
        "loanId": loan.id,
        "resourceId": loan.id,
    }


@v1.get(
    "/loans",
    roles=READ,
    tags=TAGS,
    response=Paged[LoanV1],
    openapi=list_parameters("clientId"),
)
async def list_loans(request: ApiRequest) -> Answer:
    """Loans, paged with `offset`/`limit`; `clientId` filters by client."""
    return await client_page(request.query, Loan.all(), loan_v1, "client", "product")


@v1.delete("/loans/{id}", roles=WRITE, tags=TAGS, response=LoanResource)
async def delete_loan(request: ApiRequest) -> Answer:
    """Delete a loan application; only one still pending approval (as Fineract)."""
    loan_id = path_id(request.match_info, what="Loan")
    loan = await get_or_404(Loan, "client", id=loan_id)
    if loan.status != LoanStatus.SUBMITTED:
        raise Problem(
            409,
            f"Loan {loan_id} is not pending approval and cannot be deleted",
            slug="loan-not-pending",
        )
    await loan.delete()
    await request.publish("loans.deleted", {"loanId": loan_id, "clientId": loan.client_id})
    return {
        "officeId": loan.client.office_id,
        "clientId": loan.client_id,
        "loanId": loan_id,
        "resourceId": loan_id,
    }


def product_v1(product: LoanProduct) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "shortName": product.short_name,
        "currency": {"code": product.currency_code},
        "principal": decimal_number(product.principal),
        "minPrincipal": decimal_number(product.min_principal),
        "maxPrincipal": decimal_number(product.max_principal),
        "numberOfRepayments": product.number_of_repayments,
        "repaymentEvery": product.repayment_every,
        "repaymentFrequencyType": {
            "id": product.repayment_frequency_type,
            "value": FREQUENCY.get(product.repayment_frequency_type, "Unknown"),
        },
        "interestRatePerPeriod": decimal_number(product.interest_rate_per_period),
    }


@v1.get("/loanproducts", roles=READ, tags=TAGS, response=list[LoanProductV1])
async def list_products(request: ApiRequest) -> Answer:
    """Loan products (Fineract answers this list unpaged)."""
    return [product_v1(p) for p in await LoanProduct.all().order_by("id")]


@v1.get("/loanproducts/{id}", roles=READ, tags=TAGS, response=LoanProductV1)
async def read_product(request: ApiRequest) -> Answer:
    """One loan product: the defaults a loan application takes."""
    product_id = path_id(request.match_info, what="Loan product")
    product = await get_or_404(LoanProduct, id=product_id)
    return product_v1(product)
