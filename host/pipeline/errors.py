"""Exceptions to problems: the one mapping every call's errors go through (RFC 9457)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from pydantic import ValidationError
from tortoise.exceptions import DoesNotExist, IntegrityError

from host.data.db import unstorable_value
from host.pipeline.routing import Match, MethodNotAllowed, NoRoute
from host.problems import Problem, from_http_exception

__all__ = ("match_or_problem", "to_problem", "validation_problem")

T = TypeVar("T")


def validation_problem(exc: ValidationError) -> Problem:
    errors = [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"]}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return Problem(422, f"Invalid request body: {summary}", errors=errors)


def to_problem(exc: BaseException) -> Problem:
    """Map any exception to the problem a client should see; unknown ones are a bare 500."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, web.HTTPException):
        return from_http_exception(exc)
    if isinstance(exc, ValidationError):
        return validation_problem(exc)
    if unstorable_value(exc):  # the message may quote the value (a key, a password): never shown
        return Problem(400, "A value in the request cannot be stored", slug="value-out-of-range")
    if isinstance(exc, DoesNotExist):
        return Problem(404, "The requested resource does not exist")
    if isinstance(exc, IntegrityError):
        return Problem(
            409, "The change conflicts with existing data (a unique or foreign key rule)"
        )
    return Problem(500, "An internal error occurred; quote the request id when reporting it")


def match_or_problem(
    match: Callable[[str, str], Match[T]], method: str, path: str, *, where: str = ""
) -> Match[T]:
    """Run a router's `match`; no route is a 404 problem, a wrong method a 405 with `Allow`."""
    try:
        return match(method, path)
    except NoRoute:
        raise Problem(404, f"No endpoint at {path}{where}") from None
    except MethodNotAllowed as exc:
        raise Problem(
            405,
            f"{method} is not allowed on {path}{where}; allowed: {exc}",
            headers={"Allow": ", ".join(exc.allowed)},
        ) from None
