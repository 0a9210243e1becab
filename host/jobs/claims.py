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

from tortoise import connections
from tortoise.expressions import F

from host.data.db import CONNECTION
from host.jobs.models import Job, JobItem

__all__ = ("LeaseLost", "claim_items", "fence", "requeue_expired", "unblock_children")


class LeaseLost(Exception):
    """The item's lease expired and was taken over; this worker's effects must roll back."""


def now_utc() -> datetime:
    return datetime.now(UTC)


_CLAIM = """
UPDATE host_jobs_item SET state = 'running', lease_owner = {p1}, lease_expires = {p2},
       attempts = attempts + 1
 WHERE state = 'queued' AND id IN (
       SELECT id FROM host_jobs_item
        WHERE job_id = {p3} AND state = 'queued' AND not_before <= {p4}
        ORDER BY seq LIMIT {p5} {lock})
"""


def claim_sql(dialect: str) -> str:
    """One statement, so a claimer never holds a row lock while waiting for another.

    On PostgreSQL the subquery skips rows other transactions hold (SKIP LOCKED); the outer
    `state = 'queued'` condition is what makes the claim atomic on every database.
    """
    if dialect == "postgres":
        marks = {f"p{i}": f"${i}" for i in range(1, 6)}
        return _CLAIM.format(lock="FOR UPDATE SKIP LOCKED", **marks)
    return _CLAIM.format(lock="", **{f"p{i}": "?" for i in range(1, 6)})


async def claim_items(job_id: int, worker: str, lease_seconds: float, limit: int) -> list[JobItem]:
    """Claim up to `limit` claimable items of a job, in order; returns only the ones won."""
    now = time.time()
    token = f"{worker}:{uuid.uuid4().hex[:10]}"
    conn = connections.get(CONNECTION)
    sql = claim_sql(conn.capabilities.dialect)
    await conn.execute_query(sql, [token, now + lease_seconds, job_id, now, limit])
    items = await JobItem.filter(job_id=job_id, lease_owner=token, state="running").order_by("seq")
    if items:
        await JobItem.filter(id__in=[i.id for i in items]).update(started_at=now_utc())
    return items


async def fence(item: JobItem, **outcome: object) -> None:
    """Record an outcome only if this claim still holds the lease; else raise LeaseLost.

    Runs once per item, so it is one hand-built UPDATE (values converted by the model's own
    fields) rather than a queryset, whose SQL building costs more than the statement itself.
    """
    values = {"lease_expires": None, **outcome}
    conn = connections.get(CONNECTION)
    postgres = conn.capabilities.dialect == "postgres"
    fields = JobItem._meta.fields_map
    names = list(values)
    params: list[object] = [fields[name].to_db_value(values[name], JobItem) for name in names]
    params += [item.id, item.lease_owner]

    def mark(i: int) -> str:
        return f"${i}" if postgres else "?"

    assignments = ", ".join(
        f"{fields[n].source_field or n} = {mark(i + 1)}" for i, n in enumerate(names)
    )
    sql = (
        f"UPDATE host_jobs_item SET {assignments} WHERE id = {mark(len(names) + 1)} "
        f"AND state = 'running' AND lease_owner = {mark(len(names) + 2)}"
    )
    updated, _ = await conn.execute_query(sql, params)
    if updated != 1:
        raise LeaseLost(f"item {item.id}: lease lost")


async def renew(items: list[JobItem], lease_seconds: float) -> None:
    """Extend the lease of claimed items not started yet (a long claim outlives its lease)."""
    if items:
        await JobItem.filter(
            id__in=[i.id for i in items], state="running", lease_owner=items[0].lease_owner
        ).update(lease_expires=time.time() + lease_seconds)


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
    """The reaper's half of crash safety: items whose worker vanished become claimable again.

    Only unfinished jobs are looked at, through the (job, state, seq) index, so the cost does
    not grow with the history of finished jobs.
    """
    now = time.time()
    jobs = await Job.filter(state__in=("queued", "running", "paused")).values_list("id", flat=True)
    if not jobs:
        return 0
    return await JobItem.filter(
        job_id__in=list(jobs), state="running", lease_expires__lt=now
    ).update(state="queued", lease_owner=None, lease_expires=None)
