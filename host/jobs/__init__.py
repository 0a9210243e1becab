"""Jobs: async batches and plugin workflows run by Dramatiq workers, with the truth in the database.

`install(app)` adds the jobs REST endpoints, the async batch hook (`host.keys.ASYNC_BATCH`), and
the start-up work: the broker, and (embedded mode, or `plughost worker`) the in-process worker and
reaper. See docs/jobs.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

from aiohttp import web

from host.batch.hooks import ASYNC_BATCH
from host.config import SETTINGS
from host.jobs.service import JOBS, JobService
from host.pipeline import PIPELINE, ApiRequest
from host.plugin import HEALTH

__all__ = ("JOBS", "WORKER_MODE", "JobService", "install", "submit_batch")

WORKER_MODE = web.AppKey("jobs_worker_mode", int)
"""Set by `plughost worker` to the thread count: consume from the broker even with a broker URL."""


def install(app: web.Application) -> None:
    from host.jobs.alerts import WEBHOOKS
    from host.jobs.api import routes, submit_async_batch

    settings = app[SETTINGS]
    app[JOBS] = JobService(app, settings)
    app[WEBHOOKS] = set()
    app[ASYNC_BATCH] = submit_async_batch
    app[PIPELINE].host_routes.extend(replace(d, version="v1", plugin="host") for d in routes.defs)
    app[PIPELINE].add_stage(_job_credentials_stay_inside)
    app.cleanup_ctx.append(_jobs)

    async def health() -> dict[str, object]:
        from host.jobs.models import Job

        service = app[JOBS]
        return {
            "status": "ok",
            "broker": type(service.broker).__name__ if service.broker else None,
            "consuming": service.worker is not None,
            "running_jobs": await Job.filter(state="running").count(),
        }

    app[HEALTH]["jobs"] = health


async def _job_credentials_stay_inside(request: ApiRequest, call_next):  # type: ignore[no-untyped-def]
    """A job credential is only good for the job's own items, never over HTTP."""
    identity = request.identity
    if identity is not None and identity.kind == "job" and request.origin == "http":
        from host.problems import Problem

        raise Problem(
            401,
            "A job credential cannot be used over HTTP",
            headers={"WWW-Authenticate": 'Bearer realm="plughost"'},
        )
    return await call_next(request)


async def _jobs(app: web.Application) -> AsyncIterator[None]:
    from host.jobs.workflows import sync_schedules

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


async def submit_batch(request: ApiRequest, items: list[object], enclosing: bool) -> web.Response:
    """The async batch submission (also reachable as `app[host.keys.ASYNC_BATCH]`)."""
    from host.jobs.api import submit_async_batch

    return await submit_async_batch(request, items, enclosing)
