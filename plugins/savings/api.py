"""Savings REST endpoints, Mifos/Fineract style: open, read, list by client.

`POST /savingsaccount` is the alias the Mifos batch sample uses; it is the same endpoint.
"""

from __future__ import annotations

import datetime as dt
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

from .models import SavingsAccount, SavingsProduct, SavingsStatus

__all__ = ("NewSavingsAccount", "SavingsResource", "SavingsV1", "product_v1", "savings_v1", "v1")

READ = ("savings:read",)
WRITE = ("savings:write",)
TAGS = ("savings",)

v1 = Routes()


class NewSavingsAccount(MifosBody):
    """POST /savingsaccounts: a savings application; the interest rate defaults to the product's."""

    clientId: int = Field(ge=1)
    productId: int = Field(ge=1)
    nominalAnnualInterestRate: int | float | str | None = None
    externalId: str | None = Field(default=None, max_length=100)
    submittedOnDate: str | list[int] | None = None


STATUS = {
    SavingsStatus.SUBMITTED: ("submitted.and.pending.approval", "Submitted and pending approval"),
    SavingsStatus.APPROVED: ("approved", "Approved"),
    SavingsStatus.ACTIVE: ("active", "Active"),
    SavingsStatus.CLOSED: ("closed", "Closed"),
}


class SavingsResource(Resource):
    """What a savings write answers (`resourceId` is the transaction for a deposit/withdrawal)."""

    savingsId: int


class SavingsStatusView(EnumOption):
    submittedAndPendingApproval: bool
    active: bool


class SavingsV1(BaseModel):
    """A savings account in Fineract's representation."""

    id: int
    accountNo: str
    externalId: str | None
    clientId: int
    clientName: str
    clientOfficeId: int
    savingsProductId: int
    savingsProductName: str
    status: SavingsStatusView
    currency: Currency
    nominalAnnualInterestRate: Number
    summary: dict[str, Number | None]
    timeline: dict[str, DateArray | None]


class SavingsProductV1(BaseModel):
    id: int
    name: str
    shortName: str | None
    currency: Currency
    nominalAnnualInterestRate: Number
    minRequiredOpeningBalance: Number | None


def savings_v1(account: SavingsAccount) -> dict[str, Any]:
    """Fineract's savings account representation; `client` and `product` must be prefetched."""
    code, value = STATUS.get(account.status, ("unknown", "Unknown"))
    client: Client = account.client
    product: SavingsProduct = account.product
    return {
        "id": account.id,
        "accountNo": f"{account.id:09d}",
        "externalId": account.external_id,
        "clientId": account.client_id,
        "clientName": client.display_name,
        "clientOfficeId": client.office_id,
        "savingsProductId": account.product_id,
        "savingsProductName": product.name,
        "status": {
            "id": account.status,
            "code": f"savingsAccountStatusType.{code}",
            "value": value,
            "submittedAndPendingApproval": account.status == SavingsStatus.SUBMITTED,
            "active": account.status == SavingsStatus.ACTIVE,
        },
        "currency": {"code": product.currency_code},
        "nominalAnnualInterestRate": decimal_number(account.nominal_annual_interest_rate),
        "summary": {"accountBalance": decimal_number(account.balance)},
        "timeline": {
            "submittedOnDate": date_array(account.submitted_on_date),
            "approvedOnDate": date_array(account.approved_on_date),
            "activatedOnDate": date_array(account.activated_on_date),
        },
    }


@v1.post(
    "/savingsaccounts",
    roles=WRITE,
    body=NewSavingsAccount,
    tags=TAGS,
    status=201,
    response=SavingsResource,
)
async def create_account(request: ApiRequest[NewSavingsAccount]) -> Answer:
    """Submit a savings account application for a client (Mifos `POST /savingsaccounts`)."""
    body = request.validated
    values = body.read(nominalAnnualInterestRate="decimal", submittedOnDate="date")
    client = await get_or_404(Client, id=body.clientId)
    product = await get_or_404(SavingsProduct, id=body.productId)
    rate = values["nominalAnnualInterestRate"]
    rate = product.nominal_annual_interest_rate if rate is None else rate
    submitted = values["submittedOnDate"] or dt.date.today()
    errors = []
    if rate < 0:
        errors.append(MifosFieldError("nominalAnnualInterestRate", "cannot be negative"))
    if submitted > dt.date.today():
        errors.append(MifosFieldError("submittedOnDate", "cannot be in the future"))
    if errors:
        raise field_problem(errors)
    if body.externalId and await SavingsAccount.exists(external_id=body.externalId):
        raise Problem(
            409,
            f"Savings account with externalId {body.externalId!r} already exists",
            slug="duplicate-external-id",
            errors=[{"field": "externalId", "message": "already used by another account"}],
        )
    account = await SavingsAccount.create(
        client_id=client.id,
        product_id=product.id,
        external_id=body.externalId,
        nominal_annual_interest_rate=rate,
        submitted_on_date=submitted,
        status=SavingsStatus.SUBMITTED,
    )
    await request.publish(
        "savings.created",
        {"savingsId": account.id, "clientId": client.id, "productId": product.id},
    )
    return {
        "officeId": client.office_id,
        "clientId": client.id,
        "savingsId": account.id,
        "resourceId": account.id,
    }


# the Mifos batch sample posts to the singular path; same endpoint, same contract
v1.post(
    "/savingsaccount",
    roles=WRITE,
    body=NewSavingsAccount,
    tags=TAGS,
    status=201,
    response=SavingsResource,
)(create_account)


@v1.get(
    "/savingsaccounts",
    roles=READ,
    tags=TAGS,
    response=Paged[SavingsV1],
    openapi=list_parameters("clientId"),
)
async def list_accounts(request: ApiRequest) -> Answer:
    """Savings accounts, paged with `offset`/`limit`; `clientId` filters by client."""
    return await client_page(request.query, SavingsAccount.all(), savings_v1, "client", "product")


@v1.get("/savingsaccounts/{id}", roles=READ, tags=TAGS, response=SavingsV1)
async def read_account(request: ApiRequest) -> Answer:
    """One savings account in Fineract's representation."""
    account_id = path_id(request.match_info, what="Savings account")
    account = await get_or_404(SavingsAccount, "client", "product", id=account_id)
    return savings_v1(account)


def product_v1(product: SavingsProduct) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "shortName": product.short_name,
        "currency": {"code": product.currency_code},
        "nominalAnnualInterestRate": decimal_number(product.nominal_annual_interest_rate),
        "minRequiredOpeningBalance": decimal_number(product.min_required_opening_balance),
    }


@v1.get("/savingsproducts", roles=READ, tags=TAGS, response=list[SavingsProductV1])
async def list_products(request: ApiRequest) -> Answer:
    """Savings products (Fineract answers this list unpaged)."""
    return [product_v1(p) for p in await SavingsProduct.all().order_by("id")]


@v1.get("/savingsproducts/{id}", roles=READ, tags=TAGS, response=SavingsProductV1)
async def read_product(request: ApiRequest) -> Answer:
    """One savings product."""
    product_id = path_id(request.match_info, what="Savings product")
    product = await get_or_404(SavingsProduct, id=product_id)
    return product_v1(product)
