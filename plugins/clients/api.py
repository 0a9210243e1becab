"""Clients REST endpoints, Mifos/Fineract style: v1 (Fineract's shapes) and v2 (nested `name`).

Writes run inside the pipeline's transaction; `clients.created|updated|deleted` events go out with
`request.publish`, so they are delivered only when that transaction commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mifos import (
    MifosBody,
    MifosFieldError,
    Paged,
    Resource,
    date_array,
    field_problem,
    list_parameters,
    page,
    paging,
    path_id,
    query_id,
)
from pydantic import Field
from tortoise.exceptions import IntegrityError

from host import Answer, ApiRequest, Problem, Routes, get_or_404

from .models import Client, Office
from .service import (
    COLUMNS,
    check_dates,
    check_legal_form,
    check_names,
    display_name,
    ensure_office,
    ensure_unique_external_id,
    open_client,
)
from .views import ClientV1, ClientV2, OfficeV1, client_v1, client_v2

__all__ = (
    "COLUMNS",
    "ClientUpdate",
    "NewClient",
    "check_dates",
    "check_names",
    "display_name",
    "ensure_office",
    "ensure_unique_external_id",
    "get_client",
    "v1",
    "v2",
)

READ = ("clients:read",)
WRITE = ("clients:write",)
TAGS = ("clients",)

v1 = Routes()
v2 = Routes()

Name = Field(default=None, min_length=1, max_length=100)


class NewClient(MifosBody):
    """POST /clients: a person (firstname + lastname) or an entity (fullname)."""

    officeId: int = Field(default=1, ge=1)
    firstname: str | None = Name
    middlename: str | None = Name
    lastname: str | None = Name
    fullname: str | None = Field(default=None, min_length=1, max_length=300)
    externalId: str | None = Field(default=None, max_length=100)
    mobileNo: str | None = Field(default=None, max_length=50)
    active: bool = False
    activationDate: str | list[int] | None = None
    submittedOnDate: str | list[int] | None = None
    savingsProductId: int | None = Field(default=None, ge=1)
    """Also open a savings account with this product (the savings plugin does, on the event)."""
    legalFormId: int | None = None
    """Fineract's legal form: 1 person (first and last name), 2 entity (fullname)."""


class ClientUpdate(MifosBody):
    """PUT /clients/{id}: any subset of the client's fields; what changed is answered."""

    officeId: int | None = Field(default=None, ge=1)
    firstname: str | None = Name
    middlename: str | None = Name
    lastname: str | None = Name
    fullname: str | None = Field(default=None, min_length=1, max_length=300)
    externalId: str | None = Field(default=None, max_length=100)
    mobileNo: str | None = Field(default=None, max_length=50)
    active: bool | None = None
    activationDate: str | list[int] | None = None
    submittedOnDate: str | list[int] | None = None
    legalFormId: int | None = None


async def get_client(request: ApiRequest[Any]) -> Client:
    client_id = path_id(request.match_info, what="Client")
    client = await get_or_404(Client, "office", id=client_id)
    return client


# v1 ---------------------------------------------------------------------------------------------
@v1.post("/clients", roles=WRITE, body=NewClient, tags=TAGS, status=201, response=Resource)
async def create_client(request: ApiRequest[NewClient]) -> Answer:
    """Create a client (Mifos `POST /clients`); `savingsProductId` also opens a savings account."""
    body = request.validated
    values: dict[str, Any] = body.model_dump()
    dates, errors = body.collect(activationDate="date", submittedOnDate="date")
    values.update(dates)
    client = await open_client(
        values, errors, savings_product_id=body.savingsProductId, publish=request.publish
    )
    return {"officeId": client.office_id, "clientId": client.id, "resourceId": client.id}


LIST = list_parameters("officeId", text=("externalId",))


@v1.get("/clients", roles=READ, tags=TAGS, response=Paged[ClientV1], openapi=LIST)
async def list_clients(request: ApiRequest) -> Answer:
    """Clients, paged with `offset`/`limit`; `externalId` and `officeId` filter."""
    return await _list(request, client_v1)


