"""Context data carried by every request: request id, W3C trace context, tenant (seed 003).

Parsing is pure (`context_from_headers`); the current context also lives in a contextvar so that log
lines, outgoing calls and bus events pick it up without being handed it.
"""

from __future__ import annotations

import contextvars
import os
import random
import re
from collections.abc import Mapping
from typing import Final

from host.problems import Problem

__all__ = (
    "DEFAULT_TENANT",
    "RequestContext",
    "context_for",
    "context_from_headers",
    "current_context",
    "use_context",
)

DEFAULT_TENANT = "default"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class RequestContext:
    """Immutable (attributes are `Final`: mypy refuses an assignment).

    A plain slotted class rather than a frozen dataclass: one is built per request, and a frozen
    dataclass sets each field through `object.__setattr__` (measured: a tenth of the context
    stage; docs/performance.md).
    """

    __slots__ = ("parent_span_id", "request_id", "span_id", "tenant", "trace_flags", "trace_id")

    def __init__(
        self,
        request_id: str,
        trace_id: str,
        span_id: str,
        parent_span_id: str | None,
        trace_flags: str,
        tenant: str,
    ) -> None:
        self.request_id: Final = request_id
        self.trace_id: Final = trace_id
        self.span_id: Final = span_id
        self.parent_span_id: Final = parent_span_id
        self.trace_flags: Final = trace_flags
        self.tenant: Final = tenant

    def __repr__(self) -> str:
        return (
            f"RequestContext(request_id={self.request_id!r}, trace_id={self.trace_id!r}, "
            f"span_id={self.span_id!r}, tenant={self.tenant!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RequestContext):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[str | None, ...]:
        return (
            self.request_id,
            self.trace_id,
            self.span_id,
            self.parent_span_id,
            self.trace_flags,
            self.tenant,
        )

    @property
    def traceparent(self) -> str:
        """The header to send on: same trace, this server's span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{self.trace_flags}"

    def child(self) -> RequestContext:
        """A context for a sub-request (batch item, proxied call): same trace, a new span."""
        return RequestContext(
            self.request_id,
            self.trace_id,
            new_span_id(),
            self.span_id,
            self.trace_flags,
            self.tenant,
        )

    def with_tenant(self, tenant: str) -> RequestContext:
        """The same context in another tenant (an identity bound to one: host/auth)."""
        return RequestContext(
            self.request_id,
            self.trace_id,
            self.span_id,
            self.parent_span_id,
            self.trace_flags,
            tenant,
        )


# Ids are unique, not secret: a per-process PRNG seeded from the OS (and re-seeded in forked
# children) costs a tenth of uuid4/secrets, which read the OS's entropy on every request.
_ids = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _ids.seed(os.urandom(32)))


def new_request_id() -> str:
    """32 hex digits, like a uuid4 without dashes."""
    return _ids.getrandbits(128).to_bytes(16).hex()


def new_trace_id() -> str:
    return _ids.getrandbits(128).to_bytes(16).hex()


def new_span_id() -> str:
    return _ids.getrandbits(64).to_bytes(8).hex()


def context_from_headers(
    headers: Mapping[str, str], query: Mapping[str, str] | None = None
) -> RequestContext:
    """Accept the caller's ids when well-formed, create them otherwise; refuse a bad tenant.

    The tenant is `X-Tenant`; Fineract clients name it `Fineract-Platform-TenantId` or
    `?tenantIdentifier=`, used when `X-Tenant` is absent.
    """
    traceparent = headers.get("traceparent")
    match = _TRACEPARENT.match(traceparent.strip().lower()) if traceparent else None
    if match and match.group(1) != "0" * 32 and match.group(2) != "0" * 16:
        trace_id, parent, flags = match.group(1), match.group(2), match.group(3)
        span_id = new_span_id()
    else:  # a new trace: its id and this server's span from one random number
        ids = _ids.getrandbits(192).to_bytes(24).hex()
        trace_id, span_id, parent, flags = ids[:32], ids[32:], None, "01"
    request_id = headers.get("X-Request-Id")
    if request_id is None or not _REQUEST_ID.match(request_id):
        # a new trace's id is as unique as a new request id: one random number, not two
        request_id = trace_id if parent is None else new_request_id()
    tenant = (
        (headers.get("X-Tenant") or "").strip()
        or (headers.get("Fineract-Platform-TenantId") or "").strip()
        or ((query or {}).get("tenantIdentifier") or "").strip()
        or DEFAULT_TENANT
    )
    if tenant is not DEFAULT_TENANT and not _TENANT.match(tenant):
        # set a context first so the error still carries the request id
        _current.set(RequestContext(request_id, trace_id, span_id, parent, flags, DEFAULT_TENANT))
        raise Problem(
            400,
            "X-Tenant must be 1-64 characters: letters, digits, '_', '.', '-'",
            slug="invalid-tenant",
        )
    return RequestContext(request_id, trace_id, span_id, parent, flags, tenant)


def context_for(tenant: str, request_id: str | None = None) -> RequestContext:
    """A context for work that no HTTP call carries (a bus handler, a broker message): its tenant,
    and the request id of the call that caused it when known (so log lines join up)."""
    trace_id = new_trace_id()
    return RequestContext(request_id or trace_id, trace_id, new_span_id(), None, "01", tenant)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "plughost_request_context", default=None
)


# The context variable's own methods, not wrappers: the context stage calls them on every request.
current_context = _current.get
"""The current request's context, or None outside any request."""
use_context = _current.set
"""Make a context current (None: outside any request); returns the token `reset_context` takes."""
reset_context = _current.reset
"""Undo a `use_context` with the token it returned."""
