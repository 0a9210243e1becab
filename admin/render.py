"""Rendering: pages with the common context, and errors as readable pages (never tracebacks)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin.state import ADMIN_USER
from host.context import current_context
from host.pipeline import to_problem

__all__ = ("error_middleware", "page")

log = logging.getLogger("plughost.admin")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def page(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """Render a template with the signed-in user, the CSRF token and the current section."""
    user = request.get(ADMIN_USER)
    values = {
        "user": user,
        "csrf": getattr(user, "csrf", ""),
        "section": request.path.split("/")[2] if request.path.count("/") >= 2 else "",
        "request_id": getattr(current_context(), "request_id", ""),
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, values, status=status)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn any error inside /admin into an HTML page a person can read."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        problem = to_problem(exc)
    except Exception as exc:
        problem = to_problem(exc)
        if problem.status >= 500:
            log.error("admin page failed", exc_info=exc, extra={"path": request.path})
    response = page(
        request,
        "error.html",
        {"status": problem.status, "title": problem.title, "detail": problem.detail},
        status=problem.status,
    )
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response
