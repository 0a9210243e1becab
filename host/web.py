"""The HTTP edge: aiohttp middleware and the handler that feeds `/api/...` into the pipeline.

Only HTTP concerns live here (reading the body within limits, context headers, metrics, turning any
escaped exception into problem+json); everything about what a call means is in the pipeline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import CIMultiDict, MultiDict

from host.api import ApiRequest
from host.auth import bind_tenant
from host.context import (
    RequestContext,
    context_from_headers,
    current_context,
    new_request_id,
    reset_context,
    use_context,
)
from host.keys import AUTH, METRICS, PIPELINE
from host.pipeline import to_problem
from host.problems import Problem, problem_response

__all__ = ("api_entry", "context_middleware", "read_body")

log = logging.getLogger("plughost.http")


@web.middleware
async def context_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Request id, trace context and tenant for every request; problem+json for every error."""
    started = time.perf_counter()
    token = None
    try:
        ctx = context_from_headers(request.headers)
        token = use_context(ctx)
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _error(exc, request)
    except Exception as exc:
        response = _error(exc, request)
    finally:
        ctx_now = current_context()
        if token is not None:
            reset_context(token)
    ctx = ctx_now or _fallback_context()
    response.headers["X-Request-Id"] = ctx.request_id
    response.headers["traceparent"] = ctx.traceparent
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    metrics = request.app[METRICS]
    metrics.requests.labels(request.method, route, f"{response.status // 100}xx").inc()
    metrics.latency.labels(route).observe(time.perf_counter() - started)
    return response


def _fallback_context() -> RequestContext:
    return context_from_headers({"X-Request-Id": new_request_id()})


def _error(exc: BaseException, request: web.Request) -> web.Response:
    problem = to_problem(exc)
    if problem.status >= 500 and not isinstance(exc, Problem):
        log.error("unhandled error", exc_info=exc, extra={"path": request.path})
    ctx = current_context()
    return problem_response(
        problem, instance=request.path, request_id=ctx.request_id if ctx else None
    )


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, refusing more than `limit` bytes with 413 before reading them all."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Problem(413, f"The request body is {declared} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"The request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def api_entry(request: web.Request) -> web.StreamResponse:
    """Every /api/... call: read, identify, then hand over to the pipeline."""
    app = request.app
    pipeline = app[PIPELINE]
    ctx = current_context()
    assert ctx is not None  # set by context_middleware
    body = await read_body(request, pipeline.max_body_bytes())
    identity = await app[AUTH].identify(request.headers)
    ctx = bind_tenant(identity, request.headers, ctx)  # 403 for another tenant (issue 12 #8)
    api_request = ApiRequest.build(
        method=request.method,
        path=request.path,
        query=MultiDict(request.query),
        headers=CIMultiDict(request.headers),
        body=body,
        context=ctx,
        identity=identity,
        app=app,
        raw=request,
    )
    return await pipeline.handle(api_request)
