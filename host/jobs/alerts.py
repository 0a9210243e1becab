"""Alerts when a job ends: bus events `jobs.completed` / `jobs.failed`, and an optional webhook.

The payload is the job as the jobs API shows it (`host.jobs.views.job_view`), plus `failedRatio`.

The webhook (PLUGHOST_JOBS_WEBHOOK_URL) is a JSON POST signed with HMAC-SHA256 over
"<timestamp>.<body>" (header `X-Plughost-Signature: t=<timestamp>,v1=<hex>`), retried with
exponential backoff on network errors and 5xx. It is sent for failed jobs whose failed-item
ratio reaches PLUGHOST_JOBS_ALERT_FAILED_RATIO.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web

from host.bus import BUS
from host.config import SETTINGS
from host.jobs.models import Job
from host.jobs.views import job_view

__all__ = ("job_finished", "sign", "verify_signature")

log = logging.getLogger("plughost.jobs")
SIGNATURE_HEADER = "X-Plughost-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


async def job_finished(app: web.Application, job: Job, counts: dict[str, int]) -> None:
    payload = job_view(job, counts)
    topic = "jobs.failed" if job.state == "failed" else "jobs.completed"
    await app[BUS].publish(topic, payload)
    settings = app[SETTINGS]
    ratio = counts.get("failed", 0) / job.total if job.total else 1.0
    if (
        job.state == "failed"
        and settings.jobs_webhook_url
        and ratio >= settings.jobs_alert_failed_ratio
    ):
        payload["failedRatio"] = round(ratio, 4)
        app[WEBHOOKS].add(asyncio.get_running_loop().create_task(send_webhook(app, topic, payload)))
        await Job.filter(id=job.id).update(alerted=True)


async def failure_ratio_passed(app: web.Application, job: Job, counts: dict[str, int]) -> None:
    """Mid-job: the failed-item ratio reached the threshold (sent once per job, by one process)."""
    payload = job_view(job, counts)
    payload["failedRatio"] = round(counts.get("failed", 0) / job.total, 4) if job.total else 1.0
    await app[BUS].publish("jobs.failing", payload)
    if app[SETTINGS].jobs_webhook_url:
        loop = asyncio.get_running_loop()
        app[WEBHOOKS].add(loop.create_task(send_webhook(app, "jobs.failing", payload)))


WEBHOOKS = web.AppKey("jobs_webhook_tasks", set)


async def send_webhook(
    app: web.Application, topic: str, payload: dict[str, Any], attempts: int = 5
) -> bool:
    settings = app[SETTINGS]
    secret = settings.jobs_webhook_secret or settings.resolved_secret_key()
    body = json.dumps({"event": topic, **payload}).encode()
    delay = 0.5
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            for attempt in range(1, attempts + 1):
                headers = {
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(secret, body, int(time.time())),
                    "X-Plughost-Event": topic,
                }
                try:
                    async with session.post(
                        settings.jobs_webhook_url, data=body, headers=headers
                    ) as resp:
                        if resp.status < 500:
                            return resp.status < 400
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.warning("webhook failed", extra={"attempt": attempt, "error": repr(exc)})
                await asyncio.sleep(delay)
                delay *= 2
    finally:
        task = asyncio.current_task()
        if task is not None:
            app[WEBHOOKS].discard(task)
    return False
