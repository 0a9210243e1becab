"""Group commits for batches without an enclosing transaction: what makes batching pay off.

Each item still succeeds or fails alone, but items no longer pay a commit each (on SQLite a
commit is an fsync, ~1.3 ms, most of what an item costs). A *lane* runs items one after another
inside one transaction, each item in its own savepoint (a failing item rolls back to it, alone),
and commits every `every` items or `window` seconds, and when it runs out of work. Then, and only
then, the answers of the items that commit covers are final: they are handed on (`on_result`:
streaming) and their after-commit work (bus events) runs. If a commit fails, every item it covered
answers 503 instead: nothing it did was kept.

A GET runs outside any transaction (after the lane commits what it holds): reads need no
commit, and a slow read must not hold the write lock.

Lanes: one on SQLite (a single writer anyway), `concurrency` on PostgreSQL, each lane on its own
pooled connection. An item whose parent is not yet committed must see the parent's writes, so it
runs in the parent's lane (its uncommitted transaction) or waits for the parent's commit; a lane
that has nothing it may run commits at once, so that nobody waits for a window to pass.

The price (docs/batch.md): a lane holds a write transaction for up to `window`; on SQLite other
writers wait for it, as they would for an enclosing transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from host.batch.plan import Plan, groups_of
from host.data.db import unit_of_work

__all__ = ("run_grouped",)

log = logging.getLogger("plughost.batch")


class ItemResult(Protocol):
    """What this scheduler reads of an item's answer (host.batch.runner.ItemResult)."""

    status: int


class ItemRunner(Protocol):
    """The batch runner as this scheduler drives it (host.batch.runner._Runner): it runs items
    and writes their answers; this module decides when, in which transaction and which lane."""

    plan: Plan
    results: list[Any]

    async def execute(self, i: int) -> Any: ...

    def internal_error(self, i: int) -> Any: ...

    def commit_failed(self, i: int) -> Any: ...

    def group_failed(self, members: list[int], failed: Any, what: str) -> None: ...


class _ItemFailed(Exception):
    """Leaves the item's savepoint so that its writes are undone."""


@dataclass
class _Lane:
    number: int
    ready: list[int] = field(default_factory=list)
    """Items only this lane may run (a parent of theirs is in its open transaction)."""
    chunk: list[int] = field(default_factory=list)
    """Items done in the open transaction, not yet committed."""
    opened: float = 0.0
    stack: contextlib.AsyncExitStack | None = None


async def run_grouped(
    runner: ItemRunner,
    *,
    lanes: int,
    every: int,
    window: float,
    on_result: Callable[[Any], Awaitable[None]] | None,
) -> None:
    """Run every item of the plan; `runner.results` holds each final answer when this returns."""
    await _Scheduler(runner, lanes, every, window, on_result).run()


