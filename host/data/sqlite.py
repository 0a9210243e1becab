"""The SQLite engine plughost runs on: Tortoise's, with a connection the event loop may also use.

aiosqlite runs every statement on its own thread; that round trip costs ~100 µs of CPU on the
2-core machines this project measures on, while a one-row INSERT costs ~2 µs. Inside a batch
lane's transaction, `host.data.folding` therefore runs one-row INSERTs on the loop's own thread,
under the rules it names (never while a statement is in flight on aiosqlite's thread, never
before the transaction holds the write lock, so it never waits for one). Python's sqlite3 refuses
a connection used from a thread other than the one that opened it unless it was opened with
`check_same_thread=False`, which is the one thing this engine changes; it is used by naming this
module as the connection's engine (`host.data.db.tortoise_config` does for `sqlite://` URLs).

`create_connection` follows Tortoise's (tortoise/backends/sqlite/client.py) line for line apart
from that flag; tests/test_unit_of_work.py checks that Tortoise's pragmas (WAL, foreign keys)
still apply.

Transactions begin with `BEGIN IMMEDIATE`, taking the write lock at once, where Tortoise's plain
`BEGIN` takes it at the first write. With two processes on one file (`serve --workers 2`) a
transaction that read first (a create checking its external id) and then wrote failed at once
with "database is locked" whenever the other process had committed in between: SQLite cannot
upgrade a read snapshot that is no longer the latest, and does not wait (SQLITE_BUSY_SNAPSHOT).
Measured: 491-695 of 6,000 batch items answered 500 that way with four clients posting batches
to two processes. Taken at BEGIN, the lock is waited for (the connection's busy timeout, 5 s)
instead, and a one-row INSERT can run on the loop's thread from the transaction's first one on
(host/data/folding.py: it can no longer wait for a lock).
"""

from __future__ import annotations

import sqlite3

import aiosqlite
from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

__all__ = ("ImmediateTransaction", "LoopSafeSqliteClient", "client_class")


class ImmediateTransaction(SqliteTransactionWrapper):
    """Tortoise's SQLite transaction, begun with `BEGIN IMMEDIATE` (see the module docstring)."""

    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class LoopSafeSqliteClient(SqliteClient):
    """Tortoise's SQLite client whose connection may be used from the event loop's thread too."""

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        self._connection = await aiosqlite.connect(
            self.filename, isolation_level=None, check_same_thread=False
        )
        self._connection._conn.row_factory = sqlite3.Row
        for pragma, value in self.pragmas.items():
            cursor = await self._connection.execute(f"PRAGMA {pragma}={value}")
            await cursor.close()
        await self._post_connect()

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransaction(self), self._lock)


client_class = LoopSafeSqliteClient
"""What Tortoise looks up in an engine module."""
