"""What a handler returns: an aiohttp response, or a JSON value the pipeline answers with.

    @routes.get("/clients/{id}", response=ClientView)
    async def read_client(request: ApiRequest) -> Answer:
        return client_view(await get_or_404(Client, request.match_info["id"]))   # a dict

A dict, a list or a pydantic model is answered as `application/json` with the route's declared
`status` (200, or 201 for a create); a handler that needs headers (ETag, Location) or another
status returns a `web.Response` as before. Encoded by orjson: measured with callgrind, aiohttp's
`json_response` over the standard library costs about 20,000 instructions per answer of the
~54,000 a whole bare aiohttp request costs, orjson a small fraction of that (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel

__all__ = ("Answer", "json_answer")

Answer = web.StreamResponse | Mapping[str, Any] | Sequence[Any] | BaseModel
"""A handler's result: a response as is, or a JSON value (a dict, a list, a pydantic model)."""


def _default(value: object) -> Any:
    """What orjson does not encode itself: pydantic models (as their JSON form)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_answer(value: object, status: int = 200) -> web.Response:
    """`value` as an application/json response (UTF-8, as RFC 8259 requires: no charset)."""
    return web.Response(
        body=orjson.dumps(value, default=_default),
        status=status,
        content_type="application/json",
    )