class _Scheduler:
    def __init__(
        self,
        runner: ItemRunner,
        lanes: int,
        every: int,
        window: float,
        on_result: Callable[[Any], Awaitable[None]] | None,
    ) -> None:
        plan = runner.plan
        self.runner = runner
        self.every = max(1, every)
        self.window = window
        self.on_result = on_result
        self.total = len(plan.items)
        # a unit is what a lane runs at once: an item, or an atomicityGroup (keyed by its first
        # item); it is ready when every parent outside it is done
        self.members: dict[int, list[int]] = {}
        self.unit_of = list(range(self.total))
        for members in groups_of(plan).values():
            key = min(members)
            self.members[key] = members
            for i in members:
                self.unit_of[i] = key
        self.pending = [0] * self.total
        for child, ps in enumerate(plan.parents):
            self.pending[self.unit_of[child]] += sum(
                1 for p in ps if self.unit_of[p] != self.unit_of[child]
            )
        self.ready = [u for u in set(self.unit_of) if self.pending[u] == 0]
        heapq.heapify(self.ready)
        self.blocked: list[int] = []  # parents done, some uncommitted in other lanes
        self.open_in: dict[int, int] = {}  # item -> lane whose open transaction holds it
        self.lanes = [_Lane(n) for n in range(max(1, min(lanes, self.total)))]
        self.final = 0
        self.running = 0
        self.changed = asyncio.Event()

    async def run(self) -> None:
        await asyncio.gather(*(self.lane(lane) for lane in self.lanes))

    # scheduling -------------------------------------------------------------------------------
    def take(self, lane: _Lane) -> int | None:
        if lane.ready:
            return heapq.heappop(lane.ready)
        if self.ready:
            return heapq.heappop(self.ready)
        return None

    def finished(self, lane: _Lane | None, i: int) -> None:
        """Item i is done, in `lane`'s open transaction (or final: a read); release the children
        that may run now."""
        if lane is not None:
            self.open_in[i] = lane.number
            lane.chunk.append(i)
        for child in self.runner.plan.children[i]:
            unit = self.unit_of[child]
            if unit == self.unit_of[i]:
                continue  # inside a group: the group runs its items in order
            self.pending[unit] -= 1
            if self.pending[unit] == 0:
                self.place(unit)

    def place(self, unit: int) -> None:
        plan = self.runner.plan
        parents = {p for m in self.members.get(unit, [unit]) for p in plan.parents[m]}
        holders = {self.open_in[p] for p in parents if p in self.open_in}
        child = unit
        if not holders:
            heapq.heappush(self.ready, child)
        elif len(holders) == 1:
            heapq.heappush(self.lanes[holders.pop()].ready, child)
        else:
            self.blocked.append(child)
        self.changed.set()

    async def lane(self, lane: _Lane) -> None:
        while self.final < self.total:
            i = self.take(lane)
            if i is None:
                if lane.chunk:  # others may wait for what this lane holds
                    await self.commit(lane)
                    continue
                if self.running == 0 and not any(other.chunk for other in self.lanes):
                    return  # nothing runs or waits to commit: nothing can become ready
                self.changed.clear()
                await self.changed.wait()
                continue
            members = self.members.get(i)
            if members is None and self.runner.plan.items[i].method == "GET":
                await self.read(lane, i)
                continue
            self.running += 1
            try:
                if lane.stack is None:
                    lane.stack = contextlib.AsyncExitStack()
                    await lane.stack.enter_async_context(unit_of_work())
                    lane.opened = time.monotonic()
                if members is None:
                    await self.execute(i)
                else:
                    await self.execute_group(members)
            finally:
                self.running -= 1
            for m in members or [i]:
                self.finished(lane, m)
            if len(lane.chunk) >= self.every or time.monotonic() - lane.opened >= self.window:
                await self.commit(lane)
        if lane.chunk:
            await self.commit(lane)

    async def read(self, lane: _Lane, i: int) -> None:
        """A GET writes nothing: it runs outside any transaction, so a long read never holds a
        write lock. What the lane wrote so far commits first (the read must see it, and other
        writers must not wait behind the read)."""
        if lane.stack is not None:
            await self.commit(lane)
        runner = self.runner
        self.running += 1
        try:
            runner.results[i] = await runner.execute(i)
        except Exception:
            log.exception("batch item failed", extra={"index": i})
            runner.results[i] = runner.internal_error(i)
        finally:
            self.running -= 1
        result = runner.results[i]
        if self.on_result is not None and result is not None:
            await self.on_result(result)
        self.final += 1
        self.finished(None, i)
        self.changed.set()

    async def execute(self, i: int) -> None:
        """One item in its own savepoint: the pipeline's unit of work, nested in the lane's
        transaction, is that savepoint (an answer of 400 or more, or an error, undoes it)."""
        runner = self.runner
        try:
            runner.results[i] = await runner.execute(i)
        except Exception:
            log.exception("batch item failed", extra={"index": i})
            runner.results[i] = runner.internal_error(i)

    async def execute_group(self, members: list[int]) -> None:
        """An atomicityGroup in one savepoint: the first failure undoes the whole group, and
        every other item of it answers 424 naming the cause."""
        runner = self.runner
        failed: ItemResult | None = None
        try:
            async with unit_of_work():
                for i in members:
                    try:
                        result = await runner.execute(i)
                    except Exception:
                        log.exception("batch item failed", extra={"index": i})
                        result = runner.internal_error(i)
                    runner.results[i] = result
                    if not result.ok:
                        failed = result
                        raise _ItemFailed
        except _ItemFailed:
            pass
        if failed is not None:
            runner.group_failed(members, failed, "atomicity group")

    async def commit(self, lane: _Lane) -> None:
        """Commit the lane's transaction; only now are its items' answers final."""
        stack, lane.stack = lane.stack, None
        chunk, lane.chunk = lane.chunk, []
        failed = False
        if stack is not None:
            try:
                await stack.aclose()  # COMMIT, then the after-commit work (events)
            except Exception:
                log.exception("batch group commit failed", extra={"items": len(chunk)})
                failed = True
        for i in chunk:
            del self.open_in[i]
            if failed:
                self.runner.results[i] = self.runner.commit_failed(i)
        for i in chunk:
            result = self.runner.results[i]
            if self.on_result is not None and result is not None:
                await self.on_result(result)
        self.final += len(chunk)
        blocked, self.blocked = self.blocked, []
        for child in blocked:
            self.place(child)
        self.changed.set()
