"""The job's truth (Tortoise app "host_jobs"): jobs, their items, and workflow schedules.

The broker only carries "work on job N" messages; what is done, running (and by whom, until when),
queued or failed is here, so a lost or repeated broker message never loses or repeats an item.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = ("ACTIVE", "ITEM_STATES", "JOB_STATES", "TERMINAL", "Job", "JobItem", "Schedule")

JOB_STATES = ("queued", "running", "paused", "cancelled", "completed", "failed")
ACTIVE = ("queued", "running")
"""A pump works on the job."""
TERMINAL = ("completed", "failed", "cancelled")
"""The job is over (retry can reopen a completed, failed or cancelled job)."""
ITEM_STATES = ("waiting", "queued", "running", "done", "failed", "cancelled")
"""waiting: a dependency is not done yet; queued: claimable; running: leased by a worker."""


class Job(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=20)  # batch | workflow
    name = fields.CharField(max_length=200, default="")
    owner = fields.CharField(max_length=150, db_index=True)
    tenant = fields.CharField(max_length=64, default="default", db_index=True)
    state = fields.CharField(max_length=12, default="queued", db_index=True)
    total = fields.IntField(default=0)
    enclosing = fields.BooleanField(default=False)
    """enclosingTransaction: every item in one transaction, all or nothing."""
    max_attempts = fields.IntField(default=3)
    parallelism = fields.IntField(default=4)
    credential = fields.TextField(default="")
    """A JWT scoped to this job (kind "job", scope "job:<id>"), expiring; never the caller's token."""
    params: dict[str, Any] = fields.JSONField(default=dict)
    error = fields.TextField(null=True)
    alerted = fields.BooleanField(default=False)
    heartbeat = fields.FloatField(default=0.0)
    """Unix time a worker last worked on this job; the reaper wakes stale running jobs."""
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        app = "host_jobs"
        table = "host_jobs_job"


class JobItem(Model):
    id = fields.BigIntField(primary_key=True)
    job: fields.ForeignKeyRelation[Job] = fields.ForeignKeyField(
        "host_jobs.Job", related_name="items", on_delete=fields.CASCADE
    )
    seq = fields.IntField()
    ref = fields.CharField(max_length=100, default="")
    """The item's requestId in the batch (what later items refer to)."""
    request: dict[str, Any] = fields.JSONField()
    """The full request: method, relativeUrl, headers, body (never a truncated repr)."""
    deps: list[int] = fields.JSONField(default=list)
    children: list[int] = fields.JSONField(default=list)
    pending = fields.IntField(default=0)
    state = fields.CharField(max_length=10, default="queued")
    attempts = fields.IntField(default=0)
    lease_owner = fields.CharField(max_length=100, null=True)
    lease_expires = fields.FloatField(null=True)
    not_before = fields.FloatField(default=0.0)
    """Backoff: the item is not claimed before this Unix time."""
    status = fields.IntField(null=True)
    result: Any = fields.JSONField(null=True)
    error = fields.TextField(null=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        app = "host_jobs"
        table = "host_jobs_item"
        unique_together = (("job", "seq"),)
        indexes = (("job", "state", "seq"),)


class Schedule(Model):
    """One row per scheduled workflow: the next due time is claimed by one host only."""

    id = fields.IntField(primary_key=True)
    workflow = fields.CharField(max_length=200, unique=True)
    cron = fields.CharField(max_length=100)
    next_run = fields.FloatField()
    last_run = fields.FloatField(null=True)
    last_job_id = fields.IntField(null=True)
    claimed_by = fields.CharField(max_length=100, null=True)

    class Meta:
        app = "host_jobs"
        table = "host_jobs_schedule"
