"""Login throttle with its counters in the database, shared by the API login and the admin UI.

In the database rather than in a process: with several instances (or `--workers N`), a per-process
counter multiplies the attempts an attacker gets by the number of processes, and forgets them on
every restart. A failed password check is a row; more than `limit` rows for one (user name, address)
within `window` seconds means 429 with Retry-After until the oldest one ages out. A success clears
that pair's rows. Old rows are deleted as new failures come in.
"""

from __future__ import annotations

import datetime as dt

from host.auth.models import LoginFailure

__all__ = ("clear", "record_failure", "retry_after")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key(username: str, address: str) -> tuple[str, str]:
    return username.strip().lower()[:150], address[:64]


async def retry_after(username: str, address: str, *, limit: int, window: float) -> int:
    """Seconds until another attempt is allowed for this pair; 0 when allowed now."""
    name, addr = _key(username, address)
    since = _now() - dt.timedelta(seconds=window)
    recent = await LoginFailure.filter(username=name, address=addr, failed_at__gt=since).order_by(
        "failed_at"
    )
    if len(recent) < limit:
        return 0
    oldest = recent[-limit].failed_at
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(1, int((oldest - since).total_seconds()) + 1)


async def record_failure(username: str, address: str, *, window: float) -> None:
    name, addr = _key(username, address)
    now = _now()
    await LoginFailure.create(username=name, address=addr, failed_at=now)
    await LoginFailure.filter(failed_at__lt=now - dt.timedelta(seconds=window)).delete()


async def clear(username: str, address: str) -> None:
    name, addr = _key(username, address)
    await LoginFailure.filter(username=name, address=addr).delete()
