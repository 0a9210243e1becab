"""What a GraphQL query costs, measured on the parsed document before it is validated or run.

A query's size on the wire says little about its cost: thirty fragments that each spread the next one
twice are ~1 KB of text and 2^30 fields once expanded. So every limit here is measured *after*
fragment expansion, and each fragment is measured once (memoised): the check itself is linear in the
document's size whatever the document expands to. Counts saturate at `CEILING` so that a hostile
document never builds huge integers either.

Pure functions over graphql-core's AST: no schema, no app. `check_limits` raises `CostExceeded`,
which the HTTP layer turns into a 400 problem+json answered before validation or execution start.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

__all__ = ("CEILING", "CostExceeded", "CostLimits", "QueryCost", "check_limits", "measure")

CEILING = 1 << 40
"""Counts stop growing here (far above any limit), so 2^1000 expansions stay small integers."""


@dataclass(frozen=True, slots=True)
class QueryCost:
    """One selection set (or a whole operation) after fragment expansion."""

    depth: int = 0
    """Nesting of fields; introspection (`__schema`, `__type`...) does not count, graphql-core's
    MaxIntrospectionDepthRule bounds those."""
    selections: int = 0
    """Fields that would be resolved per parent object, every fragment spread expanded."""
    aliases: int = 0
    """Aliased fields after expansion: aliases are how one field is asked for many times."""

    def plus(self, other: QueryCost) -> QueryCost:
        return QueryCost(
            max(self.depth, other.depth),
            min(CEILING, self.selections + other.selections),
            min(CEILING, self.aliases + other.aliases),
        )


@dataclass(frozen=True, slots=True)
class CostLimits:
    max_depth: int
    max_selections: int
    max_aliases: int


class CostExceeded(Exception):
    """A query over one of the limits; `code` is the GraphQL `extensions.code`."""

    def __init__(self, code: str, message: str, **extensions: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = extensions


class _Meter:
    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, QueryCost] = {}
        self.active: set[str] = set()

    def fragment(self, name: str) -> QueryCost:
        known = self.memo.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.active:
            # unknown fragment or a cycle: validation refuses both; count nothing here
            return QueryCost()
        self.active.add(name)
        try:
            cost = self.selection_set(definition.selection_set)
        finally:
            self.active.discard(name)
        self.memo[name] = cost
        return cost

    def selection_set(self, selection_set: SelectionSetNode | None) -> QueryCost:
        total = QueryCost()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self.selection_set(selection.selection_set)
                introspection = selection.name.value.startswith("__")
                total = total.plus(
                    QueryCost(
                        0 if introspection else inner.depth + 1,
                        inner.selections + 1,
                        inner.aliases + (selection.alias is not None),
                    )
                )
            elif isinstance(selection, InlineFragmentNode):
                total = total.plus(self.selection_set(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.plus(self.fragment(selection.name.value))
        return total


def measure(document: DocumentNode) -> dict[str | None, QueryCost]:
    """The cost of each operation in `document`, keyed by operation name (None when unnamed)."""
    meter = _Meter(document)
    return {
        (d.name.value if d.name else None): meter.selection_set(d.selection_set)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


def check_limits(document: DocumentNode, limits: CostLimits) -> None:
    """Raise CostExceeded when any operation of the document is over a limit.

    Every operation is checked, not only the one asked for: validation walks them all.
    """
    for cost in measure(document).values():
        if cost.depth > limits.max_depth:
            raise CostExceeded(
                "QUERY_TOO_DEEP",
                f"Query depth {cost.depth} exceeds the maximum of {limits.max_depth}",
                depth=cost.depth,
                max=limits.max_depth,
            )
        if cost.aliases > limits.max_aliases:
            raise CostExceeded(
                "QUERY_TOO_COMPLEX",
                f"Query uses {_count(cost.aliases)} aliases after fragment expansion; "
                f"the maximum is {limits.max_aliases}",
                aliases=cost.aliases,
                max=limits.max_aliases,
            )
        if cost.selections > limits.max_selections:
            raise CostExceeded(
                "QUERY_TOO_COMPLEX",
                f"Query selects {_count(cost.selections)} fields after fragment expansion; "
                f"the maximum is {limits.max_selections}",
                selections=cost.selections,
                max=limits.max_selections,
            )


def _count(value: int) -> str:
    return f"more than {CEILING}" if value >= CEILING else str(value)
