"""The dependency graph of a batch: cycle check, execution levels, ancestry (pure).

Items form a DAG through `reference` and `dependsOn`. A level is the set of items whose parents
are all in earlier levels: what could run together. The runner does not wait for whole levels
(an item starts as soon as its own parents are done); levels are what `?dryRun=true` shows.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from host.batch.items import BatchItem, ItemError, invalid

__all__ = ("Plan", "build_plan")


@dataclass(frozen=True)
class Plan:
    items: list[BatchItem]
    children: list[list[int]]
    """Indexes of the items that depend on each item."""
    parents: list[list[int]]
    order: list[int]
    """A topological order that prefers request order (what a sequential run follows)."""
    levels: list[list[int]]

    def describe_groups(self) -> dict[str, list[object]]:
        return {g: [self.items[i].request_id for i in ms] for g, ms in groups_of(self).items()}

    def describe(self) -> list[list[object]]:
        return [[self.items[i].request_id for i in level] for level in self.levels]


def build_plan(items: list[BatchItem]) -> Plan:
    """Order the items; a 400 naming the items of a cycle, or an ancestor reference that is not one."""
    by_key = {item.key: item.index for item in items}
    parents = [[by_key[p] for p in item.parents] for item in items]
    children: list[list[int]] = [[] for _ in items]
    for child, ps in enumerate(parents):
        for p in ps:
            children[p].append(child)
    pending = [len(ps) for ps in parents]
    level = [0] * len(items)
    ready = [i for i, n in enumerate(pending) if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for c in children[i]:
            level[c] = max(level[c], level[i] + 1)
            pending[c] -= 1
            if pending[c] == 0:
                heapq.heappush(ready, c)
    if len(order) < len(items):
        cycle = _find_cycle(parents, {i for i, n in enumerate(pending) if n > 0})
        ids = " → ".join(repr(items[i].request_id) for i in cycle)
        first = items[cycle[0]]
        detail = f"dependency cycle: {ids} (each waits for the next)"
        raise invalid([ItemError(first.index, first.request_id, detail)])
    levels: list[list[int]] = [[] for _ in range(max(level) + 1)]
    for i in range(len(items)):
        levels[level[i]].append(i)
    plan = Plan(items, children, parents, order, levels)
    _check_ancestry(plan, by_key)
    _check_groups(plan)
    return plan


def groups_of(plan: Plan) -> dict[str, list[int]]:
    """Each atomicityGroup's items, in the order they run (the plan's order)."""
    out: dict[str, list[int]] = {}
    for i in plan.order:
        group = plan.items[i].group
        if group is not None:
            out.setdefault(group, []).append(i)
    return out


def _check_groups(plan: Plan) -> None:
    """A group runs as one unit (one savepoint, its items one after another), so no path may
    leave a group and come back into it: an item outside that needs one of the group's items and
    is needed by another would have to run in the middle of the group. 400 naming them."""
    groups = groups_of(plan)
    if not groups:
        return
    unit = [plan.items[i].group or f"#{i}" for i in range(len(plan.items))]
    edges: dict[str, set[str]] = {}
    for child, ps in enumerate(plan.parents):
        for p in ps:
            if unit[p] != unit[child]:
                edges.setdefault(unit[p], set()).add(unit[child])
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            cycle = visit(start)
            if cycle:
                names = []
                for node in cycle:
                    members = [i for i, u in enumerate(unit) if u == node]
                    names += [repr(plan.items[i].request_id) for i in members]
                first = plan.items[min(i for i, u in enumerate(unit) if u in cycle)]
                detail = (
                    "atomicity groups cannot be scheduled: items "
                    + ", ".join(names)
                    + " depend on each other across a group (a group runs as one unit, so "
                    "nothing outside it may need one of its items and be needed by another)"
                )
                raise invalid([ItemError(first.index, first.request_id, detail)])


def _find_cycle(parents: list[list[int]], stuck: set[int]) -> list[int]:
    """Walk parent links inside the stuck set until a node repeats: that loop is a cycle."""
    start = min(stuck)
    path: list[int] = []
    seen: dict[int, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(p for p in parents[node] if p in stuck)
    loop = path[seen[node] :]  # each waits for the next
    first = loop.index(min(loop))
    loop = loop[first:] + loop[:first]
    return [*loop, loop[0]]


def is_ancestor(plan: Plan, candidate: int, item: int) -> bool:
    """True when `candidate` must finish before `item` (a DFS over parent links)."""
    stack = list(plan.parents[item])
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node == candidate:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(plan.parents[node])
    return False


def _check_ancestry(plan: Plan, by_key: dict[str, int]) -> None:
    errors = []
    for item in plan.items:
        for ref in item.refs:
            if ref.source is None:
                continue
            source = by_key[ref.source]
            if source not in plan.parents[item.index] and not is_ancestor(plan, source, item.index):
                errors.append(
                    ItemError(
                        item.index,
                        item.request_id,
                        f"${{{ref.source}:...}} refers to an item that is not an ancestor; "
                        "add it to dependsOn",
                    )
                )
    if errors:
        raise invalid(errors)
