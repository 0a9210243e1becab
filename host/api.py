"""What a REST handler sees: `Routes` to declare endpoints, `ApiRequest` to read a call.

A handler is `async def handler(request: ApiRequest) -> web.Response`. `ApiRequest` is the host's own
request type rather than aiohttp's, because the same handler must run for an HTTP call, for a batch
item and for a job item, all in-process: aiohttp's `web.Request` can only come from a socket.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from pydantic import BaseModel

from host.auth import Identity
from host.context import RequestContext
from host.json_limits import JSONTooComplex, loads
from host.problems import Problem

if TYPE_CHECKING:
    from host.bus import Bus

__all__ = ("ApiRequest", "Handler", "RouteDef", "Routes", "decode_json")

Handler = Callable[["ApiRequest"], Awaitable[web.StreamResponse]]
JSON_TYPES = ("application/json", "application/problem+json")
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True, slots=True)
class RouteDef:
    """One endpoint. `roles` empty means any authenticated identity; `public` means no identity."""

    method: str
    path: str
    handler: Handler
    roles: tuple[str, ...] = ()
    public: bool = False
    body: type[BaseModel] | None = None
    summary: str = ""
    tags: tuple[str, ...] = ()
    max_body: int | None = None
    """Body size limit for this endpoint; None means the server's PLUGHOST_MAX_BODY_BYTES."""
    plugin: str = ""
    version: str = ""
    transaction: bool = True
    """State-changing calls run in a unit of work; False for endpoints that manage their own
    (the batch endpoint: each item is its own unit of work, or one enclosing transaction)."""
    openapi: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)
    """Merged into this endpoint's OpenAPI operation: `responses` (e.g. {"201": ...}),
    `parameters` (headers such as If-Match), a `requestBody` the `body` model does not give."""

    @property
    def full_path(self) -> str:
        return f"/api/{self.version}{self.path}" if self.version else self.path


class Routes:
    """A plugin's endpoints for one API version, declared with decorators:

    routes = Routes()

    @routes.post("/clients", roles=("clients:write",), body=NewClient, summary="Create a client")
    async def create_client(request: ApiRequest) -> web.Response: ...
    """

    def __init__(self) -> None:
        self.defs: list[RouteDef] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        roles: tuple[str, ...] | list[str] = (),
        public: bool = False,
        body: type[BaseModel] | None = None,
        summary: str = "",
        tags: tuple[str, ...] = (),
        max_body: int | None = None,
        transaction: bool = True,
        openapi: Mapping[str, Any] | None = None,
    ) -> Callable[[H], H]:
        def register(handler: H) -> H:
            self.defs.append(
                RouteDef(
                    method=method.upper(),
                    path=path,
                    handler=handler,
                    roles=tuple(roles),
                    public=public,
                    body=body,
                    summary=summary or (handler.__doc__ or "").strip().split("\n")[0],
                    tags=tags,
                    max_body=max_body,
                    transaction=transaction,
                    openapi=openapi,
                )
            )
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[H], H]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[H], H]:
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[H], H]:
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[H], H]:
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[H], H]:
        return self.route("DELETE", path, **kw)


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


@dataclass(eq=False)
class ApiRequest:
    """One call into the internal API, whatever carried it (HTTP, batch item, job item)."""

    method: str
    path: str
    query: MultiDictProxy[str]
    headers: CIMultiDictProxy[str]
    body: bytes
    context: RequestContext
    identity: Identity | None
    app: web.Application
    app_name: str | None = None
    """The micro-app (routes.d) this call came through, if any."""
    match_info: dict[str, str] = field(default_factory=dict)
    route: RouteDef | None = None
    validated: Any = None
    """The body parsed into the route's `body` model, when it declares one."""
    raw: web.Request | None = None
    """The aiohttp request for calls that came over HTTP (None for batch and job items)."""
    origin: str = "http"
    _json: Any = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        *,
        method: str,
        path: str,
        query: Mapping[str, str] | MultiDict[str] | None = None,
        headers: Mapping[str, str] | CIMultiDict[str] | None = None,
        body: bytes = b"",
        context: RequestContext,
        identity: Identity | None,
        app: web.Application,
        **kw: Any,
    ) -> ApiRequest:
        return cls(
            method=method.upper(),
            path=path,
            query=MultiDictProxy(MultiDict(query or {})),
            headers=CIMultiDictProxy(CIMultiDict(headers or {})),
            body=body,
            context=context,
            identity=identity,
            app=app,
            **kw,
        )

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
        if self._json is not None:
            return self._json
        if not self.body.strip():
            raise Problem(400, "The request body is empty; a JSON document is expected")
        if self.content_type and self.content_type not in JSON_TYPES:
            raise Problem(
                415,
                f"Content-Type {self.content_type!r} is not supported; send application/json",
            )
        self._json = decode_json(self.body)
        return self._json

    @property
    def bus(self) -> Bus:
        from host.keys import BUS

        return self.app[BUS]

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Publish a domain event; inside a transaction it is delivered only after commit."""
        await self.bus.publish(topic, dict(payload))
