"""The shapes Mifos/Fineract answers with, as pydantic models a plugin names in `response=`.

They describe answers for the API document (and the contract tests that hold the server to it);
nothing is validated at run time. Models are open (unknown members allowed), as Fineract's
representations grow: they name what a client can count on, not everything there is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field

from host import DB_INT_MAX

from .conventions import MAX_LIMIT

__all__ = (
    "Currency",
    "DateArray",
    "EnumOption",
    "Number",
    "Paged",
    "Resource",
    "command_parameter",
    "list_parameters",
)

T = TypeVar("T")

DateArray = Annotated[list[int], Field(min_length=3, max_length=3)]
"""A date as Fineract answers it: [year, month, day] (see `date_array`)."""
Number = int | float
"""An amount or a rate: a JSON number, whole amounts as integers (see `decimal_number`)."""


class EnumOption(BaseModel):
    """Fineract's enum value: `{"id": 300, "code": "clientStatusType.active", "value": "Active"}`."""

    id: int
    code: str | None = None
    value: str


class Currency(BaseModel):
    code: str


class Paged(BaseModel, Generic[T]):
    """The paged list envelope (`page`): the total that matched, and this page's items."""

    totalFilteredRecords: int = Field(ge=0)
    pageItems: list[T]


class Resource(BaseModel):
    """What a write answers (create, update, command, delete): the ids it touched, and for an
    update or a command the values that changed."""

    officeId: int
    clientId: int
    resourceId: int
    changes: dict[str, Any] | None = None


def command_parameter(allowed: Iterable[str]) -> dict[str, Any]:
    """The `openapi` fragment of a command endpoint: its required `?command=` (`command_of`)."""
    return {
        "parameters": [
            {
                "name": "command",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "enum": sorted(allowed)},
            }
        ]
    }


def list_parameters(*ids: str, text: tuple[str, ...] = ()) -> dict[str, Any]:
    """The `openapi` fragment of a paged list: `offset`, `limit` (`paging`), numeric id filters
    such as `clientId` (`query_id`) and text filters such as `externalId`."""
    number = {"type": "integer", "minimum": 0, "maximum": DB_INT_MAX}
    schemas = {
        "offset": number,
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        **{name: dict(number) for name in ids},
        **{name: {"type": "string"} for name in text},
    }
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in schemas.items()
        ]
    }
