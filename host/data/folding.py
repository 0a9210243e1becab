"""SQLite savepoints that travel with the next statement: one hop to SQLite's thread, not two.

aiosqlite runs every statement on its own thread; each one is a round trip (a queue put that wakes
that thread, a wake-up of the event loop when it is done, the GIL handed over twice). On the
2-core machines this project measures on, that round trip costs more than a simple INSERT itself,
and a batch item, a unit of work nested in its lane's transaction, used to pay one just to open
its savepoint. `FoldingConnection` stands in for aiosqlite's connection during one SQLite
transaction: a savepoint is only noted (`open`), and its `SAVEPOINT` runs in the same round trip
as the next statement, just before it. A savepoint that no statement followed needs no statement
at all: rolling back to it, or committing, just forgets it.

One-row INSERTs skip the round trip altogether (`inline`): Tortoise's `Model.save()` of a new
row, what most batch items do. On the measuring machines the hop costs ~100 µs of CPU (thread
wake-ups and GIL hand-overs) and the INSERT itself ~2 µs, so an INSERT runs on the loop's thread
when it cannot wait and cannot run long:
- the transaction holds SQLite's write lock since it began (`BEGIN IMMEDIATE`, host.data.sqlite):
  SQLite then takes no lock for an INSERT, so it never waits on `busy_timeout`;
- nothing of this connection is in flight on aiosqlite's thread;
- it is one row (`execute_insert`; `executemany` and multi-row INSERTs go through the thread);
- none has been slow: one that took longer than `INLINE_LIMIT` (a trigger, a cache spill)
  sends every later statement of the transaction through the thread.
Both hold only for plughost's engine (host.data.sqlite), whose connection also allows use from
the loop's thread; with another engine `inline` is off.

It reaches into two private parts, named here so that an upgrade that moves them fails loudly in
the tests: aiosqlite's `Connection._execute` (queue a function for its thread) with its
`_execute_insert`/`_execute_fetchall` helpers, and Tortoise's SQLite transaction client keeping
that connection in `_connection` (`host.data.db.unit_of_work` swaps it in and out).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aiosqlite

__all__ = ("INLINE_LIMIT", "FoldingConnection")

INLINE_LIMIT = 0.001
"""Seconds: an INSERT run on the loop's thread that took longer turns `inline` off."""


class FoldingConnection:
    """aiosqlite's connection for one transaction, with savepoints folded into statements."""

    def __init__(self, real: aiosqlite.Connection, *, inline: bool = False) -> None:
        self.real = real
        self._aiosqlite_queue: Callable[..., Awaitable[Any]] = real._execute
        self.pending: list[str] = []
        """Savepoints opened since the last statement, oldest first: not yet sent."""
        self.inline = inline
        """One-row INSERTs may run on the loop's thread (see the module docstring): the
        transaction began with SQLite's write lock, on a connection the loop's thread may use."""
        self.in_flight = 0
        """Statements queued on aiosqlite's thread and not done."""
        self.inlined = 0
        """INSERTs run on the loop's thread (for tests and the curious)."""

    async def _queue(self, fn: Callable[..., Any], sql: str, parameters: Any) -> Any:
        """Run `fn(sql, parameters)` on aiosqlite's thread, in order with every other statement."""
        self.in_flight += 1
        try:
            return await self._aiosqlite_queue(fn, sql, parameters)
        finally:
            self.in_flight -= 1

    def _runs_here(self) -> bool:
        """A statement may run on the loop's thread now: `inline`, and aiosqlite's thread idle."""
        return self.inline and not self.in_flight

    def __getattr__(self, name: str) -> Any:  # commit, rollback, total_changes, ...
        return getattr(self.real, name)

    # savepoints -----------------------------------------------------------------------------
    def open(self, name: str) -> None:
        self.pending.append(name)

    def forget(self, name: str) -> bool:
        """Drop `name` (and the savepoints opened after it) if it was never sent: nothing ran
        after it, so there is nothing to roll back. False when it was sent."""
        if name not in self.pending:
            self.pending.clear()  # opened after a sent one: a ROLLBACK TO cancels them anyway
            return False
        del self.pending[self.pending.index(name) :]
        return True

    def release_now(self, name: str) -> bool:
        """End savepoint `name` of a unit that succeeded, if that costs no round trip: forget it
        when it was never sent, RELEASE it on the loop's thread when inline statements may run
        (a stacked savepoint is not free: each page write checks every open one). False: it
        stays on the stack, for its parent to release with others."""
        if self.forget(name):
            return True
        if not self._runs_here():
            return False
        self.real._conn.execute(f"RELEASE {name}")
        return True

    def _with_pending(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if not self.pending:
            return fn
        statements = [f"SAVEPOINT {name}" for name in self.pending]
        self.pending = []
        raw = self.real._conn

        def run(*args: Any) -> Any:  # on aiosqlite's thread
            for statement in statements:
                raw.execute(statement)
            return fn(*args)

        return run

    # the statements Tortoise's SQLite client sends ---------------------------------------------
    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> aiosqlite.Cursor:
        real = self.real
        cursor = await self._queue(self._with_pending(real._conn.execute), sql, parameters or [])
        return aiosqlite.Cursor(real, cursor)

    async def execute_insert(self, sql: str, parameters: Iterable[Any] | None = None) -> Any:
        real = self.real
        insert = self._with_pending(real._execute_insert)
        if self._runs_here() and _one_row(sql):
            started = time.perf_counter()
            try:
                return insert(sql, parameters or [])
            finally:
                self.inlined += 1
                if time.perf_counter() - started > INLINE_LIMIT:
                    self.inline = False
        return await self._queue(insert, sql, parameters or [])

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> Any:
        real = self.real
        fetch = self._with_pending(real._execute_fetchall)
        return await self._queue(fetch, sql, parameters or [])

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> aiosqlite.Cursor:
        real = self.real
        cursor = await self._queue(self._with_pending(real._conn.executemany), sql, parameters)
        return aiosqlite.Cursor(real, cursor)


def _one_row(sql: str) -> bool:
    """An INSERT of one row of values: not several, not the rows of a SELECT."""
    text = sql.upper()
    return "SELECT" not in text and "),(" not in text.replace(" ", "")
