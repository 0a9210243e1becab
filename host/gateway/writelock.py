"""The lock around a route file's check-and-rename, held across processes and host instances.

`If-Match` is only a compare-and-swap if no other writer can slip in between reading the file and
renaming the new one over it. An asyncio lock covers one process; several `serve` processes or
instances sharing `routes.d` need more: on PostgreSQL a session advisory lock (instances on
different machines share the database even when their file locks would not meet, e.g. on NFS),
else an `flock` on a dot file in the routes folder (the watcher ignores dot files).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

from tortoise import connections

from host.data.db import CONNECTION
from host.problems import Problem

__all__ = ("routes_write_lock",)

PG_LOCK_KEY = 0x706C_7274  # "plrt": one key for every route file (writes are rare)
LOCK_FILE = ".plughost-routes.lock"
WAIT_SECONDS = 15.0


def _open_lock_file(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    return os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)


@contextlib.asynccontextmanager
async def routes_write_lock(directory: Path) -> AsyncIterator[None]:
    try:
        client = connections.get(CONNECTION)
    except Exception:  # no database (offline tools): the file lock still serialises processes
        client = None
    if client is not None and client.capabilities.dialect == "postgres":
        async with client.acquire_connection() as raw:
            await raw.execute(f"SELECT pg_advisory_lock({PG_LOCK_KEY})")
            try:
                yield
            finally:
                await raw.execute(f"SELECT pg_advisory_unlock({PG_LOCK_KEY})")
        return
    try:
        fd = await asyncio.to_thread(_open_lock_file, directory)
    except OSError:  # a read-only folder: the write itself fails with 409, nothing to guard
        yield
        return
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Problem(503, "Another save of a route file is taking too long") from None
                await asyncio.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
