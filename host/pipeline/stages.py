"""The stages of the one pass, in the order `create_app` declares them (see docs/design.md).

A stage is a factory `(app, next) -> endpoint`, called once when the pipeline is built: whatever it
needs from the app (settings, authenticator, metrics) is looked up then, not per call, and the chain
is plain nested calls with no per-request closures. Each stage does one thing:

    context ─► routing ─► identity ─► roles ─► body ─► validation ─► unit of work ─► handler

Routing is the gateway's stage when the gateway is installed (a micro-app's table, then the
internal router), else `route_stage` (the internal router alone).
"""

from __future__ import annotations

import logging
import time

from aiohttp import web

from host.auth import AUTH, bind_tenant, check_roles
from host.config import SETTINGS
from host.context import context_from_headers, current_context, reset_context, use_context
from host.data.db import unit_of_work
from host.metrics import METRICS
from host.pipeline.answer import json_answer
from host.pipeline.call import Call
from host.pipeline.errors import match_or_problem, to_problem
from host.pipeline.pipeline import PIPELINE, Endpoint
from host.pipeline.query import parse_query
from host.pipeline.request import ApiRequest, parse_json_body
from host.pipeline.routes import RouteDef
from host.pipeline.routing import Router
from host.problems import Problem, problem_response

__all__ = (
    "SAFE_METHODS",
    "body_stage",
    "context_stage",
    "handler_endpoint",
    "identity_stage",
    "roles_stage",
    "route_stage",
    "transaction_stage",
    "validation_stage",
)

log = logging.getLogger("plughost.pipeline")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
JOB_REALM = {"WWW-Authenticate": 'Bearer realm="plughost"'}


# context: the outermost stage -----------------------------------------------------------------
def context_stage(app: web.Application, next_: Endpoint) -> Endpoint:
    """Request id, trace context and tenant; every error mapped to problem+json here, once.

    Over HTTP it also stamps `X-Request-Id`/`traceparent` on the answer and counts it by route
    template (a sub-request's answer goes back to its carrier, which does that for the call)."""
    observe, clock = app[METRICS].http.observe, time.perf_counter

    async def context(call: Call) -> web.StreamResponse:
        started = clock()
        token = None
        try:
            if call.context is None:
                call.context = context_from_headers(call.headers, call.query_if_any)
            token = use_context(call.context)
            response = await next_(call)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = _problem(exc, call)
        except Exception as exc:
            response = _problem(exc, call)
        finally:
            if token is not None:
                reset_context(token)
        if call.origin == "http":
            ctx = call.context or current_context()
            if ctx is not None:
                headers = response.headers
                headers["X-Request-Id"] = ctx.request_id
                headers["traceparent"] = ctx.traceparent
            observe(call.method, _template(call), response.status, clock() - started)
        return response

    return context


def _template(call: Call) -> str:
    if call.gate is not None:
        return f"{call.app_name}:{call.gate.path}"
    route = call.route
    return route.full_path if route is not None else "unmatched"


def _problem(exc: BaseException, call: Call) -> web.Response:
    problem = to_problem(exc)
    if problem.status >= 500 and not isinstance(exc, Problem):
        log.error("unhandled error", exc_info=exc, extra={"path": call.path, "method": call.method})
    ctx = call.context or current_context()
    return problem_response(
        problem, instance=call.path, request_id=ctx.request_id if ctx is not None else None
    )


# routing ----------------------------------------------------------------------------------------
def route_stage(app: web.Application, next_: Endpoint) -> Endpoint:
    """The internal router alone (the gateway's stage replaces this one when it is installed)."""
    router = app[PIPELINE].router  # the pipeline is built after every route is mounted

    async def route(call: Call) -> web.StreamResponse:
        resolve_internal(call, router)
        return await next_(call)

    return route


def resolve_internal(call: Call, router: Router[RouteDef]) -> None:
    """Match `call.location` against the internal routes: sets route and path parameters."""
    match = match_or_problem(router.match, call.method, call.location)
    call.route = match.target
    call.params = match.params


