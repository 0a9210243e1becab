"""Declaring endpoints: `Routes` collects `RouteDef`s with decorators; the pipeline mounts them.

A handler is `async def handler(request: ApiRequest[Body]) -> Answer` (a response, or a JSON value
answered with the route's `status`: host/pipeline/answer.py); declaring
`body=Model` makes the pipeline validate the JSON body into `request.validated` (typed `Body`);
`response=Model` says what a success answers, for the API document (`host/openapi.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from host.pipeline.answer import Answer

__all__ = ("Handler", "ResponseSchema", "RouteDef", "Routes")

Handler = Callable[[Any], Awaitable[Answer]]
"""`async def handler(request: ApiRequest[Body]) -> Answer` (the request type is in
host/pipeline/request.py, which refers to this module: a route is part of what a request carries)."""
H = TypeVar("H", bound=Callable[..., Awaitable[Answer]])
ResponseSchema = type[Any] | Mapping[str, Any]
"""The JSON body of a success answer: a pydantic model, anything pydantic can describe (a
TypedDict, `list[Model]`, `dict[str, int]`), or a JSON Schema written as a dict."""


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
    max_body: int | str | None = None
    """Body size limit for this endpoint; None means the server's PLUGHOST_MAX_BODY_BYTES; a
    setting's name (e.g. "batch_max_bytes") is resolved when the routes are mounted."""
    plugin: str = ""
    version: str = ""
    transaction: bool = True
    """State-changing calls run in a unit of work; False for endpoints that manage their own
    (the batch endpoint: each item is its own unit of work, or one enclosing transaction)."""
    status: int = 200
    """The success status the endpoint answers with (201 for creates), for the API document."""
    query: type[BaseModel] | None = None
    """Typed query parameters (host/pipeline/query.py): the handler reads `request.validated_query`."""
    response: ResponseSchema | Mapping[int, ResponseSchema] | None = field(
        default=None, hash=False, compare=False
    )
    """The body of the success answer (for `status`), or one per status ({200: A, 202: B}); the
    API document shows it, and the contract tests check answers against it."""
    openapi: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)
    """Merged into this endpoint's OpenAPI operation: `responses` (e.g. {"202": ...}),
    `parameters` (headers such as If-Match), a `requestBody` the `body` model does not give."""

    @property
    def full_path(self) -> str:
        return f"/api/{self.version}{self.path}" if self.version else self.path


class Routes:
    """A plugin's endpoints for one API version, declared with decorators:

    routes = Routes()

    @routes.post("/clients", roles=("clients:write",), body=NewClient, summary="Create a client")
    async def create_client(request: ApiRequest[NewClient]) -> web.Response: ...

    @routes.get("/clients/{id}", roles=("clients:read",), response=ClientView)
    async def read_client(request: ApiRequest[None]) -> Answer:   # e.g. a dict: 200 JSON

    @routes.get("/clients", query=ClientFilter)   # ?officeId=1 -> request.validated_query.officeId
    async def list_clients(request: ApiRequest[None]) -> web.Response: ...
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
        max_body: int | str | None = None,
        transaction: bool = True,
        status: int | None = None,
        query: type[BaseModel] | None = None,
        response: ResponseSchema | Mapping[int, ResponseSchema] | None = None,
        openapi: Mapping[str, Any] | None = None,
    ) -> Callable[[H], H]:
        if isinstance(roles, str):  # type: ignore[unreachable]  # a common slip, caught early
            raise TypeError(f"roles must be a tuple of role names, not the string {roles!r}")

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
                    status=status or 200,
                    query=query,
                    response=response,
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
