"""Client lifecycle commands, Fineract style: `POST /clients/{id}?command=activate|close`.

A small state machine: pending → active (activate), pending or active → closed (close). A command
from another state is refused with Fineract's error code (409 here; Fineract answers 400 or 403);
an unknown command is a 400 `error.msg.command.unsupported`.
"""

from __future__ import annotations

from typing import Any

from mifos import (
    MifosBody,
    Resource,
    Transition,
    check_date,
    command_body,
    command_of,
    command_parameter,
    date_array,
    field_problem,
)
from pydantic import Field

from host import Answer, ApiRequest

from .api import TAGS, WRITE, get_client, v1
from .models import Client
from .views import client_status

__all__ = ("ACTIVE", "CLOSED", "PENDING", "state_of")

PENDING, ACTIVE, CLOSED = 100, 300, 600


def state_of(client: Client) -> int:
    if client.closed_on_date is not None:
        return CLOSED
    return ACTIVE if client.active else PENDING


class Activation(MifosBody):
    activationDate: str | list[int] | None = None


class Closure(MifosBody):
    closureDate: str | list[int] | None = None
    closureReasonId: int | None = Field(default=None, ge=1)


TRANSITIONS = {
    "activate": Transition(
        frozenset({PENDING}),
        ACTIVE,
        "error.msg.clients.already.active",
        "Cannot activate client. Client is not pending activation (already active or closed).",
    ),
    "close": Transition(
        frozenset({PENDING, ACTIVE}),
        CLOSED,
        "error.msg.client.close.is.already.closed",
        "Client is already closed.",
    ),
}


@v1.post(
    "/clients/{id}",
    roles=WRITE,
    tags=TAGS,
    response=Resource,
    openapi=command_parameter(TRANSITIONS),
)
async def client_command(request: ApiRequest) -> Answer:
    """Run a client command: `?command=activate` (activationDate) or `close` (closureDate)."""
    command = command_of(request.query, TRANSITIONS)
    client = await get_client(request)
    TRANSITIONS[command].check(state_of(client))
    changes: dict[str, Any]
    if command == "activate":
        body = command_body(Activation, request.body)
        when = body.read(activationDate="date")["activationDate"]
        errors = check_date(
            "activationDate",
            when,
            code_prefix="client.activation",
            not_before=(client.submitted_on_date, "submittal"),
        )
        if errors:
            raise field_problem(errors)
        client.active, client.activation_date = True, when
        changes = {"status": client_status(client), "activationDate": date_array(when)}
        topic = "clients.activated"
    else:
        closure = command_body(Closure, request.body)
        when = closure.read(closureDate="date")["closureDate"]
        errors = check_date(
            "closureDate",
            when,
            code_prefix="client.close",
            not_before=(client.activation_date, "activation"),
        )
        if errors:
            raise field_problem(errors)
        client.active, client.closed_on_date = False, when
        changes = {"status": client_status(client), "closureDate": date_array(when)}
        topic = "clients.closed"
    await client.save()
    await request.publish(topic, {"clientId": client.id})
    return {
        "officeId": client.office_id,
        "clientId": client.id,
        "resourceId": client.id,
        "changes": changes,
    }
