"""REST for jobs and workflows (host routes under /api/v1), and the async batch submission.

Only the submitter and `admin` see or control a job, and only within the tenant it was submitted
in; anyone else gets 404 (not 403: a job id reveals nothing).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from host.auth import Identity
from host.batch.plan import build_plan
from host.data.db import db_int
from host.drain import track_stream
from host.jobs.models import ITEM_STATES, JOB_STATES, TERMINAL, Job, JobItem, Schedule
from host.jobs.service import JOBS, JobService
from host.jobs.views import JobView, iso, job_view
from host.jobs.workflows import list_workflows
from host.pipeline import ApiRequest, Routes
from host.problems import Problem

__all__ = ("routes", "submit_async_batch")

routes = Routes()
TAGS = ("jobs",)


# answers (for the API document) ------------------------------------------------------------
class JobPage(BaseModel):
    totalFilteredRecords: int
    pageItems: list[JobView]


class JobItemView(BaseModel):
    """One item of a job and its outcome (`item_view`); the report leaves `request` out."""

    seq: int
    requestId: Any
    state: str
    attempts: int
    statusCode: int | None
    body: Any
    error: str | None
    request: dict[str, Any] | None = None
    nextAttemptAt: str | None
    startedAt: str | None
    finishedAt: str | None


class JobItemPage(BaseModel):
    totalFilteredRecords: int
    pageItems: list[JobItemView]


class JobControlled(JobView):
    """The job after pause/resume/cancel/retry; a retry also says how many items it queued."""

    retried: int | None = None


class JobReport(JobView):
    items: list[JobItemView]


class WorkflowView(BaseModel):
    name: str
    plugin: str
    description: str
    params: dict[str, Any]
    schedule: str | None
    chunked: bool
    nextRun: Any = None
    lastRun: Any = None
    lastJobId: int | None = None


class WorkflowList(BaseModel):
    workflows: list[WorkflowView]


def _query(**schemas: dict[str, Any]) -> dict[str, Any]:
    """An `openapi` fragment of optional query parameters."""
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in schemas.items()
        ]
    }


def _window(limit: int) -> dict[str, dict[str, Any]]:
    """`offset` and `limit` as `_int` reads them."""
    return {
        "offset": {"type": "integer", "minimum": 0, "maximum": 10**9},
        "limit": {"type": "integer", "minimum": 1, "maximum": limit},
    }


def _text(media: str, description: str) -> dict[str, Any]:
    """An `openapi` fragment for a 200 that is (also) text: SSE, CSV."""
    content = {media: {"schema": {"type": "string"}}}
    return {"responses": {"200": {"description": description, "content": content}}}


def _service(request: ApiRequest[Any]) -> JobService:
    return request.app[JOBS]


def _me(request: ApiRequest[Any]) -> Identity:
    identity = request.identity
    if identity is None:  # routes are not public; the pipeline answered 401 already
        raise Problem(401, "Authentication required")
    if identity.kind == "job":
        raise Problem(403, "A job credential cannot manage jobs")
    return identity


def _int(request: ApiRequest, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        if not raw.isascii():  # int() reads other scripts' digits
            raise ValueError(raw)
        value = int(raw)
    except ValueError:
        raise Problem(400, f"?{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise Problem(400, f"?{name} must be between {lo} and {hi}")
    return value


async def _job(request: ApiRequest) -> Job:
    identity = _me(request)
    raw = request.match_info.get("id", "")
    job_id = db_int(raw)
    job = await Job.get_or_none(id=job_id) if job_id is not None else None
    visible = job is not None and job.tenant == request.tenant
    if job is None or not visible or not (identity.is_admin or job.owner == identity.subject):
        raise Problem(404, f"No job {raw}")
    return job


async def _view(service: JobService, job: Job) -> dict[str, Any]:
    return job_view(job, await service.counts(job.id))


def item_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": item["seq"],
        "requestId": item["request"].get("requestId", item["ref"])
        if item["request"]
        else item["ref"],
        "state": item["state"],
        "attempts": item["attempts"],
        "statusCode": item["status"],
        "body": item["result"],
        "error": item["error"],
        "request": item["request"],
        "nextAttemptAt": (
            datetime.fromtimestamp(item["not_before"], UTC).isoformat()
            if item["state"] == "queued" and item["not_before"]
            else None
        ),
        "startedAt": iso(item["started_at"]),
        "finishedAt": iso(item["finished_at"]),
    }


ITEM_FIELDS = (
    "seq",
    "ref",
    "request",
    "state",
    "attempts",
    "status",
    "result",
    "error",
    "started_at",
    "finished_at",
    "not_before",
)


@routes.get(
    "/jobs",
    tags=TAGS,
    response=JobPage,
    openapi=_query(
        state={"type": "string", "enum": list(JOB_STATES)},
        kind={"type": "string"},
        name={"type": "string"},
        owner={"type": "string"},
        **_window(500),
    ),
)
async def list_jobs(request: ApiRequest) -> web.Response:
    """Jobs you may see (?state=, ?kind=, ?name=, ?owner= for admins; paged ?offset=&limit=)."""
    identity = _me(request)
    query = Job.filter(tenant=request.tenant)
    if not identity.is_admin:
        query = query.filter(owner=identity.subject)
    elif request.query.get("owner"):
        query = query.filter(owner=request.query["owner"])
    state = request.query.get("state")
    if state:
        if state not in JOB_STATES:
            raise Problem(400, f"?state must be one of {', '.join(JOB_STATES)}")
        query = query.filter(state=state)
    for name in ("kind", "name"):
        if request.query.get(name):
            query = query.filter(**{name: request.query[name]})
    offset = _int(request, "offset", 0, 0, 10**9)
    limit = _int(request, "limit", 50, 1, 500)
    total = await query.count()
    jobs = await query.order_by("-id").offset(offset).limit(limit)
    service = _service(request)
    page = [await _view(service, job) for job in jobs]
    return web.json_response({"totalFilteredRecords": total, "pageItems": page})


@routes.get("/jobs/{id}", tags=TAGS, response=JobView)
async def get_job(request: ApiRequest) -> web.Response:
    """A job: state, counts by item state, progress, throughput and timing."""
    return web.json_response(await _view(_service(request), await _job(request)))


@routes.get(
    "/jobs/{id}/items",
    tags=TAGS,
    response=JobItemPage,
    openapi=_query(state={"type": "string", "enum": list(ITEM_STATES)}, **_window(1000)),
)
async def job_items(request: ApiRequest) -> web.Response:
    """The job's items with their results, paged (?state=failed&offset=&limit=)."""
    job = await _job(request)
    query = JobItem.filter(job_id=job.id)
    state = request.query.get("state")
    if state:
        if state not in ITEM_STATES:
            raise Problem(400, f"?state must be one of {', '.join(ITEM_STATES)}")
        query = query.filter(state=state)
    offset = _int(request, "offset", 0, 0, 10**9)
    limit = _int(request, "limit", 100, 1, 1000)
    total = await query.count()
    rows = await query.order_by("seq").offset(offset).limit(limit).values(*ITEM_FIELDS)
    return web.json_response(
        {"totalFilteredRecords": total, "pageItems": [item_view(r) for r in rows]}
    )


