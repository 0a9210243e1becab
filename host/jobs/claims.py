"""Atomic claims and leases on job items: the only way an item becomes `running`.

A claim is one conditional UPDATE (state=running, lease owner, lease expiry WHERE state=queued): of
two workers racing for an item exactly one gets it, on SQLite and PostgreSQL alike. The outcome is
written with a fence (WHERE state=running AND lease_owner=<this claim>) inside the transaction that
holds the item's own effects: if the lease was lost meanwhile, the effects roll back with it.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from host.db import CONNECTION
from host.jobs.models import Job, JobItem

__all__ = ("LeaseLost", "claim_items", "fence", "requeue_expired", "unblock_children")


class LeaseLost(Exception):
    """The item's lease expired and was taken over; this worker's effects must roll back."""


def now_utc() -> datetime:
    return datetime.now(UTC)


async def claim_items(job_id: int, worker: str, lease_seconds: float, limit: int) -> list[JobItem]:
    """Claim up to `limit` claimable items of a job, in order; returns only the ones won."""
    now = time.time()
    token = f"{worker}:{uuid.uuid4().hex[:10]}"
    async with in_transaction(CONNECTION):
        # SKIP LOCKED keeps concurrent claimers on PostgreSQL off each other's rows; the
        # conditional UPDATE below is what makes the claim atomic on every database
        ids = (
            await JobItem.filter(job_id=job_id, state="queued", not_before__lte=now)
            .order_by("seq")
            .limit(limit)
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)
        )
        if not ids:
            return []
        await JobItem.filter(id__in=list(ids), state="queued").update(
            state="running",
            lease_owner=token,
            lease_expires=now + lease_seconds,
            attempts=F("attempts") + 1,
            started_at=now_utc(),
        )
    return await JobItem.filter(job_id=job_id, lease_owner=token, state="running").order_by("seq")


async def fence(item: JobItem, **outcome: object) -> None:
    """Record an outcome only if this claim still holds the lease; else raise LeaseLost."""
    updated = await JobItem.filter(
        id=item.id, state="running", lease_owner=item.lease_owner
    ).update(lease_expires=None, **outcome)
    if updated != 1:
        raise LeaseLost(f"item {item.id}: lease lost")


async def unblock_children(job_id: int, children: list[int]) -> None:
    """A dependency is done: count it off its dependents, queue those with nothing left to wait on."""
    if not children:
        return
    await JobItem.filter(job_id=job_id, seq__in=children, state="waiting").update(
        pending=F("pending") - 1
    )
    await JobItem.filter(job_id=job_id, seq__in=children, state="waiting", pending__lte=0).update(
        state="queued"
    )


async def requeue_expired() -> int:
    """The reaper's half of crash safety: items whose worker vanished become claimable again."""
    now = time.time()
    return await JobItem.filter(state="running", lease_expires__lt=now).update(
        state="queued", lease_owner=None, lease_expires=None
    )


async def touch(job_id: int) -> None:
    await Job.filter(id=job_id).update(heartbeat=time.time())
