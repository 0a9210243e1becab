"""The request pipeline: the request type, route declarations, the routing trie and the one pass
that every call (HTTP, batch item, job item) goes through. See docs/design.md, "Request path"."""

from host.pipeline.pipeline import (
    PIPELINE,
    CallNext,
    Pipeline,
    Stage,
    build_router,
    match_or_problem,
    to_problem,
)
from host.pipeline.request import ApiRequest, Handler, RouteDef, Routes, decode_json

__all__ = (
    "PIPELINE",
    "ApiRequest",
    "CallNext",
    "Handler",
    "Pipeline",
    "RouteDef",
    "Routes",
    "Stage",
    "build_router",
    "decode_json",
    "match_or_problem",
    "to_problem",
)