async def _control(request: ApiRequest, action: str) -> web.Response:
    job = await _job(request)
    service = _service(request)
    allowed = {
        "pause": ("queued", "running"),
        "resume": ("paused",),
        "cancel": ("queued", "running", "paused"),
        "retry": ("completed", "failed", "running", "cancelled"),
    }[action]
    if job.state not in allowed:
        raise Problem(409, f"Cannot {action} a job that is {job.state}", slug="job-state")
    extra: dict[str, Any] = {}
    if action == "pause":
        await service.pause(job)
    elif action == "resume":
        await service.resume(job)
    elif action == "cancel":
        await service.cancel(job)
    else:
        extra["retried"] = await service.retry_failed(job)
    await job.refresh_from_db()
    return web.json_response({**(await _view(service, job)), **extra})


@routes.post("/jobs/{id}/pause", tags=TAGS, response=JobControlled)
async def pause_job(request: ApiRequest) -> web.Response:
    """Pause: running items finish, no new item starts, on every worker; survives restarts."""
    return await _control(request, "pause")


@routes.post("/jobs/{id}/resume", tags=TAGS, response=JobControlled)
async def resume_job(request: ApiRequest) -> web.Response:
    """Resume a paused job."""
    return await _control(request, "resume")


@routes.post("/jobs/{id}/cancel", tags=TAGS, response=JobControlled)
async def cancel_job(request: ApiRequest) -> web.Response:
    """Cancel: items not started are cancelled; running ones finish."""
    return await _control(request, "cancel")


