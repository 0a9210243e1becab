"""The clients plugin's rules, shared by its REST endpoints and its GraphQL mutations.

A create or an update reaches the same checks (names, legal form, dates, office, unique externalId)
and publishes the same event whichever API it came through; the API modules only turn their own
input into the values these functions take.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mifos import MifosFieldError, field_problem
from tortoise.exceptions import IntegrityError

from host import Problem

from .models import Client, Office

__all__ = (
    "COLUMNS",
    "check_dates",
    "check_legal_form",
    "check_names",
    "display_name",
    "ensure_office",
    "ensure_unique_external_id",
    "open_client",
)

Publish = Callable[[str, Mapping[str, Any]], Awaitable[None]]


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
    "legalFormId": "legal_form_id",
}
LEGAL_FORMS = {1: "PERSON", 2: "ENTITY"}


def check_legal_form(values: dict[str, Any]) -> list[MifosFieldError]:
    """Fineract: legalFormId is 1 (person) or 2 (entity); a person has names, an entity a fullname."""
    form = values.get("legalFormId")
    if form is None:
        return []
    if form not in LEGAL_FORMS:
        return [
            MifosFieldError(
                "legalFormId",
                "must be 1 (person) or 2 (entity)",
                code="validation.msg.client.legalFormId.is.not.within.expected.range",
                value=form,
            )
        ]
    if form == 2 and not values.get("fullname"):
        return [MifosFieldError("fullname", "is required for an entity (legalFormId 2)")]
    if form == 1 and values.get("fullname"):
        return [MifosFieldError("fullname", "is for entities; a person (legalFormId 1) has names")]
    return []


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


async def open_client(
    values: dict[str, Any],
    errors: list[MifosFieldError] | None = None,
    *,
    savings_product_id: int | None,
    publish: Publish,
) -> Client:
    """Create a client from request values (API names, Python types) after every rule; then
    publish `clients.created` (with `savingsProductId`, the savings plugin opens an account)."""
    errors = list(errors or [])
    today = dt.date.today()
    values["submittedOnDate"] = values["submittedOnDate"] or values["activationDate"] or today
    errors += check_names(values) + check_legal_form(values)
    if not errors:
        errors += check_dates(values, today)
    if errors:
        raise field_problem(errors)
    await ensure_unique_external_id(values["externalId"])
    try:
        client = await Client.create(
            **{column: values[name] for name, column in COLUMNS.items()},
            display_name=display_name(values),
        )
    except IntegrityError as exc:
        # the office is checked by its foreign key, not a query before the insert: one query
        # less per client (a third of what a create in a batch costs on SQLite). No query may
        # follow a failed statement on PostgreSQL, so the error itself tells which rule it was
        if "foreign key" in str(exc).lower():
            raise Problem(
                404, f"Office with identifier {values['officeId']} does not exist"
            ) from None
        raise
    event: dict[str, Any] = {"clientId": client.id, "officeId": client.office_id}
    if savings_product_id is not None:
        event["savingsProductId"] = savings_product_id
    await publish("clients.created", event)
    return client
