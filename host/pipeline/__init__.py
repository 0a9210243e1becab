"""The request pipeline: the request type, route declarations, the routing trie and the one pass
that every call (HTTP, batch item, job item) goes through. See docs/design.md, "Request path"."""

from host.pipeline.answer import Answer, json_answer
from host.pipeline.call import Call, carried_headers, subrequest
from host.pipeline.errors import match_or_problem, to_problem
from host.pipeline.pipeline import (
    PIPELINE,
    Endpoint,
    Pipeline,
    PipelineFrozen,
    StageFactory,
    build_router,
    response_json_bytes,
)
from host.pipeline.request import ApiRequest, decode_json
from host.pipeline.routes import Handler, ResponseSchema, RouteDef, Routes

__all__ = (
    "PIPELINE",
    "Answer",
    "ApiRequest",
    "Call",
    "Endpoint",
    "Handler",
    "Pipeline",
    "PipelineFrozen",
    "ResponseSchema",
    "RouteDef",
    "Routes",
    "StageFactory",
    "build_router",
    "carried_headers",
    "decode_json",
    "json_answer",
    "match_or_problem",
    "response_json_bytes",
    "subrequest",
    "to_problem",
)
