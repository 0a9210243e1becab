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
"""

from __future__ import annotations

import sqlite3

import aiosqlite
from tortoise.backends.sqlite.client import SqliteClient

__all__ = ("LoopSafeSqliteClient", "client_class")


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


client_class = LoopSafeSqliteClient
"""What Tortoise looks up in an engine module."""
