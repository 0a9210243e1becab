"""Context data carried by every request: request id, W3C trace context, tenant (seed 003).

Parsing is pure (`context_from_headers`); the current context also lives in a contextvar so that log
lines, outgoing calls and bus events pick it up without being handed it.
"""

from __future__ import annotations

import contextvars
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace

from host.problems import Problem

__all__ = (
    "DEFAULT_TENANT",
    "RequestContext",
    "context_from_headers",
    "current_context",
    "use_context",
)

DEFAULT_TENANT = "default"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    trace_flags: str
    tenant: str

    @property
    def traceparent(self) -> str:
        """The header to send on: same trace, this server's span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{self.trace_flags}"

    def child(self) -> RequestContext:
        """A context for a sub-request (batch item, proxied call): same trace, a new span."""
        return replace(self, span_id=secrets.token_hex(8), parent_span_id=self.span_id)


def new_request_id() -> str:
    return uuid.uuid4().hex


def context_from_headers(
    headers: Mapping[str, str], query: Mapping[str, str] | None = None
) -> RequestContext:
    """Accept the caller's ids when well-formed, create them otherwise; refuse a bad tenant.

    The tenant is `X-Tenant`; Fineract clients name it `Fineract-Platform-TenantId` or
    `?tenantIdentifier=`, used when `X-Tenant` is absent.
    """
    request_id = headers.get("X-Request-Id", "")
    if not _REQUEST_ID.match(request_id):
        request_id = new_request_id()
    match = _TRACEPARENT.match(headers.get("traceparent", "").strip().lower())
    if match and match.group(1) != "0" * 32 and match.group(2) != "0" * 16:
        trace_id, parent, flags = match.group(1), match.group(2), match.group(3)
    else:
        trace_id, parent, flags = secrets.token_hex(16), None, "01"
    tenant = (
        headers.get("X-Tenant", "").strip()
        or headers.get("Fineract-Platform-TenantId", "").strip()
        or (query or {}).get("tenantIdentifier", "").strip()
        or DEFAULT_TENANT
    )
    ctx = RequestContext(request_id, trace_id, secrets.token_hex(8), parent, flags, DEFAULT_TENANT)
    if not _TENANT.match(tenant):
        # build the context first so the error still carries the request id
        _current.set(ctx)
        raise Problem(
            400,
            "X-Tenant must be 1-64 characters: letters, digits, '_', '.', '-'",
            slug="invalid-tenant",
        )
    return replace(ctx, tenant=tenant)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "plughost_request_context", default=None
)


def current_context() -> RequestContext | None:
    return _current.get()


def use_context(ctx: RequestContext) -> contextvars.Token[RequestContext | None]:
    return _current.set(ctx)


def reset_context(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)
