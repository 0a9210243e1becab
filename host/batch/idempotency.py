"""`Idempotency-Key`: the same key and the same request replay the stored answer without running.

A key is claimed by inserting its row (a unique index on scope+key makes the claim atomic across
workers and hosts); the answer is stored when the work ends. The same key with another request is
refused (422); a key whose work is still running is a 409. Keys live per kind (batch or item),
tenant and caller, for `batch_idempotency_ttl_seconds`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from host.batch.models import IdempotencyRecord
from host.data.db import unit_of_work
from host.problems import Problem

__all__ = ("Stored", "claim", "fingerprint", "finish", "release", "scope_of")

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True, slots=True)
class Stored:
    status: int
    response: Any


def scope_of(kind: str, tenant: str, subject: str | None) -> str:
    return f"{kind}:{tenant}:{subject or '-'}"


def fingerprint(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def check_key(key: str) -> None:
    if not _KEY.match(key):
        raise Problem(
            400,
            "Idempotency-Key must be 1-255 visible ASCII characters",
            slug="invalid-idempotency-key",
        )


async def claim(scope: str, key: str, print_: str, ttl_seconds: int) -> Stored | None:
    """None: the caller owns the key now and must `finish` or `release` it. Stored: replay it."""
    check_key(key)
    for _ in range(3):
        if await _insert(scope, key, print_):
            return None
        row = await IdempotencyRecord.get_or_none(scope=scope, key=key)
        if row is None:  # released meanwhile: try to claim again
            continue
        if row.created_at < datetime.now(UTC) - timedelta(seconds=ttl_seconds):
            await IdempotencyRecord.filter(id=row.id).delete()
            continue
        if row.fingerprint != print_:
            raise Problem(
                422,
                "This Idempotency-Key was already used with a different request",
                slug="idempotency-key-reused",
            )
        if row.state != "done" or row.status is None:
            raise Problem(
                409,
                "A request with this Idempotency-Key is still being processed; retry later",
                slug="idempotency-in-flight",
                headers={"Retry-After": "1"},
            )
        return Stored(row.status, json.loads(row.response or "null"))
    raise Problem(
        409, "This Idempotency-Key is contended; retry later", slug="idempotency-in-flight"
    )


async def _insert(scope: str, key: str, print_: str) -> bool:
    # a savepoint when inside a transaction: a failed insert must not poison it (PostgreSQL)
    try:
        async with unit_of_work():
            await IdempotencyRecord.create(scope=scope, key=key, fingerprint=print_)
    except IntegrityError:
        return False
    return True


async def finish(scope: str, key: str, status: int, response: Any) -> None:
    """Store the answer; a server error (5xx) releases the key instead, so a retry runs again."""
    if status >= 500:
        await release(scope, key)
        return
    await IdempotencyRecord.filter(scope=scope, key=key).update(
        state="done", status=status, response=json.dumps(response)
    )


async def release(scope: str, key: str) -> None:
    await IdempotencyRecord.filter(scope=scope, key=key).delete()
