"""The OpenAPI 3.1 document, built from the routes actually mounted (host and plugins)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from host.loader import REGISTRY
from host.pipeline import PIPELINE, ApiRequest, RouteDef, Routes
from host.plugin import Plugin

__all__ = ("build_document", "plugin")

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\*?\}")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "requestId": {"type": "string"},
    },
}


def _operation(route: RouteDef, schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{route.plugin}.{route.version or 'root'}.{route.handler.__name__}",
        "summary": route.summary,
        "tags": list(route.tags) or [route.plugin],
        "responses": {
            "default": {
                "description": "An error (RFC 9457)",
                "content": {"application/problem+json": {"schema": PROBLEM_REF}},
            },
            "200": {"description": "Success"},
        },
    }
    params = _PARAM.findall(route.path)
    if params:
        op["parameters"] = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in params
        ]
    if route.query is not None:  # typed query parameters, one entry per model field
        schema = route.query.model_json_schema()
        required = set(schema.get("required", []))
        op.setdefault("parameters", []).extend(
            {"name": n, "in": "query", "required": n in required, "schema": s}
            for n, s in schema.get("properties", {}).items()
        )
    if route.public:
        op["security"] = []
    else:
        op["security"] = [{"bearer": []}, {"apiKey": []}]
        if route.roles:
            op["x-roles"] = list(route.roles)
    if route.body is not None:
        name = route.body.__name__
        schema = route.body.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub_name, sub in schema.pop("$defs", {}).items():
            schemas.setdefault(sub_name, sub)
        schemas.setdefault(name, schema)
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }
    return op


def build_document(routes: Sequence[RouteDef], plugins: list[dict[str, str]]) -> dict[str, Any]:
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for route in sorted(routes, key=lambda r: (r.full_path, r.method)):
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.full_path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "plughost API",
            "version": "1",
            "description": "Host and plugin endpoints; errors are application/problem+json.",
        },
        "x-plugins": plugins,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


routes = Routes()


@routes.get("/api/openapi.json", public=True, tags=("meta",))
async def openapi_document(request: ApiRequest) -> web.Response:
    """The OpenAPI document of this server."""
    pipeline = request.app[PIPELINE]
    plugins = [{"name": p.name, "version": p.version} for p in request.app[REGISTRY].loaded]
    return web.json_response(build_document(pipeline.routes, plugins))


plugin = Plugin(
    name="host_openapi",
    version="1",
    rest={"": routes},
    description="The OpenAPI document of every mounted endpoint",
)
