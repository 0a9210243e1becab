"""Jobs pages: list with filters, live progress (SSE), detail with failed items first, controls,
and starting a plugin workflow. Reads and acts through the jobs API in-process (`/api/v1/jobs...`).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from admin.client import call
from admin.events import send_event, sse_response
from admin.render import page
from admin.routes import when as _when
from host.problems import Problem

__all__ = ("chart_points", "job_view", "web_routes")

web_routes = web.RouteTableDef()
JOB_STATES = ("queued", "running", "paused", "cancelled", "completed", "failed")
FINAL_STATES = frozenset({"cancelled", "completed", "failed"})
ACTIONS = ("pause", "resume", "cancel", "retry")
POLL_SECONDS = 0.5
CHART_W, CHART_H = 480, 120
CHART_BUCKETS = 30
CHART_ITEMS = 5000
"""The chart of a job page reads the finish times of at most this many items (5 API pages)."""


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def job_view(data: Any) -> dict[str, Any]:
    """The fields the pages show, from the jobs API's representation of one job
    (`host.jobs.views.job_view`: the API, its 202 answers and the alerts all send that one)."""
    d = data if isinstance(data, dict) else {}
    counts = {str(k): _int(v) for k, v in (d.get("counts") or {}).items()}
    rate = _float(d.get("throughput"))
    progress = (_float(d.get("progress")) or 0.0) * 100.0  # the API gives a fraction
    return {
        "id": d.get("id", ""),
        "name": str(d.get("name") or ""),
        "kind": str(d.get("kind", "")),
        "state": str(d.get("state", "unknown")),
        "submitter": str(d.get("owner") or ""),
        "tenant": str(d.get("tenant") or ""),
        "total": _int(d.get("total")),
        "done": counts.get("done", 0),
        "failed": counts.get("failed", 0),
        "running": counts.get("running", 0),
        "queued": counts.get("queued", 0) + counts.get("waiting", 0),
        "counts": counts,
        "progress": round(min(max(progress, 0.0), 100.0), 1),
        "rate": round(rate, 2) if rate is not None else None,
        "average": round(rate, 2) if rate is not None else None,
        "created_at": _when(d.get("createdAt")),
        "started_at": _when(d.get("startedAt")),
        "finished_at": _when(d.get("finishedAt")),
        "eta": d.get("etaSeconds"),
        "error": str(d.get("error") or ""),
        "final": str(d.get("state", "")) in FINAL_STATES,
    }


def _list_items(data: Any, key: str) -> list[Any]:
    """The list under `key` of an API answer (`pageItems` for pages, `workflows`)."""
    found = data.get(key) if isinstance(data, dict) else None
    return list(found) if isinstance(found, list) else []


def chart_points(rates: list[float], width: int = CHART_W, height: int = CHART_H) -> str:
    """SVG polyline points for a throughput series (same scale as admin.js draws live)."""
    if not rates:
        return ""
    top = max([*rates, 1.0])
    n = max(len(rates) - 1, 1)
    return " ".join(
        f"{i * (width - 10) / n + 5:.1f},{height - 15 - r / top * (height - 25):.1f}"
        for i, r in enumerate(rates)
    )


def throughput_series(
    finished: list[datetime],
    start: datetime | None,
    end: datetime | None,
    buckets: int = CHART_BUCKETS,
) -> tuple[list[float], float]:
    """Items/s in `buckets` equal slices of [start, end] from the items' finish times; and the
    slice width in seconds. A pure function (the chart of a job page, drawn without JavaScript)."""
    if not finished:
        return [], 0.0
    start = start or min(finished)
    end = end or max(finished)
    span = max((end - start).total_seconds(), 1.0)
    width = span / buckets
    counts = [0] * buckets
    for at in finished:
        index = int((at - start).total_seconds() / width)
        counts[min(max(index, 0), buckets - 1)] += 1
    return [round(c / width, 2) for c in counts], width


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _chart(request: web.Request, job_id: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The job's throughput over its run, from the finish times of (up to CHART_ITEMS) items."""
    finished: list[datetime] = []
    for offset in range(0, CHART_ITEMS, 1000):
        result = await call(
            request,
            "GET",
            f"/api/v1/jobs/{quote(job_id, safe='')}/items",
            query={"offset": str(offset), "limit": "1000"},
            tenant=_tenant(request),
        )
        page_items = _list_items(result.data, "pageItems") if result.ok else []
        for item in page_items:
            at = _parse_time(item.get("finishedAt") if isinstance(item, dict) else None)
            if at is not None:
                finished.append(at)
        if len(page_items) < 1000:
            break
    start = _parse_time(raw.get("startedAt"))
    end = _parse_time(raw.get("finishedAt")) or (datetime.now(UTC) if finished else None)
    rates, width = throughput_series(finished, start, end)
    total = _int(raw.get("total"))
    label = f"items/s per {width:.1f} s over the run" if rates else "no item finished yet"
    if total > CHART_ITEMS:
        label += f" (first {CHART_ITEMS} items)"
    return {
        "points": chart_points(rates),
        "rates": rates,
        "peak": max(rates) if rates else 0.0,
        "label": label,
    }


