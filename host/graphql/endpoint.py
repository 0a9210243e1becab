"""GraphQL at `/graphql`: one schema merged from every plugin's SDL, same auth as REST.

`install(app)` checks the plugins' SDL at once (a plugin whose fragment does not build is skipped
with the reason before anything is mounted) and builds the final schema at start-up, after plugin
set-up, from the plugins that survived. Requests: `POST /graphql` with `{query, variables,
operationName}` or `GET /graphql?query=...` (queries only); a browser's GET gets a small query page.

Resolvers are `async def resolve(parent, info, **args)`; `info.context` is a `GraphQLContext`
(identity, tenant, request id, per-request batch loaders). A resolver raising `Problem` (or
`require_roles` failing) becomes a GraphQL error with `extensions.code`; never a traceback.
Each Mutation field runs in its own `unit_of_work()`: bus events go out after its commit.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import re
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import ASTValidationRule

from host.auth import Identity, unauthenticated
from host.bus import BUS
from host.config import SETTINGS
from host.data.db import unit_of_work
from host.graphql.cost import CostExceeded, CostLimits, check_limits
from host.graphql.loaders import BatchFn, DataLoader
from host.graphql.schema import Fragment, MergeFailure, build_merged_schema
from host.loader import REGISTRY, PluginRegistry
from host.pipeline import ApiRequest, Routes, decode_json, to_problem
from host.plugin import HEALTH, Plugin
from host.problems import Problem

__all__ = ("GRAPHQL", "GraphQLContext", "GraphQLState", "plugin")

log = logging.getLogger("plughost.graphql")
PAGE = Path(__file__).resolve().parent / "static" / "graphiql" / "index.html"
PAGE_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@dataclass
class GraphQLState:
    """What the app holds for GraphQL; `schema` is set once at start-up (a mutable holder)."""

    schema: GraphQLSchema | None = None
    rules: tuple[type[ASTValidationRule], ...] = ()
    max_tokens: int = 5000
    max_chars: int = 100_000
    limits: CostLimits = field(default_factory=lambda: CostLimits(8, 1000, 50))
    timeout: float = 10.0
    """Seconds a query may run (resolvers, loaders) before it is cancelled and refused."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Plugins skipped because their GraphQL part does not fit, with the reason."""


GRAPHQL = web.AppKey("graphql", GraphQLState)


