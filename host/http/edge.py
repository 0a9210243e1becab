"""The HTTP edge: the one aiohttp handler for every path the host serves itself.

It only turns an aiohttp request into a pipeline `Call`; the headers are all that is read here.
Everything else (context, routing, identity, limits, body, errors) is a pipeline stage, so an HTTP
call, a batch item and a job item go through the same pass.

aiohttp reaches it through `EveryPath`, a resource that matches any path without looking at it:
the pipeline does its own routing, so a catch-all pattern (`/{tail:.*}`) would only cost a regular
expression and an unquoted copy of the path per request (measured: about 7,500 instructions of
the ~54,000 a bare aiohttp request costs; docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from yarl import URL

from host.pipeline import PIPELINE
from host.pipeline.call import Call

__all__ = ("EveryPath", "http_edge")


def http_edge(app: web.Application) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler for `app`'s own paths (/api, /apps, /graphql, /healthz...): one pass
    of `app`'s pipeline per request (its chain is composed when the app starts)."""
    pipeline = app[PIPELINE]
    from_http = Call.from_http

    async def edge(request: web.Request) -> web.StreamResponse:
        return await pipeline.run(from_http(app, request))

    return edge


_NO_PARAMETERS: dict[str, str] = {}  # aiohttp copies it into each request's match_info


class EveryPath(web.Resource):
    """An aiohttp resource that matches every path, for any method, with no match parameters.

    Registered last at the root, so aiohttp's own resources (the admin UI's sub-app) still win for
    their prefixes: aiohttp looks a path up by its longest known prefix first and `/` last.
    """

    def __init__(self, handler: Any) -> None:
        super().__init__(name=None)
        self.add_route("*", handler)

    @property
    def canonical(self) -> str:
        return "/"

    def _match(self, path: str) -> dict[str, str]:
        return _NO_PARAMETERS

    def raw_match(self, path: str) -> bool:
        return False  # never merged with a resource added later for some path

    def add_prefix(self, prefix: str) -> None:
        raise RuntimeError("EveryPath is the host's root resource; it is never nested")

    def get_info(self) -> dict[str, Any]:  # type: ignore[override]
        return {"path": "/*"}

    def url_for(self) -> URL:  # type: ignore[override]
        return URL.build(path="/")

    def __repr__(self) -> str:
        return "<EveryPath: the host's pipeline>"