def _filters(request: web.Request) -> dict[str, str]:
    q = request.query
    names = ("state", "kind", "submitter", "tenant")
    return {k: q.get(k, "").strip() for k in names if q.get(k, "").strip()}


def _tenant(request: web.Request) -> str | None:
    """The tenant a page looks at (`?tenant=`): jobs are listed and controlled in their tenant."""
    return request.query.get("tenant", "").strip() or None


def _in_tenant(url: str, tenant: str | None) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'tenant': tenant})}" if tenant else url


def _api_filters(filters: dict[str, str]) -> dict[str, str]:
    """The page's filter names to the jobs API's (the submitter is the job's `owner`)."""
    out = dict(filters)
    out.pop("tenant", None)  # not a filter: the tenant the call runs in
    if "submitter" in out:
        out["owner"] = out.pop("submitter")
    return out


async def _jobs(request: web.Request, filters: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
    query = {**_api_filters(filters), "limit": "100"}
    result = await call(request, "GET", "/api/v1/jobs", query=query, tenant=filters.get("tenant"))
    if not result.ok:
        return [], result.detail
    return [job_view(j) for j in _list_items(result.data, "pageItems")], ""


@web_routes.get("/jobs")
async def jobs_list(request: web.Request) -> web.StreamResponse:
    filters = _filters(request)
    jobs, unavailable = await _jobs(request, filters)
    return page(
        request,
        "jobs_list.html",
        {
            "jobs": jobs,
            "filters": filters,
            "states": JOB_STATES,
            "unavailable": unavailable,
            "stream": "/admin/jobs/stream?" + urlencode(filters),
        },
    )


@web_routes.get("/jobs/stream")
async def jobs_stream(request: web.Request) -> web.StreamResponse:
    """The filtered job list, sent again whenever it changes (SSE)."""
    filters = _filters(request)
    response = await sse_response(request)
    last = ""
    try:
        while True:
            jobs, _ = await _jobs(request, filters)
            body = json.dumps(jobs, default=str)
            if body != last:
                await send_event(response, jobs, "jobs")
                last = body
            else:
                await response.write(b": keep-alive\n\n")
            await asyncio.sleep(POLL_SECONDS * 2)
    except ConnectionResetError:
        pass
    return response


async def _job_raw(request: web.Request, job_id: str) -> dict[str, Any]:
    result = await call(
        request, "GET", f"/api/v1/jobs/{quote(job_id, safe='')}", tenant=_tenant(request)
    )
    if not result.ok:
        raise Problem(result.status, result.detail)
    return result.data if isinstance(result.data, dict) else {}


async def _job(request: web.Request, job_id: str) -> dict[str, Any]:
    return job_view(await _job_raw(request, job_id))


def _item_view(item: Any) -> dict[str, Any]:
    d = item if isinstance(item, dict) else {}
    sent = d.get("request")
    request: dict[str, Any] = sent if isinstance(sent, dict) else {}
    error = d.get("error")
    if isinstance(error, dict | list):
        error = json.dumps(error)
    return {
        "seq": d.get("seq", ""),
        "ref": str(d.get("requestId") or ""),
        "state": str(d.get("state", "")),
        "attempts": _int(d.get("attempts")),
        "status": d.get("statusCode") or "",
        "request": f"{request.get('method', '')} {request.get('relativeUrl', '')}".strip(),
        "error": str(error or ""),
        "finished_at": _when(d.get("finishedAt")),
    }


async def _items(
    request: web.Request, job_id: str, state: str | None, limit: int = 20
) -> list[dict[str, Any]]:
    query = {"limit": str(limit)} | ({"state": state} if state else {})
    result = await call(
        request,
        "GET",
        f"/api/v1/jobs/{quote(job_id, safe='')}/items",
        query=query,
        tenant=_tenant(request),
    )
    return [_item_view(i) for i in _list_items(result.data, "pageItems")] if result.ok else []


@web_routes.get("/jobs/{id}")
async def job_detail(request: web.Request) -> web.StreamResponse:
    job_id = request.match_info["id"]
    raw = await _job_raw(request, job_id)
    job = job_view(raw)
    failed = await _items(request, job_id, "failed", limit=100)
    others = [i for i in await _items(request, job_id, None) if i["state"] != "failed"]
    chart = await _chart(request, job_id, raw)
    return page(
        request,
        "job_detail.html",
        {
            "job": job,
            "tenant_query": _in_tenant("", _tenant(request)),
            "failed": failed,
            "others": others,
            "flash": request.query.get("flash", ""),
            "chart_w": CHART_W,
            "chart_h": CHART_H,
            "chart": chart,
        },
    )


@web_routes.get("/jobs/{id}/stream")
async def job_stream(request: web.Request) -> web.StreamResponse:
    """One job's progress (SSE): state, counts, progress and a measured items/s, until it ends."""
    job_id = request.match_info["id"]
    response = await sse_response(request)
    last_done: int | None = None
    last_at = time.monotonic()
    try:
        while True:
            try:
                job = await _job(request, job_id)
            except Problem as exc:
                await send_event(response, {"error": exc.detail}, "error")
                break
            now = time.monotonic()
            finished = job["done"] + job["failed"]
            # a live sample: items finished per second since the previous update (none at first)
            job["rate"] = (
                round(max((finished - last_done) / max(now - last_at, 1e-3), 0.0), 2)
                if last_done is not None
                else None
            )
            last_done, last_at = finished, now
            await send_event(response, job, "job")
            if job["final"]:
                break
            await asyncio.sleep(POLL_SECONDS)
    except ConnectionResetError:
        pass
    return response


@web_routes.post("/jobs/{id}/{action}")
async def job_action(request: web.Request) -> web.StreamResponse:
    job_id, action = request.match_info["id"], request.match_info["action"]
    if action not in ACTIONS:
        raise Problem(404, f"Unknown action {action!r}; one of {', '.join(ACTIONS)}")
    tenant = _tenant(request)
    result = await call(
        request, "POST", f"/api/v1/jobs/{quote(job_id, safe='')}/{action}", tenant=tenant
    )
    if not result.ok:
        raise Problem(result.status, f"Could not {action} job {job_id}: {result.detail}")
    raise web.HTTPSeeOther(_in_tenant(f"/admin/jobs/{quote(job_id)}?flash={action}", tenant))


# workflows -----------------------------------------------------------------------------------
def workflow_view(data: Any) -> dict[str, Any]:
    d = data if isinstance(data, dict) else {}
    params = d.get("params") or d.get("parameters") or {}
    fields = []
    if isinstance(params, dict):
        # a JSON-Schema-like {"properties": {...}} or a plain {name: spec|default}
        nested = params.get("properties")
        props: dict[str, Any] = nested if isinstance(nested, dict) else params
        for name, spec in props.items():
            spec_d = spec if isinstance(spec, dict) else {"default": spec}
            default = spec_d.get("default", "")
            fields.append(
                {
                    "name": str(name),
                    "type": str(
                        spec_d.get("type", type(default).__name__ if default != "" else "string")
                    ),
                    "default": "" if default is None else default,
                    "description": str(spec_d.get("description", "")),
                }
            )
    return {
        "name": str(d.get("name", "")),
        "plugin": str(d.get("plugin", "")),
        "description": str(d.get("description", "")),
        "schedule": str(d.get("schedule") or ""),
        "fields": fields,
    }


def coerce_params(fields: list[dict[str, Any]], form: Any) -> dict[str, Any]:
    """Form text to typed parameters, by the declared type; 422 naming the field when it fails."""
    out: dict[str, Any] = {}
    for f in fields:
        raw = str(form.get(f"param.{f['name']}", "")).strip()
        if raw == "":
            continue
        kind = f["type"]
        try:
            if kind in ("integer", "int"):
                out[f["name"]] = int(raw)
            elif kind in ("number", "float"):
                out[f["name"]] = float(raw)
            elif kind in ("boolean", "bool"):
                out[f["name"]] = raw.lower() in ("1", "true", "yes", "on")
            elif kind in ("object", "array", "dict", "list"):
                out[f["name"]] = json.loads(raw)
            else:
                out[f["name"]] = raw
        except ValueError:
            raise Problem(422, f"Parameter {f['name']!r} must be a {kind}; got {raw!r}") from None
    return out


async def _workflows(request: web.Request) -> tuple[list[dict[str, Any]], str]:
    result = await call(request, "GET", "/api/v1/workflows")
    if not result.ok:
        return [], result.detail
    return [workflow_view(w) for w in _list_items(result.data, "workflows")], ""


@web_routes.get("/workflows")
async def workflows_page(request: web.Request) -> web.StreamResponse:
    workflows, unavailable = await _workflows(request)
    return page(request, "workflows.html", {"workflows": workflows, "unavailable": unavailable})


@web_routes.post("/workflows/{name}")
async def workflow_start(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    workflows, _ = await _workflows(request)
    workflow = next((w for w in workflows if w["name"] == name), None)
    if workflow is None:
        raise Problem(404, f"There is no workflow named {name!r}")
    form = await request.post()
    params = coerce_params(workflow["fields"], form)
    result = await call(
        request,
        "POST",
        f"/api/v1/workflows/{quote(name, safe='')}/runs",
        json_body={"params": params},
    )
    if not result.ok:
        raise Problem(result.status, f"The workflow {name!r} did not start: {result.detail}")
    job_id = result.data.get("id") if isinstance(result.data, dict) else None
    if not job_id:
        raise web.HTTPSeeOther("/admin/jobs")
    raise web.HTTPSeeOther(f"/admin/jobs/{quote(str(job_id))}?flash=started")