@dataclass
class GraphQLContext:
    """`info.context` in every resolver: who calls, for which tenant, and per-request loaders."""

    app: web.Application
    identity: Identity
    tenant: str
    request_id: str
    request: web.Request | None = None
    loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)

    def loader(
        self, batch_fn: BatchFn[Any, Any], key: Hashable | None = None
    ) -> DataLoader[Any, Any]:
        """The request's DataLoader for `batch_fn` (created on first use, shared by all fields)."""
        key = batch_fn if key is None else key
        existing = self.loaders.get(key)
        if existing is None:
            existing = self.loaders[key] = DataLoader(batch_fn)
        return existing

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Publish on the bus; inside a mutation it is delivered after that field commits."""
        await self.app[BUS].publish(topic, dict(payload))


# errors ---------------------------------------------------------------------------------------
def _code(problem: Problem) -> str:
    return problem.type.rsplit("/", 1)[-1].upper().replace("-", "_")


def format_error(error: GraphQLError, default_code: str) -> dict[str, Any]:
    """A GraphQL error as the client sees it: message, locations, path, extensions.code."""
    out: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        extensions: dict[str, Any] = dict(error.extensions or {})
        extensions.setdefault("code", default_code)
    else:
        problem = to_problem(original)
        if problem.status >= 500 and not isinstance(original, Problem):
            log.error("resolver failed", exc_info=original, extra={"path": error.path})
        out["message"] = problem.detail
        extensions = {"code": _code(problem), "status": problem.status, **problem.extra}
    out["extensions"] = extensions
    return out


def _errors_response(errors: list[GraphQLError], code: str, status: int = 400) -> web.Response:
    body = {"errors": [format_error(e, code) for e in errors]}
    return web.json_response(body, status=status)


def refused(code: str, message: str, **extensions: Any) -> Problem:
    """A query refused before it runs (too large, deep, complex, slow): a 400 problem+json that
    also carries a GraphQL `errors` list, so both kinds of client read the reason."""
    return Problem(
        400,
        message,
        slug=code.lower().replace("_", "-"),
        errors=[{"message": message, "extensions": {"code": code, **extensions}}],
    )


# execution ------------------------------------------------------------------------------------
async def run_query(
    app: web.Application,
    *,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: GraphQLContext,
    allow_mutation: bool = True,
) -> web.Response:
    """Parse (size and token limits), measure (depth, selections, aliases after fragment
    expansion), validate, execute within the time budget; answer like GraphQL-over-HTTP.

    The limits are checked in that order so that each costs little: nothing hostile reaches the
    (super-linear) validation rules or the executor.
    """
    state = app[GRAPHQL]
    if state.schema is None:
        raise Problem(503, "The GraphQL schema is not ready")
    if len(query) > state.max_chars:
        raise refused(
            "QUERY_TOO_LARGE",
            f"The query has {len(query)} characters; the maximum is {state.max_chars}",
        )
    try:
        document = parse(
            query, max_lexical_tokens=state.max_tokens, allow_empty_selection_sets=False
        )
    except GraphQLError as exc:
        if "tokens" in exc.message:
            raise refused("QUERY_TOO_LARGE", exc.message) from None
        return _errors_response([exc], "GRAPHQL_PARSE_FAILED")
    try:
        check_limits(document, state.limits)
    except CostExceeded as exc:
        raise refused(exc.code, exc.message, **exc.extensions) from None
    errors = validate(state.schema, document, rules=state.rules, allow_empty_selection_sets=False)
    if errors:
        return _errors_response(errors, "GRAPHQL_VALIDATION_FAILED")
    operation = get_operation_ast(document, operation_name)
    if operation is not None and operation.operation is OperationType.SUBSCRIPTION:
        raise Problem(400, "Subscriptions are not served over HTTP")
    if (
        operation is not None
        and operation.operation is OperationType.MUTATION
        and not allow_mutation
    ):
        raise Problem(405, "Mutations must be sent with POST", headers={"Allow": "POST"})
    result = execute(
        state.schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        field_resolver=field_resolver,
    )
    if inspect.isawaitable(result):
        try:
            result = await asyncio.wait_for(result, state.timeout)
        except TimeoutError:
            raise refused(
                "QUERY_TIMEOUT",
                f"The query ran longer than its budget of {state.timeout:g} s and was stopped; "
                "ask for fewer objects or fields",
            ) from None
    assert isinstance(result, ExecutionResult)
    errors = list(result.errors or [])
    if result.data is None and errors and all(e.path is None for e in errors):
        # nothing ran: bad variables or operation name
        return _errors_response(errors, "BAD_USER_INPUT")
    body: dict[str, Any] = {"data": result.data}
    if errors:
        body["errors"] = [format_error(e, "INTERNAL_ERROR") for e in errors]
    return web.json_response(body)


def _in_unit_of_work(resolver: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(resolver)
    async def in_transaction(parent: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        async with unit_of_work():
            result = resolver(parent, info, **args)
            if inspect.isawaitable(result):
                result = await result
            return result

    return in_transaction


def merge_plugins(registry: PluginRegistry, state: GraphQLState) -> GraphQLSchema:
    """The schema of the loaded plugins; a plugin whose part does not fit is skipped (with the
    plugins that require it), and the rest are tried again."""
    while True:
        fragments = [
            Fragment(p.name, p.graphql.sdl, p.graphql.resolvers)
            for p in registry.loaded
            if p.graphql is not None
        ]
        try:
            schema = build_merged_schema(fragments, _in_unit_of_work)
        except MergeFailure as failure:
            state.skipped[failure.owner] = failure.reason
            registry.skip_with_dependents(failure.owner, failure.reason)
            continue
        schema.query_type.fields["viewer"].resolve = _viewer  # type: ignore[union-attr]
        return schema


def _viewer(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    context: GraphQLContext = info.context
    identity = context.identity
    return {
        "subject": identity.subject,
        "roles": sorted(identity.roles),
        "kind": identity.kind,
        "tenant": context.tenant,
    }


@functools.lru_cache(maxsize=1024)
def snake_case(name: str) -> str:
    return _CAMEL.sub(r"_\1", name).lower()


_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
_MISSING = object()


def field_resolver(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """graphql-core's default (dict key or attribute) with a snake_case fallback, so that
    `displayName` reads a model's `display_name` without a resolver of its own."""
    name = info.field_name
    if isinstance(source, Mapping):
        value = source.get(name, _MISSING)
        if value is _MISSING:
            value = source.get(snake_case(name))
    else:
        value = getattr(source, name, _MISSING)
        if value is _MISSING:
            value = getattr(source, snake_case(name), None)
    if callable(value):
        return value(info, **args)
    return value


# HTTP: two ordinary pipeline routes ------------------------------------------------------------
routes = Routes()

