"""`Call`: what the pipeline knows about one call while it passes through, filled stage by stage.

The stages fill it in order (context, route, identity, body, validated value) and the last one turns
it into the read-only `ApiRequest` the handler sees. Calls come from the HTTP edge (`from_http`) or
from `subrequest` — the one builder for batch items, job items and the admin UI, with one header
policy — so a sub-request gets exactly what the same call would get alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy, MultiMapping

from host.auth import Identity
from host.context import RequestContext
from host.forwarded import Networks, client_address
from host.pipeline.routes import RouteDef

__all__ = (
    "ITEM_IDENTITY_HEADERS",
    "ITEM_IGNORED_HEADERS",
    "NOT_FORWARDED_TO_ITEMS",
    "Call",
    "carried_headers",
    "subrequest",
)

NOT_FORWARDED_TO_ITEMS = frozenset(
    {
        "content-type",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "host",
        "accept",
        "accept-encoding",
        "expect",
        "te",
        "upgrade",
        "idempotency-key",
        "prefer",
        "x-request-id",
        "traceparent",
        "tracestate",
    }
)
"""Headers that describe a carrying call itself (a batch, a job), never one of its items."""

ITEM_IDENTITY_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-app-name", "x-tenant"}
)
"""An item runs as its carrier's identity, tenant and app: it can never set its own."""

ITEM_IGNORED_HEADERS = frozenset(
    {
        "content-type",  # the item body is JSON whatever it says (Fineract sends text/html)
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "host",
        "expect",
        "te",
        "upgrade",
        "x-request-id",
        "traceparent",
        "tracestate",
        "x-mifos-platform-tenantid",  # Fineract's tenant header: the carrier's tenant applies
        "fineract-platform-tenantid",
    }
)
"""An item's headers that describe a wire, not a request: dropped."""


class Call:
    """Mutable, private to the pipeline: one call's state between stages (see the module doc)."""

    __slots__ = (
        "_query",
        "app",
        "app_name",
        "body",
        "context",
        "gate",
        "headers",
        "identified",
        "identity",
        "location",
        "method",
        "origin",
        "params",
        "parsed_json",
        "path",
        "raw",
        "route",
        "validated",
        "validated_query",
    )

    def __init__(
        self,
        app: web.Application,
        method: str,
        path: str,
        query: MultiMapping[str] | None,
        headers: CIMultiDictProxy[str],
        *,
        raw: web.Request | None = None,
        body: bytes | None = None,
        context: RequestContext | None = None,
        identity: Identity | None = None,
        identified: bool = False,
        app_name: str | None = None,
        origin: str = "http",
    ) -> None:
        self.app = app
        self.method = method
        self.path = path
        self._query = query
        """None over HTTP until read: most calls never look at their query string."""
        self.headers = headers
        self.raw = raw
        self.body = body
        """None until read (HTTP: read after routing, with the route's limit)."""
        self.context = context
        self.identity = identity
        self.identified = identified
        """True when the carrier decided the identity (batch and job items inherit theirs)."""
        self.app_name = app_name
        self.origin = origin
        self.route: RouteDef | None = None
        self.gate: Any = None
        """The gateway route that mapped this call, when a micro-app's table did."""
        self.location = path
        """The internal path the call resolves to (the mapped location behind a gateway)."""
        self.params: Mapping[str, str] = {}
        self.validated: Any = None
        self.validated_query: Any = None
        self.parsed_json: Any = None
        """The body as JSON once parsed (by the validation stage or `ApiRequest.json`), or as
        given by the carrier of a sub-request (`subrequest(json_value=...)`)."""

    @property
    def query(self) -> MultiMapping[str]:
        query = self._query
        if query is None:
            query = self._query = (
                self.raw.query if self.raw is not None else MultiDictProxy(MultiDict())
            )
        return query

    @property
    def query_if_any(self) -> MultiMapping[str] | None:
        """The query, or None without parsing anything when the URL has no query string."""
        raw = self.raw
        if self._query is None and raw is not None and not raw.rel_url.raw_query_string:
            return None
        return self.query

    def caller_address(self, proxies: Networks) -> str:
        """The caller's address for login throttles: the TCP peer, or the rightmost untrusted
        X-Forwarded-For hop when the peer is one of `proxies`; batch and job items count as their
        origin ("batch", "job")."""
        if self.raw is None:
            return self.origin
        return client_address(self.raw.remote, self.headers.getall("X-Forwarded-For", []), proxies)

    @classmethod
    def from_http(cls, app: web.Application, request: web.Request) -> Call:
        return cls(app, request.method, request.path, None, request.headers, raw=request)


def carried_headers(carrier: Mapping[str, str]) -> CIMultiDictProxy[str]:
    """The carrier's headers that pass on to its items: all but NOT_FORWARDED_TO_ITEMS (worked
    out once per carrier, not once per item)."""
    return CIMultiDictProxy(
        CIMultiDict(
            (name, value)
            for name, value in carrier.items()
            if name.lower() not in NOT_FORWARDED_TO_ITEMS
        )
    )


def subrequest(
    app: web.Application,
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]] | Mapping[str, str] = (),
    carried: CIMultiDictProxy[str] | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    json_body: bool = False,
    json_value: Any = None,
    context: RequestContext,
    identity: Identity | None,
    app_name: str | None = None,
    origin: str,
) -> Call:
    """A call made in-process on behalf of another one (a batch, a job, the admin UI).

    `carried` are the carrier's headers that pass on (`carried_headers`); `headers` are the
    item's own and win, except identity and wire headers (ITEM_IDENTITY_HEADERS and
    ITEM_IGNORED_HEADERS: the batch refuses the former up front, with the item named). The
    identity is the carrier's (decided already: never re-read from headers), and `json_body`
    marks a body the carrier serialised itself as JSON; `json_value`, when given, is that body
    as the value it was serialised from, so that the pipeline does not parse it back.
    """
    merged: CIMultiDict[str] = CIMultiDict(carried) if carried else CIMultiDict()
    for name, value in headers:
        lowered = name.lower()
        if lowered not in ITEM_IDENTITY_HEADERS and lowered not in ITEM_IGNORED_HEADERS:
            merged[name] = value
    if json_body and body:
        merged["Content-Type"] = "application/json"
    pairs: Iterable[tuple[str, str]] = query.items() if isinstance(query, Mapping) else query
    call = Call(
        app,
        method.upper(),
        path,
        MultiDictProxy(MultiDict(list(pairs))),
        CIMultiDictProxy(merged),
        body=body,
        context=context,
        identity=identity,
        identified=True,
        app_name=app_name,
        origin=origin,
    )
    if json_body and body:
        call.parsed_json = json_value
    return call
