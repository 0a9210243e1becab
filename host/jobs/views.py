"""The one representation of a job, sent by the jobs API (`GET /api/v1/jobs/{id}`, lists, controls,
the 202 of a submission) and by the alerts (bus events `jobs.*` and the webhook); `JobView`
describes it for the API document."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from host.jobs.models import ITEM_STATES, TERMINAL, Job

__all__ = ("JobView", "iso", "job_view")


class JobView(BaseModel):
    """A job as `job_view` shows it."""

    id: int
    kind: str
    name: str
    state: str
    owner: str
    tenant: str
    total: int
    counts: dict[str, int]
    progress: float
    throughput: float
    enclosingTransaction: bool
    maxAttempts: int
    parallelism: int
    params: dict[str, Any]
    error: str | None
    createdAt: str | None
    startedAt: str | None
    finishedAt: str | None
    elapsedSeconds: float
    etaSeconds: float | None
    links: dict[str, str]


def iso(value: Any) -> str | None:
    """A datetime as ISO 8601, None as None."""
    return value.isoformat() if value is not None else None


def job_view(job: Job, counts: dict[str, int]) -> dict[str, Any]:
    """The job with its item counts by state (`JobService.counts`), progress and timing."""
    finished = sum(counts.get(s, 0) for s in ("done", "failed", "cancelled"))
    started = job.started_at.timestamp() if job.started_at else None
    end = job.finished_at.timestamp() if job.finished_at else time.time()
    elapsed = max(0.0, end - started) if started else 0.0
    rate = (counts.get("done", 0) + counts.get("failed", 0)) / elapsed if elapsed > 0 else 0.0
    remaining = job.total - finished
    return {
        "id": job.id,
        "kind": job.kind,
        "name": job.name,
        "state": job.state,
        "owner": job.owner,
        "tenant": job.tenant,
        "total": job.total,
        "counts": {s: counts.get(s, 0) for s in ITEM_STATES},
        "progress": round(finished / job.total, 4) if job.total else 1.0,
        "throughput": round(rate, 2),
        "enclosingTransaction": job.enclosing,
        "maxAttempts": job.max_attempts,
        "parallelism": job.parallelism,
        "params": job.params,
        "error": job.error,
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
        "elapsedSeconds": round(elapsed, 3),
        "etaSeconds": round(remaining / rate, 1)
        if rate > 0 and job.state not in TERMINAL
        else None,
        "links": {
            "self": f"/api/v1/jobs/{job.id}",
            "items": f"/api/v1/jobs/{job.id}/items",
            "events": f"/api/v1/jobs/{job.id}/events",
            "report": f"/api/v1/jobs/{job.id}/report",
        },
    }
