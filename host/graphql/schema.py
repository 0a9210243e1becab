"""Building one GraphQL schema from every plugin's SDL fragment (query limits: graphql_cost.py).

The host's base SDL declares the roots (`type Query`, `type Mutation`) and shared scalars; plugins add
types and `extend type` each other's. All fragments are concatenated and built with one
`build_schema` (order-independent: a fragment may extend a type that a later one defines). When
that fails, the fragments are tried one at a time to find the plugin to blame, which is skipped with
the reason while the others still get a schema. Pure functions: nothing here touches the app.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
    validate_schema,
)

__all__ = (
    "BASE_SDL",
    "Fragment",
    "MergeFailure",
    "build_merged_schema",
)

Resolver = Callable[..., Any]

BASE_SDL = """
"A calendar date, ISO 8601 (2026-11-23)."
scalar Date
"A point in time, ISO 8601 with offset (2026-11-23T14:00:00+00:00)."
scalar DateTime

"Who is calling: the identity the request authenticated as."
type Viewer {
  subject: String!
  roles: [String!]!
  kind: String!
  tenant: String!
}

type Query {
  "The caller's identity and tenant."
  viewer: Viewer!
}
"""
MUTATION_ROOT = "\ntype Mutation\n"
"""Added when a fragment extends Mutation; an empty root type would make the schema invalid."""
_EXTENDS_MUTATION = re.compile(r"\bextend\s+type\s+Mutation\b")


@dataclass(frozen=True)
class Fragment:
    """One plugin's contribution: SDL plus resolvers by type name and field name."""

    owner: str
    sdl: str
    resolvers: Mapping[str, Mapping[str, Resolver]]


class MergeFailure(Exception):
    """A fragment that cannot join the schema; `owner` is the plugin to skip."""

    def __init__(self, owner: str, reason: str) -> None:
        super().__init__(f"{owner}: {reason}")
        self.owner = owner
        self.reason = reason


def _first_line(exc: Exception) -> str:
    return str(exc).strip().split("\n", 1)[0]


def _build(fragments: Iterable[Fragment]) -> GraphQLSchema:
    parts = list(fragments)
    mutations = any(_EXTENDS_MUTATION.search(f.sdl) for f in parts)
    base = BASE_SDL + (MUTATION_ROOT if mutations else "")
    schema = build_schema("\n".join([base, *(f.sdl for f in parts)]))
    errors = validate_schema(schema)
    if errors:
        raise TypeError("; ".join(e.message for e in errors[:3]))
    return schema


def _blame(fragments: list[Fragment]) -> MergeFailure:
    """The first fragment that fits with none of the others, after every fitting one was added."""
    accepted: list[Fragment] = []
    pending = list(fragments)
    reasons: dict[str, str] = {}
    progress = True
    while pending and progress:  # repeated passes: a fragment may need one later in load order
        progress = False
        for fragment in list(pending):
            try:
                _build([*accepted, fragment])
            except Exception as exc:
                reasons[fragment.owner] = _first_line(exc)
                continue
            accepted.append(fragment)
            pending.remove(fragment)
            progress = True
    if pending:
        owner = pending[0].owner
        return MergeFailure(owner, f"GraphQL SDL does not build: {reasons[owner]}")
    # every fragment builds alone with the others before it, but not all together
    owner = fragments[-1].owner
    return MergeFailure(owner, "GraphQL SDL conflicts with another plugin's SDL")


def _attach(schema: GraphQLSchema, fragment: Fragment, wrap_mutation: WrapMutation) -> None:
    for type_name, fields in fragment.resolvers.items():
        gql_type = schema.get_type(type_name)
        if not isinstance(gql_type, GraphQLObjectType):
            raise MergeFailure(
                fragment.owner, f"GraphQL resolvers name type {type_name!r}, not an object type"
            )
        for field_name, resolver in fields.items():
            field = gql_type.fields.get(field_name)
            if field is None:
                raise MergeFailure(
                    fragment.owner,
                    f"GraphQL resolver for {type_name}.{field_name}: no such field in the schema",
                )
            if not callable(resolver):
                raise MergeFailure(
                    fragment.owner, f"GraphQL resolver for {type_name}.{field_name} is not callable"
                )
            is_mutation = gql_type is schema.mutation_type
            field.resolve = wrap_mutation(resolver) if is_mutation else resolver


WrapMutation = Callable[[Resolver], Resolver]


def build_merged_schema(
    fragments: list[Fragment], wrap_mutation: WrapMutation = lambda r: r
) -> GraphQLSchema:
    """One schema from all fragments, resolvers attached; raises MergeFailure naming a plugin.

    `wrap_mutation` wraps each Mutation field's resolver (the host runs it in a unit of work).
    """
    try:
        schema = _build(fragments)
    except Exception:
        raise _blame(fragments) from None
    _set_scalars(schema)
    for fragment in fragments:
        _attach(schema, fragment, wrap_mutation)
    return schema


# scalars --------------------------------------------------------------------------------------
def _serialize_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return dt.date.fromisoformat(value).isoformat()
    raise GraphQLError(f"Date cannot represent {value!r}")


def _parse_date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise GraphQLError(f"Date must be a string like 2026-11-23, got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise GraphQLError(f"Date must be ISO 8601 (2026-11-23), got {value!r}") from None


def _serialize_datetime(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).isoformat()
    raise GraphQLError(f"DateTime cannot represent {value!r}")


def _parse_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise GraphQLError(f"DateTime must be an ISO 8601 string, got {value!r}")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise GraphQLError(f"DateTime must be ISO 8601, got {value!r}") from None


def _set_scalars(schema: GraphQLSchema) -> None:
    for name, serialize, parse in (
        ("Date", _serialize_date, _parse_date),
        ("DateTime", _serialize_datetime, _parse_datetime),
    ):
        scalar = schema.get_type(name)
        if isinstance(scalar, GraphQLScalarType):
            # graphql-core 3.3 reads the coerce_* names; the older ones are set for older paths
            literal = _literal(parse)
            scalar.coerce_output_value = scalar.serialize = serialize  # type: ignore[method-assign]
            scalar.coerce_input_value = scalar.parse_value = parse  # type: ignore[method-assign]
            scalar.coerce_input_literal = literal
            scalar.parse_literal = literal  # type: ignore[method-assign]


def _literal(parse: Callable[[Any], Any]) -> Callable[..., Any]:
    def parse_literal(node: Any, _variables: Any = None) -> Any:
        return parse(getattr(node, "value", None))

    return parse_literal
