"""How a client is shown: v1 is Fineract's shape, v2 nests the name and uses ISO dates.

Pure functions of a loaded `Client` (with its office prefetched when `officeName` is wanted), so the
REST endpoints and any other reader (GraphQL, exports) show the same thing; `ClientV1`/`ClientV2`
describe those shapes for the API document (the routes' `response=`).
"""

from __future__ import annotations

from typing import Any

from mifos import DateArray, EnumOption, date_array
from pydantic import BaseModel

from .models import Client

__all__ = (
    "ClientV1",
    "ClientV2",
    "OfficeV1",
    "account_no",
    "client_status",
    "client_v1",
    "client_v2",
)


class ClientTimeline(BaseModel):
    submittedOnDate: DateArray | None
    activatedOnDate: DateArray | None
    closedOnDate: DateArray | None


class ClientV1(BaseModel):
    """A client as v1 shows it (Fineract's representation)."""

    id: int
    accountNo: str
    externalId: str | None
    status: EnumOption
    active: bool
    activationDate: DateArray | None
    firstname: str | None
    middlename: str | None
    lastname: str | None
    fullname: str | None
    displayName: str
    mobileNo: str | None
    legalForm: EnumOption | None
    officeId: int
    officeName: str | None
    timeline: ClientTimeline


class ClientName(BaseModel):
    first: str | None
    middle: str | None
    last: str | None
    full: str | None
    display: str


class ClientV2(BaseModel):
    """A client as v2 shows it: the name nested, ISO dates, a link to itself."""

    id: int
    officeId: int
    accountNo: str
    externalId: str | None
    name: ClientName
    status: str
    mobileNo: str | None
    activationDate: str | None
    submittedOnDate: str | None
    links: dict[str, str]


class OfficeV1(BaseModel):
    id: int
    name: str
    externalId: str | None
    openingDate: DateArray | None


def account_no(client_id: int) -> str:
    """Fineract's zero-padded account number."""
    return f"{client_id:09d}"


def client_status(client: Client) -> dict[str, Any]:
    if client.closed_on_date is not None:
        return {"id": 600, "code": "clientStatusType.closed", "value": "Closed"}
    if client.active:
        return {"id": 300, "code": "clientStatusType.active", "value": "Active"}
    return {"id": 100, "code": "clientStatusType.pending", "value": "Pending"}


def _office_name(client: Client) -> str | None:
    """The office's name when it was prefetched (never a query from here)."""
    office = client.__dict__.get("_office")
    return getattr(office, "name", None)


def _legal_form(form: int | None) -> dict[str, Any] | None:
    if form is None:
        return None
    value = {1: "PERSON", 2: "ENTITY"}.get(form, "UNKNOWN")
    return {"id": form, "code": f"legalFormType.{value.lower()}", "value": value}


def client_v1(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "accountNo": account_no(client.id),
        "externalId": client.external_id,
        "status": client_status(client),
        "active": client.active,
        "activationDate": date_array(client.activation_date),
        "firstname": client.firstname,
        "middlename": client.middlename,
        "lastname": client.lastname,
        "fullname": client.fullname,
        "displayName": client.display_name,
        "mobileNo": client.mobile_no,
        "legalForm": _legal_form(client.legal_form_id),
        "officeId": client.office_id,
        "officeName": _office_name(client),
        "timeline": {
            "submittedOnDate": date_array(client.submitted_on_date),
            "activatedOnDate": date_array(client.activation_date),
            "closedOnDate": date_array(client.closed_on_date),
        },
    }


def client_v2(client: Client) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": client.id,
        "officeId": client.office_id,
        "accountNo": account_no(client.id),
        "externalId": client.external_id,
        "name": {
            "first": client.firstname,
            "middle": client.middlename,
            "last": client.lastname,
            "full": client.fullname,
            "display": client.display_name,
        },
        "status": "active" if client.active else "pending",
        "mobileNo": client.mobile_no,
        "activationDate": iso(client.activation_date),
        "submittedOnDate": iso(client.submitted_on_date),
        "links": {"self": f"/api/v2/clients/{client.id}"},
    }
