"""Typed query parameters: a route declares `query=Model` and its handler reads
`request.validated_query`, checked like a body, so `?clientId=abc` is a 400 naming `clientId` and not
a 500 from an `int()` in the handler.

The model's fields (or their aliases) are the parameter names; a field typed as a list collects a
repeated parameter (`?tag=a&tag=b`); parameters the model does not name are ignored, as most HTTP
APIs do. The answer is 400 (the query string is part of the URL the client chose), not the 422 of a
body that parsed but broke a rule.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from multidict import MultiMapping
from pydantic import BaseModel, ValidationError

from host.problems import Problem

__all__ = ("parse_query",)

M = TypeVar("M", bound=BaseModel)


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (list, tuple, set, frozenset):
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation) if arg is not type(None))


def parse_query(model: type[M], query: MultiMapping[str] | Mapping[str, str]) -> M:
    """The query string as `model`; a 400 problem naming each bad or missing parameter."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in query:
            continue
        if _is_list(info.annotation) and isinstance(query, MultiMapping):
            values[key] = query.getall(key)
        else:
            values[key] = query[key]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            errors.append(
                {
                    "parameter": loc[0] if loc else "(query)",
                    "message": err["msg"],
                    "got": err.get("input"),
                }
            )
        summary = "; ".join(
            f"{e['parameter']}: {e['message']}"
            + (f" (got {e['got']!r})" if isinstance(e["got"], str | list) else "")
            for e in errors[:5]
        )
        safe = [{"parameter": e["parameter"], "message": e["message"]} for e in errors]
        raise Problem(
            400, f"Invalid query parameter {summary}", slug="bad-query", errors=safe
        ) from None
