"""Running one job item: through the same pipeline as an HTTP call, as the job's scoped identity.

An item's effects and its recorded outcome commit together (see `claims.fence`). Retryable failures
(5xx, 408, 429, timeouts, lost connections) go back to `queued` with exponential backoff until the
job's attempts limit; client errors fail at once. Workflow chunks run the plugin's step function
under the same rules.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from host.auth import Identity
from host.batch.refs import lookup_path, quote_segment, resolve_json, resolve_text
from host.context import RequestContext, new_request_id
from host.data.db import unit_of_work
from host.jobs.claims import LeaseLost, fence, now_utc, unblock_children
from host.jobs.models import Job, JobItem
from host.jobs.workflows import run_step
from host.pipeline import PIPELINE, Call, subrequest, to_problem
from host.pipeline.pipeline import response_json_bytes

__all__ = (
    "Outcome",
    "backoff_seconds",
    "build_item_request",
    "is_retryable",
    "run_enclosing",
    "run_item",
)

log = logging.getLogger("plughost.jobs")
RETRYABLE_STATUSES = frozenset({408, 429})
DEPENDENCY_FAILED = 424


class _Retry(Exception):
    def __init__(self, status: int | None, error: str, result: Any = None) -> None:
        super().__init__(error)
        self.status, self.error, self.result = status, error, result


@dataclass(frozen=True)
class Outcome:
    status: int
    result: Any


def is_retryable(status: int) -> bool:
    """Server-side and transient failures are retried; client mistakes never are."""
    return status >= 500 or status in RETRYABLE_STATUSES


def backoff_seconds(attempt: int, base: float, cap: float = 300.0) -> float:
    """Exponential backoff before attempt `attempt + 1`: base, 2·base, 4·base... capped."""
    return float(min(cap, base * (2 ** max(0, attempt - 1))))


def item_context(job: Job, item: JobItem) -> RequestContext:
    return RequestContext(
        request_id=f"job{job.id}-{item.seq}-{new_request_id()[:8]}",
        trace_id=new_request_id(),
        span_id=new_request_id()[:16],
        parent_span_id=None,
        trace_flags="01",
        tenant=job.tenant,
    )


def build_item_request(
    spec: dict[str, Any], *, app: web.Application, identity: Identity, context: RequestContext
) -> Call:
    """A batch item ({method, relativeUrl, headers, body}) as a pipeline call (the same
    sub-request builder and header policy as a synchronous batch's items)."""
    url = str(spec.get("relativeUrl") or spec.get("path") or "")
    path, _, query = url.partition("?")
    if not path.startswith("/api/"):
        path = f"/api/{spec.get('version') or 'v1'}/" + path.lstrip("/")
    body = spec.get("body")
    if body is None:
        raw = b""
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = json.dumps(body).encode()
    raw_headers = spec.get("headers") or []
    pairs = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
    return subrequest(
        app,
        method=str(spec.get("method") or "GET"),
        path=path,
        query=parse_qsl(query, keep_blank_values=True),
        headers=[(str(name), str(value)) for name, value in pairs],
        body=raw,
        json_body=True,
        context=context,
        identity=identity,
        origin="job",
    )


def decode_result(response: web.StreamResponse) -> Any:
    raw = response_json_bytes(response)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def error_text(status: int, result: Any) -> str:
    if isinstance(result, dict) and "detail" in result:
        return f"{status}: {result['detail']}"
    return f"HTTP {status}"


async def _call(
    app: web.Application, job: Job, item: JobItem, identity: Identity, timeout: float
) -> Outcome:
    """Run the item's work; returns its outcome or raises _Retry for a transient failure."""

    context = item_context(job, item)
    try:
        if job.kind == "workflow":
            result = await asyncio.wait_for(
                run_step(app, job, item, identity, context), timeout=timeout
            )
            return Outcome(200, result)
        try:
            spec = await resolve_references(job, item)
        except LookupError as exc:  # host.batch.refs.Unresolved: the item's own 400
            return Outcome(400, {"status": 400, "detail": f"Unresolved reference: {exc}"})
        request = build_item_request(spec, app=app, identity=identity, context=context)
        response = await asyncio.wait_for(app[PIPELINE].run(request), timeout=timeout)
    except TimeoutError:
        raise _Retry(None, f"timed out after {timeout:g} s") from None
    except (ConnectionError, OSError) as exc:
        raise _Retry(None, f"connection lost: {exc!r}") from None
    except LeaseLost:
        raise
    except Exception as exc:  # a workflow step raised
        problem = to_problem(exc)
        if problem.status >= 500:
            raise _Retry(problem.status, f"{type(exc).__name__}: {exc}") from None
        return Outcome(problem.status, problem.body())
    status = response.status
    result = decode_result(response)
    if is_retryable(status):
        raise _Retry(status, error_text(status, result), result)
    return Outcome(status, result)


async def resolve_references(job: Job, item: JobItem) -> dict[str, Any]:
    """The item's request with `$.path` / `${id:$.path}` filled from its dependencies' answers.

    Uses the batch API's own resolver (host.batch.refs), so a job item reads exactly like the
    same item in a synchronous batch.
    """
    spec = dict(item.request)
    if not item.deps:
        return spec

    parents = await JobItem.filter(job_id=job.id, seq__in=item.deps).values("ref", "result")
    answers = {p["ref"]: p["result"] for p in parents}
    reference = spec.get("reference")

    def lookup(source: str | None, path: str, steps: tuple[str | int, ...]) -> Any:
        key = str(reference) if source is None else source
        return lookup_path(answers.get(key), steps, source=source, path=path)

    url = str(spec.get("relativeUrl") or "")
    path, sep, query = url.partition("?")
    path = "/".join(resolve_text(seg, lookup, encode=quote_segment) for seg in path.split("/"))
    if query:
        pairs = [p.partition("=") for p in query.split("&")]
        query = "&".join(
            k + eq + resolve_text(v, lookup, encode=quote_segment) for k, eq, v in pairs
        )
    spec["relativeUrl"] = path + sep + query
    spec["headers"] = [
        [name, resolve_text(value, lookup)] for name, value in spec.get("headers") or []
    ]
    if spec.get("body") is not None:
        spec["body"] = resolve_json(spec["body"], lookup)
    return spec


async def run_item(
    app: web.Application,
    job: Job,
    item: JobItem,
    identity: Identity,
    *,
    timeout: float,
    backoff: float,
) -> str:
    """Run one claimed item; returns the state it ended in (or "lost" when the lease was lost)."""
    try:
        async with unit_of_work():
            outcome = await _call(app, job, item, identity, timeout)
            ok = outcome.status < 400
            await fence(
                item,
                state="done" if ok else "failed",
                status=outcome.status,
                result=outcome.result,
                error=None if ok else error_text(outcome.status, outcome.result),
                finished_at=now_utc(),
            )
            if ok:
                await unblock_children(job.id, item.children)
            else:
                await fail_dependents(job.id, item)
        return "done" if ok else "failed"
    except LeaseLost:
        log.warning("lease lost; the item runs elsewhere", extra={"job": job.id, "seq": item.seq})
        return "lost"
    except _Retry as retry:
        return await _retry_or_fail(job, item, retry.status, retry.error, retry.result, backoff)
    except Exception as exc:  # the database itself failed: transient
        log.exception("job item failed to record", extra={"job": job.id, "seq": item.seq})
        return await _retry_or_fail(job, item, None, f"{type(exc).__name__}: {exc}", None, backoff)


async def _retry_or_fail(
    job: Job, item: JobItem, status: int | None, error: str, result: Any, backoff: float
) -> str:
    exhausted = item.attempts >= job.max_attempts
    try:
        async with unit_of_work():
            if exhausted:
                await fence(
                    item,
                    state="failed",
                    status=status,
                    result=result,
                    error=f"{error} (after {item.attempts} attempts)",
                    finished_at=now_utc(),
                )
                await fail_dependents(job.id, item)
            else:
                await fence(
                    item,
                    state="queued",
                    lease_owner=None,
                    status=status,
                    error=error,
                    not_before=time.time() + backoff_seconds(item.attempts, backoff),
                )
    except LeaseLost:
        return "lost"
    return "failed" if exhausted else "queued"


async def fail_dependents(job_id: int, item: JobItem) -> None:
    """Everything that depends (transitively) on a failed item fails with 424, without running."""
    frontier = list(item.children)
    seen: set[int] = set()
    while frontier:
        rows = await JobItem.filter(job_id=job_id, seq__in=frontier).values("seq", "children")
        seen.update(frontier)
        frontier = [c for r in rows for c in (r["children"] or []) if c not in seen]
    if seen:
        await JobItem.filter(job_id=job_id, seq__in=sorted(seen), state="waiting").update(
            state="failed",
            status=DEPENDENCY_FAILED,
            error=f"424: the item it depends on ({item.ref or item.seq}) failed",
            finished_at=now_utc(),
        )


class _EnclosingFailed(Exception):
    def __init__(self, item: JobItem, outcome: Outcome) -> None:
        super().__init__(item.seq)
        self.item, self.outcome = item, outcome


async def run_enclosing(
    app: web.Application, job: Job, items: list[JobItem], identity: Identity, *, timeout: float
) -> str:
    """An enclosingTransaction job: every item in one transaction; the first failure undoes all."""
    try:
        async with unit_of_work():
            for item in items:
                try:
                    outcome = await _call(app, job, item, identity, timeout)
                except _Retry as retry:
                    outcome = Outcome(retry.status or 503, retry.result or {"detail": retry.error})
                if outcome.status >= 400:
                    raise _EnclosingFailed(item, outcome)
                await fence(
                    item,
                    state="done",
                    status=outcome.status,
                    result=outcome.result,
                    finished_at=now_utc(),
                )
        return "done"
    except LeaseLost:
        return "lost"
    except _EnclosingFailed as failed:
        bad = failed.item
        async with unit_of_work():
            for item in items:
                if item.id == bad.id:
                    await fence(
                        item,
                        state="failed",
                        status=failed.outcome.status,
                        result=failed.outcome.result,
                        error=error_text(failed.outcome.status, failed.outcome.result),
                        finished_at=now_utc(),
                    )
                else:
                    why = "rolled back" if item.seq < bad.seq else "not run"
                    await fence(
                        item,
                        state="failed",
                        status=None,
                        result=None,
                        error=f"{why}: item {bad.ref or bad.seq} failed in the enclosing transaction",
                        finished_at=now_utc(),
                    )
        return "failed"
