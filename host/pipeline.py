"""The request pipeline shared by HTTP calls, batch items and job items.

    ApiRequest ─► stages (gateway, ...) ─► internal router ─► role check ─► body model
               ─► unit of work (state-changing methods) ─► plugin handler ─► web.Response

Stages are middleware in the aiohttp/Dramatiq sense: `async (request, call_next) -> response`,
added in order with `Pipeline.add_stage`. Every exception becomes a problem+json response here, so
a batch item gets exactly the answer the same call would get over HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from aiohttp import web
from pydantic import ValidationError
from tortoise.exceptions import DoesNotExist, IntegrityError

from host.api import ApiRequest, RouteDef
from host.auth import require_roles
from host.db import unit_of_work, unstorable_value
from host.problems import Problem, from_http_exception, problem_response
from host.routing import Match, MethodNotAllowed, NoRoute, PatternError, Router

__all__ = ("CallNext", "Pipeline", "Stage", "build_router", "match_or_problem", "to_problem")

log = logging.getLogger("plughost.pipeline")
T = TypeVar("T")

CallNext = Callable[[ApiRequest], Awaitable[web.StreamResponse]]
Stage = Callable[[ApiRequest, CallNext], Awaitable[web.StreamResponse]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _Rollback(Exception):
    """Raised inside the unit of work to undo a handler that answered with an error status."""

    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response


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
    if isinstance(exc, DoesNotExist):
        return Problem(404, "The requested resource does not exist")
    if isinstance(exc, IntegrityError):
        return Problem(
            409, "The change conflicts with existing data (a unique or foreign key rule)"
        )
    if unstorable_value(exc):  # the message may quote the value (a key, a password): never shown
        return Problem(400, "A value in the request cannot be stored", slug="value-out-of-range")
    return Problem(500, "An internal error occurred; quote the request id when reporting it")


def build_router(routes: list[RouteDef]) -> tuple[Router[RouteDef], list[str]]:
    """Compile route definitions; a bad or duplicate one is reported, never mounted."""
    router: Router[RouteDef] = Router()
    errors: list[str] = []
    for route in routes:
        try:
            router.add(route.full_path, [route.method], route)
        except PatternError as exc:
            errors.append(f"plugin {route.plugin or 'host'!r}: {exc}")
    return router, errors


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


class Pipeline:
    def __init__(self, default_max_body: int = 1 << 20) -> None:
        self.router: Router[RouteDef] = Router()
        self._stages: list[Stage] = []
        self.routes: list[RouteDef] = []
        self.host_routes: list[RouteDef] = []
        """Endpoints of the host's own components (auth, batch, jobs...), mounted with plugins'."""
        self.default_max_body = default_max_body
        self._largest_body = default_max_body

    def max_body_bytes(self) -> int:
        """The most any endpoint accepts: the HTTP edge reads no more than this."""
        return self._largest_body

    def add_stage(self, stage: Stage, *, first: bool = False) -> None:
        if first:
            self._stages.insert(0, stage)
        else:
            self._stages.append(stage)

    def mount(self, routes: list[RouteDef]) -> list[str]:
        """Replace the internal routes at start-up; returns the errors of routes not mounted."""
        router, errors = build_router(routes)
        self.router, self.routes = router, list(routes)
        self._largest_body = max(
            [self.default_max_body, *(r.max_body for r in routes if r.max_body)]
        )
        return errors

    async def handle(self, request: ApiRequest) -> web.StreamResponse:
        """Run one call through every stage; never raises, always answers."""
        try:
            return await self._call(0, request)
        except Exception as exc:
            return self.error_response(exc, request)

    def error_response(self, exc: BaseException, request: ApiRequest) -> web.Response:
        problem = to_problem(exc)
        if problem.status >= 500 and not isinstance(exc, Problem):
            log.error(
                "unhandled error",
                exc_info=exc,
                extra={"path": request.path, "method": request.method},
            )
        return problem_response(problem, instance=request.path, request_id=request.request_id)

    async def _call(self, index: int, request: ApiRequest) -> web.StreamResponse:
        if index < len(self._stages):
            return await self._stages[index](request, lambda r: self._call(index + 1, r))
        return await self.dispatch(request)

    async def dispatch(self, request: ApiRequest) -> web.StreamResponse:
        """The last stage: the internal router and the plugin handler."""
        match = match_or_problem(self.router.match, request.method, request.path)
        route = match.target
        require_roles(request.identity, route.roles, public=route.public)
        limit = route.max_body or self.default_max_body
        if len(request.body) > limit:
            raise Problem(
                413, f"The request body is {len(request.body)} bytes; the limit is {limit} bytes"
            )
        request = replace(request, match_info=match.params, route=route)
        if route.body is not None:
            request.validated = route.body.model_validate(await request.json())
        if request.method in SAFE_METHODS or not route.transaction:
            return await route.handler(request)
        try:
            async with unit_of_work():
                response = await route.handler(request)
                if response.status >= 400:
                    raise _Rollback(response)
        except _Rollback as rollback:
            return rollback.response
        return response


def response_json_bytes(response: web.StreamResponse) -> Any:
    """The body of a buffered response (what batch and job items store)."""
    if isinstance(response, web.Response):
        body = response.body
        if isinstance(body, bytes | bytearray):
            return bytes(body)
        if body is None:
            return b""
        return getattr(body, "_value", b"")
    return b""
