"""The OpenAPI 3.1 document, built from the routes actually mounted (host and plugins).

Valid by construction (tests check it with openapi-spec-validator): operationIds are unique (a
handler mounted on two paths gets a suffix), each route's `openapi` fragment adds its real success
answers (201, 202, 204), header parameters (If-Match) and request schemas that are not a pydantic
model (the batch array, route files). A route's `response` gives the schema of its success body
(every 2xx but 204 has one, which the contract tests hold the server to); every error is the
`Problem` schema (RFC 9457 problem+json).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from host.loader import REGISTRY
from host.pipeline import PIPELINE, ApiRequest, ResponseSchema, RouteDef, Routes
from host.plugin import Plugin

__all__ = ("PROBLEM_SCHEMA", "Components", "answers", "build_document", "plugin")

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\*?\}")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

_COMPONENT = "#/components/schemas/{model}"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An error (RFC 9457); a problem type may add members (`errors`...)",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "requestId": {"type": "string"},
    },
}


class Components:
    """The document's `components.schemas`, filled as the routes are described.

    A model goes in under its own name, the models it uses under theirs. When a different schema
    already has that name (another plugin's `Resource`), this one becomes `<plugin>.<Name>`, and
    the references to it say so: two plugins' models never merge silently into one, wrong, schema.
    """

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}

    def schema_of(self, declared: ResponseSchema, owner: str, *, mode: JsonSchemaMode) -> Any:
        """A declared body's JSON Schema, as a `$ref` for a named model (a pydantic model, a
        TypedDict) and inline otherwise; a dict is taken as a JSON Schema already."""
        if isinstance(declared, Mapping):
            return dict(declared)
        schema = TypeAdapter(declared).json_schema(mode=mode)
        defs: dict[str, Any] = schema.pop("$defs", {})
        named = isinstance(declared, type) and (
            issubclass(declared, BaseModel) or hasattr(declared, "__required_keys__")  # TypedDict
        )
        if named:
            top = _UNSAFE.sub("_", declared.__name__)  # Paged[Client] -> Paged_Client_
            defs[top] = schema
            schema = {"$ref": f"#/$defs/{top}"}
        names = self._place(defs, owner)
        return _rewrite(schema, names)

    def _place(self, defs: dict[str, Any], owner: str) -> dict[str, str]:
        """Put `defs` in; returns each one's component name (qualified where another differs)."""
        qualified: set[str] = set()
        while True:  # qualifying one name changes the references of those that use it
            names = {n: f"{owner}.{n}" if n in qualified else n for n in defs}
            placed = {names[n]: _rewrite(sub, names) for n, sub in defs.items()}
            clash = {
                n for n in defs if self.schemas.get(names[n], placed[names[n]]) != placed[names[n]]
            }
            if clash <= qualified:
                break
            qualified |= clash
        for name, sub in placed.items():
            self.schemas.setdefault(name, sub)
        return names


