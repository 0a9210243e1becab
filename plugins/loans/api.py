"""Loans REST endpoints, Mifos/Fineract style: apply for a loan for a client, read, list by client.

A loan application takes its terms from the product unless the body gives them (the Mifos batch
sample sends only `clientId` and `productId`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from aiohttp import web
from clients.models import Client
from pydantic import Field

from host import ApiRequest, Problem, Routes
from host.mifos import (
    MifosBody,
    MifosFieldError,
    client_page,
    date_array,
    decimal_number,
    field_problem,
    path_id,
)
from host.openapi import answers

from .models import Loan, LoanProduct, LoanStatus

__all__ = ("NewLoan", "loan_v1", "product_v1", "v1")

READ = ("loans:read",)
WRITE = ("loans:write",)
TAGS = ("loans",)

v1 = Routes()

Number = int | float | str | None


class NewLoan(MifosBody):
    """POST /loans: a loan application; terms default to the product's."""

    clientId: int = Field(ge=1)
    productId: int = Field(ge=1)
    principal: Number = None
    numberOfRepayments: int | None = Field(default=None, ge=1, le=1000)
    repaymentEvery: int | None = Field(default=None, ge=1, le=1000)
    repaymentFrequencyType: int | None = Field(default=None, ge=0, le=2)
    interestRatePerPeriod: Number = None
    loanType: str = Field(default="individual", pattern="^(individual|group|jlg)$")
    externalId: str | None = Field(default=None, max_length=100)
    submittedOnDate: str | list[int] | None = None
    expectedDisbursementDate: str | list[int] | None = None
    note: str | None = Field(default=None, max_length=500)


STATUS = {
    LoanStatus.SUBMITTED: ("submitted.and.pending.approval", "Submitted and pending approval"),
    LoanStatus.APPROVED: ("approved", "Approved"),
    LoanStatus.ACTIVE: ("active", "Active"),
    LoanStatus.WITHDRAWN: ("withdrawn.by.client", "Withdrawn by applicant"),
    LoanStatus.REJECTED: ("rejected", "Rejected"),
    LoanStatus.CLOSED: ("closed.obligations.met", "Closed (obligations met)"),
}
FREQUENCY = {0: "Days", 1: "Weeks", 2: "Months"}


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
            "active": loan.status == LoanStatus.ACTIVE,
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
        "timeline": {
            "submittedOnDate": date_array(loan.submitted_on_date),
            "expectedDisbursementDate": date_array(loan.expected_disbursement_date),
        },
        "note": loan.note,
    }


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


@v1.post("/loans", roles=WRITE, body=NewLoan, tags=TAGS, openapi=answers(201))
async def create_loan(request: ApiRequest) -> web.Response:
    """Submit a loan application for a client (Mifos `POST /loans`)."""
    body: NewLoan = request.validated
    values, errors = body.collect(
        principal="decimal",
        interestRatePerPeriod="decimal",
        submittedOnDate="date",
        expectedDisbursementDate="date",
    )
    if errors:
        raise field_problem(errors)
    client = await Client.get_or_none(id=body.clientId)
    if client is None:
        raise Problem(404, f"Client with identifier {body.clientId} does not exist")
    product = await LoanProduct.get_or_none(id=body.productId)
    if product is None:
        raise Problem(404, f"Loan product with identifier {body.productId} does not exist")
    if values["principal"] is None:
        values["principal"] = product.principal
    if values["interestRatePerPeriod"] is None:
        values["interestRatePerPeriod"] = product.interest_rate_per_period
    today = dt.date.today()
    values["submittedOnDate"] = values["submittedOnDate"] or today
    errors = check_terms(values, product, today)
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
        number_of_repayments=body.numberOfRepayments or product.number_of_repayments,
        repayment_every=body.repaymentEvery or product.repayment_every,
        repayment_frequency_type=(
            body.repaymentFrequencyType
            if body.repaymentFrequencyType is not None
            else product.repayment_frequency_type
        ),
        interest_rate_per_period=values["interestRatePerPeriod"],
        submitted_on_date=values["submittedOnDate"],
        expected_disbursement_date=values["expectedDisbursementDate"],
        note=body.note,
    )
    await request.publish(
        "loans.created",
        {"loanId": loan.id, "clientId": client.id, "productId": product.id},
    )
    return web.json_response(
        {
            "officeId": client.office_id,
            "clientId": client.id,
            "loanId": loan.id,
            "resourceId": loan.id,
        },
        status=201,
    )


@v1.get("/loans", roles=READ, tags=TAGS)
async def list_loans(request: ApiRequest) -> web.Response:
    """Loans, paged with `offset`/`limit`; `clientId` filters by client."""
    return web.json_response(
        await client_page(request.query, Loan.all(), loan_v1, "client", "product")
    )


@v1.get("/loans/{id}", roles=READ, tags=TAGS)
async def read_loan(request: ApiRequest) -> web.Response:
    """One loan in Fineract's representation."""
    loan_id = path_id(request.match_info, what="Loan")
    loan = await Loan.get_or_none(id=loan_id).prefetch_related("client", "product")
    if loan is None:
        raise Problem(404, f"Loan with identifier {loan_id} does not exist")
    return web.json_response(loan_v1(loan))


@v1.delete("/loans/{id}", roles=WRITE, tags=TAGS)
async def delete_loan(request: ApiRequest) -> web.Response:
    """Delete a loan application; only one still pending approval (as Fineract)."""
    loan_id = path_id(request.match_info, what="Loan")
    loan = await Loan.get_or_none(id=loan_id).prefetch_related("client")
    if loan is None:
        raise Problem(404, f"Loan with identifier {loan_id} does not exist")
    if loan.status != LoanStatus.SUBMITTED:
        raise Problem(
            409,
            f"Loan {loan_id} is not pending approval and cannot be deleted",
            slug="loan-not-pending",
        )
    await loan.delete()
    await request.publish("loans.deleted", {"loanId": loan_id, "clientId": loan.client_id})
    return web.json_response(
        {
            "officeId": loan.client.office_id,
            "clientId": loan.client_id,
            "loanId": loan_id,
            "resourceId": loan_id,
        }
    )


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


@v1.get("/loanproducts", roles=READ, tags=TAGS)
async def list_products(request: ApiRequest) -> web.Response:
    """Loan products (Fineract answers this list unpaged)."""
    return web.json_response([product_v1(p) for p in await LoanProduct.all().order_by("id")])


@v1.get("/loanproducts/{id}", roles=READ, tags=TAGS)
async def read_product(request: ApiRequest) -> web.Response:
    """One loan product: the defaults a loan application takes."""
    product_id = path_id(request.match_info, what="Loan product")
    product = await LoanProduct.get_or_none(id=product_id)
    if product is None:
        raise Problem(404, f"Loan product with identifier {product_id} does not exist")
    return web.json_response(product_v1(product))
