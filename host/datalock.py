"""One server per SQLite data folder: a lock file taken by `plughost serve` for its lifetime.

Two servers on one SQLite file would each run the embedded job worker, the relay and the schedules
against the same file, and each believes it is alone (the embedded set-up is single-instance by
design). The second server refuses to start with a message naming the first one and the setting to
change; PostgreSQL deployments share a database on purpose and take no lock. The lock is an `flock`,
so the kernel releases it when the process dies: a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from host.config import Settings

__all__ = ("LOCK_NAME", "DataDirLocked", "lock_data_dir")

LOCK_NAME = "serve.lock"


class DataDirLocked(Exception):
    """Another server holds the data folder; str() is the one-line message."""


def lock_data_dir(settings: Settings) -> IO[str] | None:
    """Take the data folder's lock when the database is its SQLite file; keep the returned file
    open as long as the server runs (None: nothing to lock)."""
    if not settings.database_url.startswith("sqlite://"):
        return None
    folder = settings.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DataDirLocked(
            f"another plughost server (pid {holder}) already serves the data folder "
            f"{_shown(folder)} with its SQLite database: stop it, or give this one its own "
            "PLUGHOST_DATA_DIR (or a shared PostgreSQL with PLUGHOST_DB_URL)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _shown(folder: Path) -> str:
    return str(folder.resolve())