@routes.post("/jobs/{id}/retry", tags=TAGS, response=JobControlled)
async def retry_job(request: ApiRequest) -> web.Response:
    """Run the failed items again (only those), with a fresh attempts count."""
    return await _control(request, "retry")


@routes.get(
    "/jobs/{id}/events",
    tags=TAGS,
    openapi={
        **_text("text/event-stream", "`progress` events (each a job, as GET shows it), then `end`"),
        **_query(untilPaused={"type": "string", "description": "Also end when the job pauses"}),
    },
)
async def job_events(request: ApiRequest) -> web.StreamResponse:
    """Live progress as Server-Sent Events (`progress` events, then one `end`)."""
    job = await _job(request)
    if request.raw is None:
        raise Problem(406, "Server-Sent Events need an HTTP connection")
    service = _service(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request.raw)
    track_stream(request.app, response)  # ended when the process drains (SIGTERM)
    try:
        await _stream_progress(response, job, service, request)
        await response.write_eof()
    except ConnectionError:  # the client went away: nothing left to answer
        pass
    return response


async def _stream_progress(
    response: web.StreamResponse, job: Job, service: JobService, request: ApiRequest
) -> None:
    last = ""
    beat = time.monotonic()
    while True:
        await job.refresh_from_db()
        view = await _view(service, job)
        text = json.dumps(view)
        comparable = json.dumps({**view, "elapsedSeconds": 0, "throughput": 0, "etaSeconds": 0})
        if comparable != last:
            await response.write(f"event: progress\nid: {job.id}\ndata: {text}\n\n".encode())
            last, beat = comparable, time.monotonic()
        elif time.monotonic() - beat > 15:
            await response.write(b": keep-alive\n\n")
            beat = time.monotonic()
        if job.state in TERMINAL or (job.state == "paused" and request.query.get("untilPaused")):
            await response.write(f"event: end\ndata: {text}\n\n".encode())
            return
        await asyncio.sleep(0.5)


@routes.get(
    "/jobs/{id}/report",
    tags=TAGS,
    response=JobReport,
    openapi={
        **_text("text/csv", "The job with every item's outcome (CSV: one row per item)"),
        **_query(format={"type": "string", "enum": ["json", "csv"]}),
    },
)
async def job_report(request: ApiRequest) -> web.StreamResponse:
    """The job and every item's outcome: JSON, or CSV with ?format=csv (or Accept: text/csv)."""
    job = await _job(request)
    fmt = request.query.get("format") or (
        "csv" if "text/csv" in request.headers.get("Accept", "") else "json"
    )
    if fmt not in ("json", "csv"):
        raise Problem(400, "?format must be json or csv")
    view = await _view(_service(request), job)
    rows = await JobItem.filter(job_id=job.id).order_by("seq").values(*ITEM_FIELDS)
    if fmt == "json":
        view["items"] = [{k: v for k, v in item_view(r).items() if k != "request"} for r in rows]
        return web.json_response(
            view, headers={"Content-Disposition": f'attachment; filename="job-{job.id}.json"'}
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "seq",
            "requestId",
            "state",
            "attempts",
            "statusCode",
            "error",
            "startedAt",
            "finishedAt",
            "body",
        ]
    )
    for r in rows:
        v = item_view(r)
        writer.writerow(
            [
                v["seq"],
                v["requestId"],
                v["state"],
                v["attempts"],
                v["statusCode"] or "",
                v["error"] or "",
                v["startedAt"] or "",
                v["finishedAt"] or "",
                json.dumps(v["body"]) if v["body"] is not None else "",
            ]
        )
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="job-{job.id}.csv"'},
    )


