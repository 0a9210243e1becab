"""Plugin workflows: named batch processes run as jobs, chunked over a plugin's models, on a cron.

A plugin declares `Workflow(name, run=chunked(plan, step), params={...}, schedule="0 2 * * *")`.
`plan(ctx)` lists the chunks (small JSON dicts, e.g. id ranges); each chunk becomes a job item run
by `step(ctx, chunk)` on any worker, inside one transaction with its recorded outcome, with the
same pause/resume/retry/progress as any job. A plain `async def run(ctx)` is one single item.
Schedules use cronsim; each due run is claimed with one conditional UPDATE on its Schedule row, so
two hosts never both start it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from cronsim import CronSim, CronSimError
from tortoise.exceptions import IntegrityError

from host.auth import ADMIN_ROLE, Identity
from host.context import (
    RequestContext,
    context_for,
    current_context,
    reset_context,
    use_context,
)
from host.jobs.models import Job, JobItem, Schedule
from host.loader import REGISTRY
from host.plugin import Chunked, Workflow, WorkflowContext, chunked
from host.problems import Problem

__all__ = (
    "Chunked",
    "WorkflowContext",
    "chunked",
    "find_workflow",
    "list_workflows",
    "next_run",
    "plan_workflow",
    "run_step",
    "sync_schedules",
)

log = logging.getLogger("plughost.jobs")
SCHEDULER = Identity(subject="system:scheduler", roles=frozenset({ADMIN_ROLE}), kind="user")


@dataclass(frozen=True)
class Registered:
    name: str  # "<plugin>.<workflow>"
    plugin: str
    workflow: Workflow
    errors: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "plugin": self.plugin,
            "description": self.workflow.description,
            "params": dict(self.workflow.params),
            "schedule": self.workflow.schedule,
            "chunked": isinstance(self.workflow.run, Chunked),
        }


def list_workflows(app: web.Application) -> list[Registered]:
    return [
        Registered(f"{p.name}.{w.name}", p.name, w)
        for p in app[REGISTRY].loaded
        for w in p.workflows
    ]


def find_workflow(app: web.Application, name: str) -> Registered:
    for reg in list_workflows(app):
        if name in (reg.name, reg.workflow.name):
            return reg
    raise Problem(404, f"No workflow named {name!r}")


def next_run(cron: str, after: float) -> float:
    """The next time `cron` fires after `after` (Unix seconds, UTC)."""
    start = datetime.fromtimestamp(after, UTC).replace(microsecond=0)
    return next(CronSim(cron, start)).timestamp()


def merge_params(workflow: Workflow, given: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(workflow.params))
    if unknown and workflow.params:
        raise Problem(422, f"Unknown workflow parameter(s): {', '.join(unknown)}", errors=unknown)
    return {**dict(workflow.params), **given}


async def plan_workflow(
    app: web.Application,
    name: str,
    params: dict[str, Any],
    identity: Identity,
    tenant: str,
) -> tuple[Registered, dict[str, Any], list[dict[str, Any]]]:
    """A run's job items, planned in this process: (workflow, merged params, one item per chunk).

    `JobService.start_workflow` stores them as a job.
    """
    reg = find_workflow(app, name)
    values = merge_params(reg.workflow, params)
    ctx = WorkflowContext(app=app, params=values, identity=identity, tenant=tenant)
    run = reg.workflow.run
    # planning reads the run's tenant's rows: a scheduled run has no request context of its own
    now = current_context()
    token = use_context(now if now is not None and now.tenant == tenant else context_for(tenant))
    try:
        chunks = await run.plan(ctx) if isinstance(run, Chunked) else [{}]
    finally:
        reset_context(token)
    items = [
        {"request": {"workflow": reg.name, "chunk": c}, "ref": str(i)} for i, c in enumerate(chunks)
    ]
    return reg, values, items


async def run_step(
    app: web.Application, job: Job, item: JobItem, identity: Identity, context: RequestContext
) -> Any:
    reg = find_workflow(app, job.name)
    ctx = WorkflowContext(
        app=app,
        params=dict(job.params),
        identity=identity,
        tenant=job.tenant,
        job_id=job.id,
        context=context,
    )
    run = reg.workflow.run
    token = use_context(context)  # the step reads and writes the job's tenant's rows
    try:
        if isinstance(run, Chunked):
            return await run.step(ctx, dict(item.request.get("chunk") or {}))
        return await run(ctx)
    finally:
        reset_context(token)


async def sync_schedules(app: web.Application) -> list[str]:
    """Make the Schedule rows match the workflows declared now; returns problems found."""
    problems: list[str] = []
    now = time.time()
    declared: dict[str, str] = {}
    for reg in list_workflows(app):
        cron = reg.workflow.schedule
        if not cron:
            continue
        try:
            first = next_run(cron, now)
        except (CronSimError, ValueError) as exc:
            problems.append(f"workflow {reg.name!r}: bad schedule {cron!r}: {exc}")
            continue
        declared[reg.name] = cron
        row = await Schedule.get_or_none(workflow=reg.name)
        if row is None:
            try:
                await Schedule.create(workflow=reg.name, cron=cron, next_run=first)
            except IntegrityError:
                log.info("schedule row created by another host", extra={"workflow": reg.name})
        elif row.cron != cron:
            await Schedule.filter(id=row.id).update(cron=cron, next_run=first)
    for problem in problems:
        log.error("schedule ignored", extra={"problem": problem})
    return problems
