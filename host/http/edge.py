"""The HTTP edge: the one aiohttp handler for every path the host serves itself.

It only turns an aiohttp request into a pipeline `Call`; the headers are all that is read here.
Everything else (context, routing, identity, limits, body, errors) is a pipeline stage, so an HTTP
call, a batch item and a job item go through the same pass.
"""

from __future__ import annotations

from aiohttp import web

from host.pipeline import PIPELINE
from host.pipeline.call import Call

__all__ = ("edge",)


async def edge(request: web.Request) -> web.StreamResponse:
    """Every call to the host's own paths (/api, /apps, /graphql, /healthz...): one pass."""
    app = request.app
    return await app[PIPELINE].run(Call.from_http(app, request))