# workflows ----------------------------------------------------------------------------------
class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    params: dict[str, Any] = Field(default_factory=dict)


@routes.get("/workflows", tags=("workflows",), response=WorkflowList)
async def list_workflows_route(request: ApiRequest) -> web.Response:
    """Workflows the loaded plugins offer, with parameters and schedules."""
    _me(request)
    schedules = {s.workflow: s for s in await Schedule.all()}
    out = []
    for reg in list_workflows(request.app):
        view = reg.describe()
        row = schedules.get(reg.name)
        if row is not None:
            view["nextRun"] = row.next_run
            view["lastRun"] = row.last_run
            view["lastJobId"] = row.last_job_id
        out.append(view)
    return web.json_response({"workflows": out})


@routes.post(
    "/workflows/{name}/runs",
    roles=("workflows:run",),
    body=RunBody,
    tags=("workflows",),
    status=202,
    response=JobView,
    openapi={"responses": {"202": {"description": "Accepted: the job's URL is in Location"}}},
)
async def run_workflow(request: ApiRequest[RunBody]) -> web.Response:
    """Start a workflow run now: 202 with the job's Location."""
    body = request.validated
    service = _service(request)
    job = await service.start_workflow(
        request.match_info["name"], body.params, _me(request), request.tenant
    )
    return await _accepted(service, job)


async def _accepted(service: JobService, job: Job) -> web.Response:
    """202 with the job (as `GET /api/v1/jobs/{id}` shows it) and its Location."""
    return web.json_response(
        await _view(service, job), status=202, headers={"Location": f"/api/v1/jobs/{job.id}"}
    )


async def submit_async_batch(
    request: ApiRequest, items: list[Any], enclosing: bool
) -> web.Response:
    """A parsed, validated batch (host.batch.items.BatchItem list) stored as a job: 202 + Location."""
    identity = _me(request)
    service = _service(request)
    if len(items) > service.settings.jobs_max_items:
        raise Problem(
            413, f"The job has {len(items)} items; the limit is {service.settings.jobs_max_items}"
        )
    plan = build_plan(items)
    version = request.route.version if request.route is not None and request.route.version else "v1"
    # an enclosing job runs its items one after the other: store them in dependency order
    ordered = [items[i] for i in plan.order] if enclosing else items
    position = {item.index: seq for seq, item in enumerate(ordered)}
    rows = [
        {
            "ref": item.key,
            "deps": [position[p] for p in plan.parents[item.index]],
            "request": {
                "requestId": item.request_id,
                "version": item.version or version,
                "method": item.method,
                "relativeUrl": item.relative_url,
                "headers": [list(h) for h in item.headers],
                "reference": item.reference,
                "body": item.body if item.has_body else None,
            },
        }
        for item in ordered
    ]
    max_attempts = _int(request, "maxAttempts", service.settings.jobs_max_attempts, 1, 100)
    job = await service.create_job(
        kind="batch",
        name=request.query.get("name", "batch")[:200],
        identity=identity,
        tenant=request.tenant,
        items=rows,
        enclosing=enclosing,
        max_attempts=max_attempts,
    )
    return await _accepted(service, job)