GRAPHQL_ERROR = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "path": {"type": "array"},
        "locations": {"type": "array"},
        "extensions": {"type": "object"},
    },
}
GRAPHQL_RESULT = {
    "type": "object",
    "description": "GraphQL over HTTP: `data`, and `errors` of fields that failed",
    "required": ["data"],
    "properties": {
        "data": {"type": ["object", "null"]},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/GraphQLError"}},
    },
}
_REFUSED = {
    "description": "A query that cannot run: GraphQL errors (parse, validation, variables), "
    "or a problem+json for a malformed request or a query over a limit",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["errors"],
                "properties": {
                    "errors": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/GraphQLError"},
                    }
                },
            }
        },
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
    },
}
_GET_OPENAPI = {
    "schemas": {"GraphQLError": GRAPHQL_ERROR},
    "parameters": [
        {"name": "query", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "variables", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "operationName", "in": "query", "required": False, "schema": {"type": "string"}},
    ],
    "responses": {
        "200": {
            "description": "The result; a browser (Accept: text/html) without `query` gets the "
            "query page",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        "400": _REFUSED,
    },
}
_POST_OPENAPI = {
    "schemas": {"GraphQLError": GRAPHQL_ERROR},
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["query"],
                    "properties": {
                        "query": {"type": "string", "minLength": 1},
                        "variables": {"type": ["object", "null"]},
                        "operationName": {"type": ["string", "null"]},
                    },
                }
            }
        },
    },
    "responses": {"400": _REFUSED},
}


def _context(request: ApiRequest[None]) -> GraphQLContext:
    identity = request.identity
    if identity is None:
        raise unauthenticated()
    return GraphQLContext(
        app=request.app,
        identity=identity,
        tenant=request.tenant,
        request_id=request.request_id,
        request=request.raw,
    )


def _wants_page(request: ApiRequest[None]) -> bool:
    return "text/html" in request.headers.get("Accept", "") and "query" not in request.query


@routes.get(
    "/graphql",
    public=True,
    transaction=False,
    tags=("graphql",),
    response=GRAPHQL_RESULT,
    openapi=_GET_OPENAPI,
)
async def graphql_get(request: ApiRequest[None]) -> web.StreamResponse:
    """A query in the URL; a browser without one gets the query page (public, holds no data)."""
    if _wants_page(request):
        return web.Response(
            body=request.app[GRAPHIQL_PAGE],
            content_type="text/html",
            charset="utf-8",
            headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"},
        )
    context = _context(request)
    query = request.query.get("query", "")
    if not query.strip():
        raise Problem(400, "The query parameter `query` is required", slug="graphql-request")
    variables: Any = None
    if request.query.get("variables"):
        variables = decode_json(request.query["variables"].encode(), what="`variables`")
    return await run_query(
        request.app,
        query=query,
        variables=_variables(variables),
        operation_name=request.query.get("operationName") or None,
        context=context,
        allow_mutation=False,
    )


@routes.post(
    "/graphql",
    transaction=False,
    tags=("graphql",),
    response=GRAPHQL_RESULT,
    openapi=_POST_OPENAPI,
)
async def graphql_post(request: ApiRequest[None]) -> web.StreamResponse:
    """Run a query or mutation: `{query, variables, operationName}` (GraphQL over HTTP)."""
    context = _context(request)
    content_type = request.content_type
    if request.body and content_type not in ("", "application/json", "application/octet-stream"):
        raise Problem(415, f"Content-Type {content_type!r} is not supported; send application/json")
    payload = decode_json(request.body)
    if not isinstance(payload, dict):
        raise Problem(400, "The body must be a JSON object {query, variables, operationName}")
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        raise Problem(400, "`query` must be a non-empty string", slug="graphql-request")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise Problem(400, "`operationName` must be a string or null", slug="graphql-request")
    return await run_query(
        request.app,
        query=query,
        variables=_variables(payload.get("variables")),
        operation_name=operation_name or None,
        context=context,
    )


def _variables(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Problem(400, "`variables` must be a JSON object or null", slug="graphql-request")
    return value


GRAPHIQL_PAGE = web.AppKey("graphiql_page", bytes)


async def _schema_at_startup(app: web.Application) -> AsyncIterator[None]:
    """Runs after plugin set-up: the final schema holds only the plugins still loaded."""
    state = app[GRAPHQL]
    state.schema = merge_plugins(app[REGISTRY], state)
    yield


def _install(app: web.Application) -> None:
    settings = app[SETTINGS]
    state = GraphQLState(
        rules=tuple(specified_rules),
        max_tokens=settings.graphql_max_tokens,
        max_chars=settings.graphql_max_query_chars,
        limits=CostLimits(
            max_depth=settings.graphql_max_depth,
            max_selections=settings.graphql_max_selections,
            max_aliases=settings.graphql_max_aliases,
        ),
        timeout=settings.graphql_timeout_seconds,
    )
    app[GRAPHQL] = state
    # check the SDL now, so that a plugin skipped for it never gets its routes or handlers mounted
    merge_plugins(app[REGISTRY], state)
    app[GRAPHIQL_PAGE] = PAGE.read_bytes()
    app.cleanup_ctx.append(_schema_at_startup)

    async def health() -> dict[str, Any]:
        schema = state.schema
        return {
            "status": "ok" if schema is not None else "starting",
            "types": len(schema.type_map) if schema is not None else 0,
            "skipped": dict(state.skipped),
        }

    app[HEALTH]["graphql"] = health


plugin = Plugin(
    name="host_graphql",
    version="1",
    rest={"": routes},
    install=_install,
    description="GraphQL at /graphql: one schema merged from the plugins' SDL fragments",
)