@v1.get("/clients/{id}", roles=READ, tags=TAGS, response=ClientV1)
async def read_client(request: ApiRequest) -> Answer:
    """One client in Fineract's representation (dates as [y, m, d])."""
    return client_v1(await get_client(request))


@v1.put("/clients/{id}", roles=WRITE, body=ClientUpdate, tags=TAGS, response=Resource)
async def update_client(request: ApiRequest[ClientUpdate]) -> Answer:
    """Change some fields of a client; the answer lists what changed (`changes`)."""
    body = request.validated
    client = await get_client(request)
    given = body.given()
    if not given:
        raise Problem(400, "The request body changes nothing; send at least one client field")
    sent: dict[str, Any] = {name: getattr(body, name) for name in given}
    sent.update(
        {
            k: v
            for k, v in body.read(activationDate="date", submittedOnDate="date").items()
            if k in given
        }
    )
    errors = [
        MifosFieldError(name, "cannot be null")
        for name in ("officeId", "active")
        if name in sent and sent[name] is None
    ]
    current = {name: getattr(client, column) for name, column in COLUMNS.items()}
    merged = {**current, **sent}
    errors += check_names(merged) + check_legal_form(merged) + check_dates(merged, dt.date.today())
    if errors:
        raise field_problem(errors)
    if "officeId" in sent:
        await ensure_office(sent["officeId"])
    if "externalId" in sent:
        await ensure_unique_external_id(sent["externalId"], exclude=client.id)
    changes = {name: value for name, value in sent.items() if current[name] != value}
    for name, value in changes.items():
        setattr(client, COLUMNS[name], value)
    if changes:
        client.display_name = display_name(merged)
        await client.save()
        await request.publish(
            "clients.updated", {"clientId": client.id, "changes": sorted(changes)}
        )
    shown = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in changes.items()}
    if changes and body.dateFormat:
        shown.update(dateFormat=body.dateFormat, locale=body.locale or "en")
    return {
        "officeId": client.office_id,
        "clientId": client.id,
        "resourceId": client.id,
        "changes": shown,
    }


@v1.delete("/clients/{id}", roles=WRITE, tags=TAGS, response=Resource)
async def delete_client(request: ApiRequest) -> Answer:
    """Delete a client that has no accounts (loans or savings refuse it with 409)."""
    client = await get_client(request)
    try:
        await client.delete()
    except IntegrityError:
        raise Problem(
            409,
            f"Client {client.id} has accounts (loans or savings) and cannot be deleted",
            slug="client-has-accounts",
        ) from None
    await request.publish("clients.deleted", {"clientId": client.id})
    return {"officeId": client.office_id, "clientId": client.id, "resourceId": client.id}


# v2 ---------------------------------------------------------------------------------------------
@v2.get("/clients", roles=READ, tags=TAGS, response=Paged[ClientV2], openapi=LIST)
async def list_clients_v2(request: ApiRequest) -> Answer:
    """Clients in the v2 representation (nested `name`, ISO dates), paged like v1."""
    return await _list(request, client_v2)


@v2.get("/clients/{id}", roles=READ, tags=TAGS, response=ClientV2)
async def read_client_v2(request: ApiRequest) -> Answer:
    """One client in the v2 representation: `name` {first, middle, last, full, display}."""
    return client_v2(await get_client(request))


async def _list(request: ApiRequest, view: Any) -> dict[str, Any]:
    window = paging(request.query)
    query = Client.all()
    if external_id := request.query.get("externalId"):
        query = query.filter(external_id=external_id)
    office_id = query_id(request.query, "officeId")
    if office_id is not None:
        query = query.filter(office_id=office_id)
    total = await query.count()
    rows = await query.offset(window.offset).limit(window.limit).prefetch_related("office")
    return page(total, [view(c) for c in rows])


@v1.get("/offices", roles=READ, tags=TAGS, response=list[OfficeV1])
async def list_offices(request: ApiRequest) -> Answer:
    """Offices (Fineract answers this list unpaged)."""
    offices = await Office.all().order_by("id")
    return [
        {
            "id": o.id,
            "name": o.name,
            "externalId": o.external_id,
            "openingDate": date_array(o.opening_date),
        }
        for o in offices
    ]