def _rewrite(value: Any, names: Mapping[str, str]) -> Any:
    """`#/$defs/X` references as `#/components/schemas/<name of X>`."""
    if isinstance(value, dict):
        out = {k: _rewrite(v, names) for k, v in value.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = _COMPONENT.format(model=names[ref.removeprefix("#/$defs/")])
        return out
    if isinstance(value, list):
        return [_rewrite(v, names) for v in value]
    return value


def _per_status(route: RouteDef) -> dict[str, ResponseSchema]:
    """`response` by status: one schema is the `status` answer's; {202: X} names its statuses."""
    declared = route.response
    if declared is None:
        return {}
    if isinstance(declared, Mapping) and declared and all(isinstance(k, int) for k in declared):
        return {str(code): schema for code, schema in declared.items()}
    return {str(route.status): declared}  # type: ignore[dict-item]  # a schema, not a table


def _add_bodies(op: dict[str, Any], route: RouteDef, components: Components) -> None:
    """Give each answer its JSON body schema: the declared one for its status (a status only
    `response` names, such as a 503, is added), else the route's single `response` for every
    success (a route answering 200 or 201 alike shows one body for both)."""
    declared = _per_status(route)
    single = next(iter(declared.values())) if len(declared) == 1 else None
    responses = op["responses"]
    for code in declared:
        responses.setdefault(code, {"description": HTTPStatus(int(code)).phrase})
    for code, answer in responses.items():
        if code == "default" or code == "204" or (code not in declared and code[0] != "2"):
            continue
        schema = declared.get(code, single)
        content = dict(answer.get("content", {}))  # a copy: the route's fragment stays as declared
        if schema is not None and "application/json" not in content:
            content["application/json"] = {
                "schema": components.schema_of(schema, route.plugin, mode="serialization")
            }
        if content:
            answer["content"] = content


def hoist(name: str, schema: Mapping[str, Any], schemas: dict[str, Any]) -> dict[str, str]:
    """Put a standalone JSON Schema (with `$defs`, `$id`) into components as `name`, its `$defs`
    as `name_def`, rewriting its `#/$defs/...` references; returns the `$ref` to it."""
    defs = dict(schema.get("$defs", {}))
    prefix = "#/components/schemas/"

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: rewrite(v) for k, v in value.items() if k not in ("$defs", "$id", "$schema")}
            ref = out.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                out["$ref"] = f"{prefix}{name}_{ref.removeprefix('#/$defs/')}"
            return out
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        return value

    for sub, sub_schema in defs.items():
        schemas.setdefault(f"{name}_{sub}", rewrite(sub_schema))
    schemas.setdefault(name, rewrite(schema))
    return {"$ref": f"{prefix}{name}"}


def _merge(op: dict[str, Any], extra: Mapping[str, Any], schemas: dict[str, Any]) -> None:
    """`extra["schemas"]`: standalone JSON Schemas the fragment refers to as
    `#/components/schemas/<name>` (hoisted, see `hoist`)."""
    for name, schema in extra.get("schemas", {}).items():
        hoist(name, schema, schemas)
    responses = {code: dict(answer) for code, answer in extra.get("responses", {}).items()}
    if any(code.startswith("2") for code in responses):
        op["responses"].pop("200", None)  # the fragment names the real success answers
    op["responses"].update(responses)
    if extra.get("parameters"):
        op.setdefault("parameters", []).extend(extra["parameters"])
    for key, value in extra.items():
        if key not in ("responses", "parameters", "schemas"):
            op[key] = value


def _operation(route: RouteDef, components: Components) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{route.plugin}.{route.version or 'root'}.{route.handler.__name__}",
        "summary": route.summary,
        "tags": list(route.tags) or [route.plugin],
        "responses": {
            "default": {
                "description": "An error (RFC 9457)",
                "content": {"application/problem+json": {"schema": PROBLEM_REF}},
            },
            str(route.status): {"description": "Created" if route.status == 201 else "Success"},
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
        body = components.schema_of(route.body, route.plugin, mode="validation")
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if route.openapi:
        _merge(op, route.openapi, components.schemas)
    _add_bodies(op, route, components)
    return op


def build_document(routes: Sequence[RouteDef], plugins: list[dict[str, str]]) -> dict[str, Any]:
    components = Components()
    paths: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for route in sorted(routes, key=lambda r: (r.full_path, r.method)):
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.full_path)
        op = _operation(route, components)
        base, n = op["operationId"], 2
        while op["operationId"] in used:  # one handler on two paths (an alias)
            op["operationId"] = f"{base}_{n}"
            n += 1
        used.add(op["operationId"])
        paths.setdefault(path, {})[route.method.lower()] = op
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
            "schemas": components.schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


routes = Routes()


@routes.get(
    "/api/openapi.json",
    public=True,
    tags=("meta",),
    response={
        "type": "object",
        "description": "An OpenAPI 3.1 document",
        "required": ["openapi", "info", "paths"],
    },
)
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


def answers(*codes: int, description: str = "Success") -> dict[str, Any]:
    """An `openapi` fragment for a route whose success status is not 200."""
    return {"responses": {str(code): {"description": description} for code in codes}}