# identity and roles -----------------------------------------------------------------------------
def identity_stage(app: web.Application, next_: Endpoint) -> Endpoint:
    """One authenticator for every credential; a job's credential never works over HTTP."""
    auth = app[AUTH]
    proxies = app[SETTINGS].proxy_networks

    async def identity(call: Call) -> web.StreamResponse:
        if not call.identified:
            headers = call.headers
            if "Authorization" in headers or "X-API-Key" in headers:
                # Basic logins count failures per user and caller address, as the login does;
                # worked out only for them (not on every bearer-token call)
                basic = headers.get("Authorization", "")[:6].lower() == "basic "
                address = call.caller_address(proxies) if basic else call.origin
                call.identity = await auth.identify(headers, address)
                # a bound identity's tenant; 403 when X-Tenant names another (docs/tenants.md)
                assert call.context is not None  # the context stage ran
                call.context = bind_tenant(call.identity, headers, call.context)
            call.identified = True
        who = call.identity
        if who is not None and who.kind == "job" and call.origin == "http":
            raise Problem(401, "A job credential cannot be used over HTTP", headers=JOB_REALM)
        return await next_(call)

    return identity


def roles_stage(app: web.Application, next_: Endpoint) -> Endpoint:
    """401 without identity, 403 without a permitted role: the gateway route's, then the route's."""

    async def roles(call: Call) -> web.StreamResponse:
        gate = call.gate
        if gate is not None:
            check_roles(call.identity, gate.roles, public=gate.public)
        route = call.route
        assert route is not None  # routing ran
        if not route.public:
            check_roles(call.identity, route.roles)
        return await next_(call)

    return roles


# body -------------------------------------------------------------------------------------------
def body_stage(app: web.Application, next_: Endpoint) -> Endpoint:
    """Read the body now that the route (and so its limit) and the caller are known.

    A declared Content-Length over the limit is refused before reading a byte; a body that grows
    past it while streaming is refused as soon as it does. Callers without credentials get the
    small anonymous limit whatever the route allows."""
    settings = app[SETTINGS]
    default, anonymous = settings.max_body_bytes, settings.anonymous_max_body_bytes

    async def body(call: Call) -> web.StreamResponse:
        route = call.route
        assert route is not None
        limit = route.max_body if isinstance(route.max_body, int) else default
        if call.identity is None and limit > anonymous:
            limit = anonymous
        if call.body is None:
            raw = call.raw
            if raw is None or not raw.body_exists:  # most GETs: nothing to read, nothing to await
                call.body = b""
            else:
                call.body = await read_body(raw, limit)
        elif len(call.body) > limit:
            raise too_large(len(call.body), limit)
        return await next_(call)

    return body


def too_large(size: int, limit: int) -> Problem:
    return Problem(413, f"The request body is {size} bytes; the limit is {limit} bytes")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, refusing more than `limit` bytes with 413 before reading them all."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(declared, limit)
    if not request.body_exists:
        return b""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"The request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def validation_stage(app: web.Application, next_: Endpoint) -> Endpoint:
    """Typed query parameters (400 naming the parameter) and the JSON body (400/415/422)."""

    async def validation(call: Call) -> web.StreamResponse:
        route = call.route
        assert route is not None and call.body is not None
        if route.query is not None:
            call.validated_query = parse_query(route.query, call.query)
        if route.body is not None:
            value = call.parsed_json
            if value is None:
                content_type = call.headers.get("Content-Type", "").split(";", 1)[0]
                value = parse_json_body(call.body, content_type.strip().lower())
                call.parsed_json = value
            call.validated = route.body.model_validate(value)
        return await next_(call)

    return validation


# unit of work and handler -------------------------------------------------------------------------
class _Rollback(Exception):
    """Raised inside the unit of work to undo a handler that answered with an error status."""

    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response


def transaction_stage(app: web.Application, next_: Endpoint) -> Endpoint:
    """State-changing calls run in one unit of work, rolled back when the answer is an error."""

    async def transaction(call: Call) -> web.StreamResponse:
        route = call.route
        assert route is not None
        if call.method in SAFE_METHODS or not route.transaction:
            return await next_(call)
        try:
            async with unit_of_work():
                response = await next_(call)
                if response.status >= 400:
                    raise _Rollback(response)
        except _Rollback as rollback:
            return rollback.response
        return response

    return transaction


async def handler_endpoint(call: Call) -> web.StreamResponse:
    """The end of the chain: the plugin's handler, given the call as a read-only request.

    A handler that returns a JSON value is answered with it and the route's declared status."""
    route = call.route
    assert route is not None and call.context is not None and call.body is not None
    answer = await route.handler(ApiRequest(call))
    if type(answer) is web.Response or isinstance(answer, web.StreamResponse):  # (an ABC check)
        return answer
    return json_answer(answer, route.status)
