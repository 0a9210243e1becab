"""Jobs: async batches and plugin workflows run by Dramatiq workers, with the truth in the database.

A built-in plugin: the jobs REST endpoints, and (through its `install` hook) the async batch hook
(`host.batch.hooks.ASYNC_BATCH`) and the start-up work: the broker, and (embedded mode, or
`plughost worker`) the in-process worker and reaper. See docs/jobs.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from host.batch.hooks import ASYNC_BATCH
from host.config import SETTINGS
from host.jobs.alerts import WEBHOOKS
from host.jobs.api import routes, submit_async_batch
from host.jobs.models import Job
from host.jobs.service import JOBS, WORKER_MODE, JobService
from host.jobs.workflows import sync_schedules
from host.plugin import HEALTH, Plugin

__all__ = ("JOBS", "WORKER_MODE", "JobService", "plugin")


def _install(app: web.Application) -> None:
    settings = app[SETTINGS]
    app[JOBS] = JobService(app, settings)
    app[WEBHOOKS] = set()
    app[ASYNC_BATCH] = submit_async_batch
    app.cleanup_ctx.append(_jobs)

    async def health() -> dict[str, object]:
        service = app[JOBS]
        return {
            "status": "ok",
            "broker": type(service.broker).__name__ if service.broker else None,
            "consuming": service.worker is not None,
            "running_jobs": await Job.filter(state="running").count(),
        }

    app[HEALTH]["jobs"] = health


async def _jobs(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    service = app[JOBS]
    threads = app.get(WORKER_MODE)
    embedded = not settings.broker_url or settings.broker_url.startswith("stub")
    consume = threads is not None or embedded
    await sync_schedules(app)
    await service.start(consume=consume, threads=threads or settings.jobs_worker_threads)
    try:
        yield
    finally:
        await service.stop()


plugin = Plugin(
    name="host_jobs",
    version="1",
    models="host.jobs.models",
    package_dir=Path(__file__).resolve().parent,
    rest={"v1": routes},
    install=_install,
    description="Jobs: async batches, plugin workflows and schedules on Dramatiq",
)
