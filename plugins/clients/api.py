"""Clients REST endpoints, Mifos/Fineract style: v1 (Fineract's shapes) and v2 (nested `name`).

Writes run inside the pipeline's transaction; `clients.created|updated|deleted` events go out with
`request.publish`, so they are delivered only when that transaction commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from pydantic import Field
from tortoise.exceptions import IntegrityError

from host import ApiRequest, Problem, Routes
from host.mifos import (
    MifosBody,
    MifosFieldError,
    date_array,
    field_problem,
    page,
    paging,
    path_id,
    query_id,
)
from host.openapi import answers

from .models import Client, Office
from .views import client_v1, client_v2

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


# field name in the request -> model attribute
COLUMNS = {
    "officeId": "office_id",
    "firstname": "firstname",
    "middlename": "middlename",
    "lastname": "lastname",
    "fullname": "fullname",
    "externalId": "external_id",
    "mobileNo": "mobile_no",
    "active": "active",
    "activationDate": "activation_date",
    "submittedOnDate": "submitted_on_date",
}


def check_names(values: dict[str, Any]) -> list[MifosFieldError]:
    """Fineract's rule: a full name alone (an entity), or at least a first and a last name."""
    person = [f for f in ("firstname", "middlename", "lastname") if values.get(f)]
    if values.get("fullname"):
        if person:
            return [
                MifosFieldError(
                    "fullname", f"cannot be given together with {', '.join(person)}; send either"
                )
            ]
        return []
    errors = []
    for name in ("firstname", "lastname"):
        if not values.get(name):
            errors.append(
                MifosFieldError(name, "is required (or send fullname alone for an entity)")
            )
    return errors


def check_dates(values: dict[str, Any], today: dt.date) -> list[MifosFieldError]:
    """Activation needs a date, not before submission and not in the future."""
    errors = []
    activation, submitted = values.get("activationDate"), values.get("submittedOnDate")
    if values.get("active") and activation is None:
        errors.append(MifosFieldError("activationDate", "is required when active is true"))
    if activation is not None and activation > today:
        errors.append(MifosFieldError("activationDate", "cannot be in the future"))
    if submitted is not None and submitted > today:
        errors.append(MifosFieldError("submittedOnDate", "cannot be in the future"))
    if activation is not None and submitted is not None and activation < submitted:
        errors.append(MifosFieldError("activationDate", "cannot be before submittedOnDate"))
    return errors


def display_name(values: dict[str, Any]) -> str:
    if values.get("fullname"):
        return str(values["fullname"])
    parts = (values.get(f) for f in ("firstname", "middlename", "lastname"))
    return " ".join(p for p in parts if p)


async def ensure_office(office_id: int) -> None:
    if not await Office.exists(id=office_id):
        raise Problem(404, f"Office with identifier {office_id} does not exist")


async def ensure_unique_external_id(external_id: str | None, exclude: int | None = None) -> None:
    if not external_id:
        return
    query = Client.filter(external_id=external_id)
    if exclude is not None:
        query = query.exclude(id=exclude)
    if await query.exists():
        raise Problem(
            409,
            f"Client with externalId {external_id!r} already exists",
            slug="duplicate-external-id",
            errors=[{"field": "externalId", "message": "already used by another client"}],
        )


async def get_client(request: ApiRequest) -> Client:
    client_id = path_id(request.match_info, what="Client")
    client = await Client.get_or_none(id=client_id).prefetch_related("office")
    if client is None:
        raise Problem(404, f"Client with identifier {client_id} does not exist")
    return client


# v1 ---------------------------------------------------------------------------------------------
@v1.post("/clients", roles=WRITE, body=NewClient, tags=TAGS, openapi=answers(201))
async def create_client(request: ApiRequest) -> web.Response:
    """Create a client (Mifos `POST /clients`); `savingsProductId` also opens a savings account."""
    body: NewClient = request.validated
    values: dict[str, Any] = body.model_dump()
    dates, errors = body.collect(activationDate="date", submittedOnDate="date")
    values.update(dates)
    today = dt.date.today()
    values["submittedOnDate"] = values["submittedOnDate"] or values["activationDate"] or today
    errors += check_names(values)
    if not errors:
        errors += check_dates(values, today)
    if errors:
        raise field_problem(errors)
    await ensure_office(body.officeId)
    await ensure_unique_external_id(body.externalId)
    client = await Client.create(
        **{column: values[name] for name, column in COLUMNS.items()},
        display_name=display_name(values),
    )
    event: dict[str, Any] = {"clientId": client.id, "officeId": client.office_id}
    if body.savingsProductId is not None:
        event["savingsProductId"] = body.savingsProductId
    await request.publish("clients.created", event)
    return web.json_response(
        {"officeId": client.office_id, "clientId": client.id, "resourceId": client.id}, status=201
    )


@v1.get("/clients", roles=READ, tags=TAGS)
async def list_clients(request: ApiRequest) -> web.Response:
    """Clients, paged with `offset`/`limit`; `externalId` and `officeId` filter."""
    return web.json_response(await _list(request, client_v1))


@v1.get("/clients/{id}", roles=READ, tags=TAGS)
async def read_client(request: ApiRequest) -> web.Response:
    """One client in Fineract's representation (dates as [y, m, d])."""
    return web.json_response(client_v1(await get_client(request)))


@v1.put("/clients/{id}", roles=WRITE, body=ClientUpdate, tags=TAGS)
async def update_client(request: ApiRequest) -> web.Response:
    """Change some fields of a client; the answer lists what changed (`changes`)."""
    body: ClientUpdate = request.validated
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
    errors += check_names(merged) + check_dates(merged, dt.date.today())
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
    return web.json_response(
        {
            "officeId": client.office_id,
            "clientId": client.id,
            "resourceId": client.id,
            "changes": shown,
        }
    )


@v1.delete("/clients/{id}", roles=WRITE, tags=TAGS)
async def delete_client(request: ApiRequest) -> web.Response:
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
    return web.json_response(
        {"officeId": client.office_id, "clientId": client.id, "resourceId": client.id}
    )


# v2 ---------------------------------------------------------------------------------------------
@v2.get("/clients", roles=READ, tags=TAGS)
async def list_clients_v2(request: ApiRequest) -> web.Response:
    """Clients in the v2 representation (nested `name`, ISO dates), paged like v1."""
    return web.json_response(await _list(request, client_v2))


@v2.get("/clients/{id}", roles=READ, tags=TAGS)
async def read_client_v2(request: ApiRequest) -> web.Response:
    """One client in the v2 representation: `name` {first, middle, last, full, display}."""
    return web.json_response(client_v2(await get_client(request)))


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


@v1.get("/offices", roles=READ, tags=TAGS)
async def list_offices(request: ApiRequest) -> web.Response:
    """Offices (Fineract answers this list unpaged)."""
    offices = await Office.all().order_by("id")
    return web.json_response(
        [
            {
                "id": o.id,
                "name": o.name,
                "externalId": o.external_id,
                "openingDate": date_array(o.opening_date),
            }
            for o in offices
        ]
    )
