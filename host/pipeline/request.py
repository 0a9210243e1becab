"""What a handler sees: `ApiRequest`, one call into the internal API whatever carried it.

`ApiRequest` is the host's own request type rather than aiohttp's, because the same handler must run
for an HTTP call, a batch item and a job item, all in-process: aiohttp's `web.Request` can only come
from a socket. It is immutable and generic in its body: `ApiRequest[NewClient]` has
`validated: NewClient`. The pipeline builds one per call, once its route, identity and body are known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, cast

from aiohttp import web
from multidict import CIMultiDictProxy, MultiMapping
from typing_extensions import TypeVar

from host.auth import Identity
from host.bus import BUS
from host.config import SETTINGS
from host.context import RequestContext
from host.json_limits import JSONTooComplex, loads
from host.pipeline.call import Call
from host.pipeline.routes import RouteDef
from host.problems import Problem

if TYPE_CHECKING:
    from host.bus import Bus

__all__ = ("JSON_TYPES", "ApiRequest", "decode_json")

JSON_TYPES = ("application/json", "application/problem+json")
Body = TypeVar("Body", default=None)
"""`ApiRequest[NewClient]` for a route with `body=NewClient`; plain `ApiRequest` for one without."""


def decode_json(raw: bytes, *, what: str = "The request body", strict: bool = True) -> Any:
    """JSON from a client, or a 400 problem saying where it is malformed (line and column).

    `strict=False` accepts raw line breaks and tabs inside strings, as Fineract's reader does.
    Valid JSON nested too deep or with a too long integer is a 400 too (host/json_limits.py).
    """
    try:
        return loads(raw, strict=strict)
    except JSONTooComplex as exc:
        raise Problem(400, f"{what} is too complex: {exc}", slug="json-too-complex") from None
    except UnicodeDecodeError:
        raise Problem(400, f"{what} is not valid UTF-8", slug="malformed-json") from None
    except json.JSONDecodeError as exc:
        raise Problem(
            400,
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            slug="malformed-json",
        ) from None


class ApiRequest(Generic[Body]):
    """One call into the internal API (HTTP, batch item, job item, admin UI): read-only.

    A read-only view of the pipeline's `Call` once every stage before the handler has run (the
    call no longer changes then): building it is one assignment, not a copy of sixteen fields
    per request (docs/performance.md).

    Sub-requests are not copies of this object: they are built by `host.pipeline.call.subrequest`
    (one header policy for batch and job items) and run through the whole pipeline.
    """

    __slots__ = ("_call",)

    _call: Call

    def __init__(self, call: Call) -> None:
        object.__setattr__(self, "_call", call)

    @property
    def method(self) -> str:
        return self._call.method

    @property
    def path(self) -> str:
        """The internal path (after a gateway mapping: the mapped location)."""
        return self._call.location

    @property
    def query(self) -> MultiMapping[str]:
        return self._call.query

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._call.headers

    @property
    def body(self) -> bytes:
        return self._call.body or b""

    @property
    def context(self) -> RequestContext:
        context = self._call.context
        assert context is not None  # the context stage ran
        return context

    @property
    def identity(self) -> Identity | None:
        return self._call.identity

    @property
    def app(self) -> web.Application:
        return self._call.app

    @property
    def app_name(self) -> str | None:
        """The micro-app (routes.d) this call came through, if any."""
        return self._call.app_name

    @property
    def match_info(self) -> Mapping[str, str]:
        return self._call.params

    @property
    def route(self) -> RouteDef:
        route = self._call.route
        assert route is not None  # routing ran
        return route

    @property
    def validated(self) -> Body:
        """The body parsed into the route's `body` model (None when the route declares none)."""
        return cast("Body", self._call.validated)

    @property
    def validated_query(self) -> Any:
        """The query string parsed into the route's `query` model (None when it declares none)."""
        return self._call.validated_query

    @property
    def raw(self) -> web.Request | None:
        """The aiohttp request for calls that came over HTTP (None for batch and job items)."""
        return self._call.raw

    @property
    def origin(self) -> str:
        return self._call.origin

    @property
    def caller_address(self) -> str:
        """The caller's address (for login throttles): the TCP peer, or the rightmost untrusted
        X-Forwarded-For hop behind one of PLUGHOST_TRUSTED_PROXIES; items count as their origin."""
        return self._call.caller_address(self.app[SETTINGS].proxy_networks)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ApiRequest is read-only; cannot set {name!r}")

    def __repr__(self) -> str:
        return f"<ApiRequest {self.method} {self.path} origin={self.origin}>"

    @property
    def tenant(self) -> str:
        return self.context.tenant

    @property
    def request_id(self) -> str:
        return self.context.request_id

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    async def json(self) -> Any:
        """The body as JSON; 415 for another media type, 400 with line and column when malformed."""
        call = self._call
        if call.parsed_json is None:
            call.parsed_json = parse_json_body(self.body, self.content_type)
        return call.parsed_json

    @property
    def bus(self) -> Bus:
        return self.app[BUS]

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Publish a domain event; inside a transaction it is delivered only after commit."""
        await self.bus.publish(topic, dict(payload))


def parse_json_body(body: bytes, content_type: str) -> Any:
    """A request body as JSON: 400 when empty or malformed, 415 for another media type."""
    if not body.strip():
        raise Problem(400, "The request body is empty; a JSON document is expected")
    if content_type and content_type not in JSON_TYPES:
        raise Problem(
            415,
            f"Content-Type {content_type!r} is not supported; send application/json",
        )
    return decode_json(body)
