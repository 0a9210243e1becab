"""The job engine of one process: submits jobs, pumps their items, reaps lost leases.

The broker carries only "work on job N" messages (pumps). A pump claims a few items at a time
from the database, runs them, and ends when nothing is left to claim, when the job is paused or
cancelled, or after its time budget (then it sends itself again, so no message runs for long).
Extra or repeated pumps are harmless: the claim decides who runs an item. The reaper, in every
process, re-queues items whose lease expired and wakes jobs that no pump has touched lately,
which is how a job survives a killed worker or a restarted embedded server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable
from typing import Any

import dramatiq
from aiohttp import web
from dramatiq.middleware import CurrentMessage
from tortoise.expressions import F
from tortoise.functions import Count

from host.auth import AUTH, Identity
from host.config import Settings
from host.counters import count_job_item
from host.data.db import defer_until_commit, unit_of_work
from host.jobs.alerts import failure_ratio_passed, job_finished
from host.jobs.broker import make_broker
from host.jobs.claims import claim_items, now_utc, renew, requeue_expired
from host.jobs.models import ACTIVE, Job, JobItem, Schedule
from host.jobs.runner import run_enclosing, run_item
from host.jobs.workflows import SCHEDULER, list_workflows, next_run, plan_workflow

__all__ = ("JOBS", "WORKER_MODE", "JobService")

log = logging.getLogger("plughost.jobs")
GROUP_SECONDS = 0.2


class JobService:
    def __init__(self, app: web.Application, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.broker: dramatiq.Broker | None = None
        self.actor: dramatiq.Actor[Any, Any] | None = None
        self.worker: dramatiq.Worker | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    # lifecycle ------------------------------------------------------------------------------
    async def start(self, *, consume: bool, threads: int) -> None:
        loop = asyncio.get_running_loop()
        self.broker = make_broker(self.settings.broker_url, loop)
        self.actor = dramatiq.Actor(
            self._pump_message,
            broker=self.broker,
            actor_name="plughost_job_pump",
            queue_name=self.settings.jobs_queue,
            priority=0,
            options={"max_retries": 3, "min_backoff": 1000, "time_limit": 3_600_000},
        )
        if consume:
            worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=250)
            worker.queue_prefetch = threads  # a process takes no more pumps than it can run
            await asyncio.to_thread(worker.start)
            self.worker = worker
            self._tasks.append(loop.create_task(self._reaper(), name="jobs:reaper"))

    async def stop(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.worker is not None:
            await asyncio.to_thread(self.worker.stop, 5000)
        if self.broker is not None:
            await asyncio.to_thread(self.broker.close)

    # sending --------------------------------------------------------------------------------
    def send_pumps(self, job_id: int, count: int, tenant: str) -> None:
        """Messages "work on job N", each carrying the job's tenant as a message option (Dramatiq's
        headers: `options["tenant"]`, seed 003's context data); `pump` checks it against the job."""
        assert self.actor is not None
        for _ in range(max(1, count)):
            self.actor.send_with_options(args=(job_id,), tenant=tenant)

    async def wake(self, job_id: int, count: int, tenant: str) -> None:
        await Job.filter(id=job_id).update(heartbeat=time.time())
        await asyncio.to_thread(self.send_pumps, job_id, count, tenant)

    # submitting -----------------------------------------------------------------------------
    async def create_job(
        self,
        *,
        kind: str,
        name: str,
        identity: Identity,
        tenant: str,
        items: Iterable[dict[str, Any]],
        enclosing: bool = False,
        max_attempts: int | None = None,
        parallelism: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> Job:
        """Store a job and its items (with dependency edges), then wake workers for it.

        Each item dict: {"request": {...}, "ref": str, "deps": [seq, ...]}.
        """
        rows = list(items)
        async with unit_of_work():  # a job appears with all of its items or not at all
            job = await self._store(
                kind, name, identity, tenant, rows, enclosing, max_attempts, parallelism, params
            )
        if not rows:
            await self.finalize(job.id)
            return job
        job_id, count = job.id, job.parallelism
        # inside the caller's transaction, workers must not look before the items are committed
        if not defer_until_commit(lambda: self.send_pumps(job_id, count, tenant)):
            await asyncio.to_thread(self.send_pumps, job_id, count, tenant)
        return job

    async def _store(
        self,
        kind: str,
        name: str,
        identity: Identity,
        tenant: str,
        rows: list[dict[str, Any]],
        enclosing: bool,
        max_attempts: int | None,
        parallelism: int | None,
        params: dict[str, Any] | None,
    ) -> Job:
        job = await Job.create(
            kind=kind,
            name=name,
            owner=identity.subject,
            tenant=tenant,
            state="queued",
            total=len(rows),
            enclosing=enclosing,
            max_attempts=max_attempts or self.settings.jobs_max_attempts,
            parallelism=1 if enclosing else (parallelism or self.settings.jobs_parallelism),
            params=params or {},
            heartbeat=time.time(),
        )
        token, _ = self.app[AUTH].issue_token(
            identity.subject,
            identity.roles,
            ttl=self.settings.jobs_credential_ttl,
            kind="job",
            scope=f"job:{job.id}",
        )
        job.credential = token
        await job.save(update_fields=["credential"])
        children: dict[int, list[int]] = {}
        for seq, row in enumerate(rows):
            for dep in row.get("deps") or ():
                children.setdefault(dep, []).append(seq)
        chunk: list[JobItem] = []
        for seq, row in enumerate(rows):
            deps = sorted(set(row.get("deps") or ()))
            chunk.append(
                JobItem(
                    job_id=job.id,
                    seq=seq,
                    ref=str(row.get("ref") or ""),
                    request=row["request"],
                    deps=deps,
                    children=children.get(seq, []),
                    # one worker runs an enclosing job's items in order (the caller's plan
                    # order), so nothing waits; deps still say where references come from
                    pending=0 if enclosing else len(deps),
                    state="waiting" if deps and not enclosing else "queued",
                )
            )
            if len(chunk) >= 2000:
                await JobItem.bulk_create(chunk)
                chunk = []
        if chunk:
            await JobItem.bulk_create(chunk)
        return job

    # controls -------------------------------------------------------------------------------
    async def pause(self, job: Job) -> None:
        await Job.filter(id=job.id, state__in=ACTIVE).update(state="paused")

    async def resume(self, job: Job) -> None:
        if await Job.filter(id=job.id, state="paused").update(state="running"):
            await self.wake(job.id, job.parallelism, job.tenant)

    async def cancel(self, job: Job) -> None:
        if await Job.filter(id=job.id, state__in=("queued", "running", "paused")).update(
            state="cancelled", finished_at=now_utc()
        ):
            await JobItem.filter(job_id=job.id, state__in=("queued", "waiting")).update(
                state="cancelled", finished_at=now_utc()
            )

    async def retry_failed(self, job: Job) -> int:
        """Failed items only go back to work (dependents of a failed item wait for it again)."""
        failed = await JobItem.filter(job_id=job.id, state="failed").values("id", "seq", "deps")
        if not failed:
            return 0
        failed_seqs = {f["seq"] for f in failed}
        dep_seqs = {d for f in failed for d in (f["deps"] or [])}
        done = set(
            await JobItem.filter(job_id=job.id, seq__in=sorted(dep_seqs), state="done").values_list(
                "seq", flat=True
            )
        )
        for row in failed:
            open_deps = [d for d in (row["deps"] or []) if d not in done or d in failed_seqs]
            await JobItem.filter(id=row["id"], state="failed").update(
                state="waiting" if open_deps else "queued",
                pending=len(open_deps),
                attempts=0,
                not_before=0.0,
                status=None,
                error=None,
                finished_at=None,
            )
        await Job.filter(id=job.id).update(
            state="running", finished_at=None, error=None, alerted=False
        )
        await self.wake(job.id, job.parallelism, job.tenant)
        return len(failed)

    # working --------------------------------------------------------------------------------
    async def _pump_message(self, job_id: int) -> None:
        message = CurrentMessage.get_current_message()
        await self.pump(job_id, message.options.get("tenant") if message is not None else None)

    async def pump(self, job_id: int, tenant: str | None = None) -> None:
        """Work on a job until nothing is claimable, it stops, or the time budget is spent.

        `tenant`: the one the message carried; a message naming another tenant than the job's is
        dropped (the items always run in the job's own tenant, stored with it)."""
        settings = self.settings
        deadline = time.monotonic() + settings.jobs_pump_seconds
        last_touch = 0.0
        identity: Identity | None = None
        while not self._closing:
            job = await Job.get_or_none(id=job_id)
            if job is None or job.state not in ACTIVE:
                return
            if tenant is not None and tenant != job.tenant:
                log.error(
                    "job message names another tenant than the job's: dropped",
                    extra={"job": job_id, "tenant": tenant, "job_tenant": job.tenant},
                )
                return
            if job.state == "queued":
                await Job.filter(id=job_id, state="queued").update(
                    state="running", started_at=now_utc()
                )
            if identity is None:
                identity = self._job_identity(job)
                if identity is None:
                    await self._fail_job(job, "the job credential is invalid or has expired")
                    return
            if time.monotonic() - last_touch > 1.0:
                await Job.filter(id=job_id).update(heartbeat=time.time())
                last_touch = time.monotonic()
            lease = settings.jobs_lease_seconds
            if job.enclosing:
                items = await claim_items(
                    job_id, self.worker_id, lease + job.total * 0.2, job.total
                )
                if items:
                    await run_enclosing(
                        self.app, job, items, identity, timeout=settings.jobs_item_timeout
                    )
                    continue
            else:
                items = await claim_items(job_id, self.worker_id, lease, settings.jobs_claim_batch)
            if not items:
                wait = await self._idle(job)
                if wait is None:
                    return
                await asyncio.sleep(wait)
                continue
            if not await self._run_claimed(job, items, identity):
                return
            if time.monotonic() > deadline:
                await asyncio.to_thread(self.send_pumps, job_id, 1, job.tenant)
                return

    async def _run_claimed(self, job: Job, items: list[JobItem], identity: Identity) -> bool:
        """Run claimed items, committing in small groups; False when the job stopped meanwhile.

        Each item's effects and outcome sit in a savepoint of their own (a failed item undoes only
        itself); a group commits at once, which saves a commit (an fsync on SQLite) per item.
        The job's state is re-read between items at most every 0.2 s: pause and cancel stop new
        items from starting, the rest of the claim is given back.
        """
        settings = self.settings
        index, checked = 0, time.monotonic()
        renewed = time.monotonic()
        failed = False
        while index < len(items):
            if time.monotonic() - renewed > settings.jobs_lease_seconds / 2:
                await renew(items[index:], settings.jobs_lease_seconds)
                renewed = time.monotonic()
            group_end = time.monotonic() + GROUP_SECONDS
            async with unit_of_work():
                while index < len(items) and time.monotonic() < group_end:
                    if time.monotonic() - checked > 0.2 or self._closing:
                        checked = time.monotonic()
                        if self._closing or not await self._still_active(job.id):
                            await self._release(job.id, items[index:])
                            return False
                    state = await run_item(
                        self.app,
                        job,
                        items[index],
                        identity,
                        timeout=settings.jobs_item_timeout,
                        backoff=settings.jobs_backoff_seconds,
                    )
                    count_job_item(self.app, state)
                    failed = failed or state == "failed"
                    index += 1
            if failed:
                await self._check_failure_ratio(job)
        return True

    async def _check_failure_ratio(self, job: Job) -> None:
        """Alert once while the job runs when its failed-item ratio reaches the threshold."""
        threshold = self.settings.jobs_alert_failed_ratio
        if threshold <= 0 or not job.total:
            return
        counts = await self.counts(job.id)
        if counts.get("failed", 0) / job.total < threshold:
            return
        if await Job.filter(id=job.id, alerted=False).update(alerted=True):
            await failure_ratio_passed(self.app, job, counts)

    async def _still_active(self, job_id: int) -> bool:
        return await Job.filter(id=job_id, state__in=ACTIVE).exists()

    async def _release(self, job_id: int, items: list[JobItem]) -> None:
        """Claimed but not started (the job was paused or cancelled): give them back."""
        for item in items:
            await JobItem.filter(id=item.id, state="running", lease_owner=item.lease_owner).update(
                state="queued", lease_owner=None, lease_expires=None, attempts=F("attempts") - 1
            )
        # a cancel that ran meanwhile skipped them (they were running then): cancel them now
        if items and await Job.filter(id=job_id, state="cancelled").exists():
            await JobItem.filter(id__in=[i.id for i in items], state="queued").update(
                state="cancelled", finished_at=now_utc()
            )

    async def _idle(self, job: Job) -> float | None:
        """Nothing claimable now: seconds to wait for a backoff, or None to end this pump."""
        counts = await self.counts(job.id)
        if counts.get("queued", 0):
            nxt = await JobItem.filter(job_id=job.id, state="queued").order_by("not_before").first()
            if nxt is None:
                return 0.0
            return max(0.02, min(1.0, nxt.not_before - time.time()))
        if counts.get("running", 0):
            return None  # others hold them; the reaper steps in if they vanish
        if counts.get("waiting", 0):  # nothing left could ever unblock them
            await JobItem.filter(job_id=job.id, state="waiting").update(
                state="failed",
                status=424,
                error="424: a dependency never finished",
                finished_at=now_utc(),
            )
        await self.finalize(job.id)
        return None

    @staticmethod
    async def counts(job_id: int) -> dict[str, int]:
        rows = (
            await JobItem.filter(job_id=job_id)
            .annotate(n=Count("id"))
            .group_by("state")
            .values("state", "n")
        )
        return {r["state"]: r["n"] for r in rows}

    def _job_identity(self, job: Job) -> Identity | None:
        try:
            identity = self.app[AUTH].verify_token(job.credential)
        except Exception:
            return None
        if identity.kind != "job" or identity.scope != f"job:{job.id}":
            return None
        return identity

    async def _fail_job(self, job: Job, error: str) -> None:
        await JobItem.filter(job_id=job.id, state__in=("queued", "waiting")).update(
            state="failed", error=error, finished_at=now_utc()
        )
        await self.finalize(job.id, error=error)

    async def finalize(self, job_id: int, error: str | None = None) -> None:
        """Close a job with nothing left to run; exactly one process wins and sends the alerts."""
        counts = await self.counts(job_id)
        busy = counts.get("queued") or counts.get("running") or counts.get("waiting")
        if busy and error is None:
            return
        state = "failed" if counts.get("failed") or error else "completed"
        won = await Job.filter(id=job_id, state__in=ACTIVE).update(
            state=state, finished_at=now_utc(), error=error
        )
        if not won:
            return
        job = await Job.get(id=job_id)
        await job_finished(self.app, job, counts)

    # reaping --------------------------------------------------------------------------------
    async def _reaper(self) -> None:
        interval = max(0.2, min(2.0, self.settings.jobs_lease_seconds / 4))
        while True:
            try:
                await self.reap()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reaper pass failed")
            await asyncio.sleep(interval)

    async def reap(self) -> None:
        requeued = await requeue_expired()
        if requeued:
            log.warning("re-queued items whose lease expired", extra={"count": requeued})
        stale = time.time() - max(2.0, self.settings.jobs_lease_seconds)
        for job in await Job.filter(state__in=ACTIVE, heartbeat__lt=stale).only(
            "id", "heartbeat", "parallelism", "tenant"
        ):
            # one reaper wins the wake-up, so two hosts do not both flood the queue
            if await Job.filter(id=job.id, heartbeat=job.heartbeat).update(heartbeat=time.time()):
                await asyncio.to_thread(self.send_pumps, job.id, job.parallelism, job.tenant)
        await self.run_due_schedules()

    # workflows ------------------------------------------------------------------------------
    async def start_workflow(
        self, name: str, params: dict[str, Any], identity: Identity, tenant: str
    ) -> Job:
        """Plan a run (in this process) and store it as a job whose items are the chunks."""
        reg, values, items = await plan_workflow(self.app, name, params, identity, tenant)
        return await self.create_job(
            kind="workflow",
            name=reg.name,
            identity=identity,
            tenant=tenant,
            items=items,
            params=values,
        )

    async def run_due_schedules(self, worker: str = "") -> list[int]:
        """Start every due scheduled run that this process wins; returns the job ids started."""
        if not self.settings.jobs_schedules:
            return []
        now = time.time()
        started: list[int] = []
        known = {reg.name for reg in list_workflows(self.app)}
        for row in await Schedule.filter(next_run__lte=now):
            if row.workflow not in known:
                continue
            following = next_run(row.cron, max(now, row.next_run))
            # the claim: only the host whose UPDATE still sees the old next_run starts this run
            won = await Schedule.filter(id=row.id, next_run=row.next_run).update(
                next_run=following, last_run=now, claimed_by=worker or self.worker_id
            )
            if not won:
                continue
            try:
                job = await self.start_workflow(row.workflow, {}, SCHEDULER, "default")
            except Exception:
                log.exception(
                    "scheduled workflow failed to start", extra={"workflow": row.workflow}
                )
                continue
            await Schedule.filter(id=row.id).update(last_job_id=job.id)
            started.append(job.id)
        return started


JOBS = web.AppKey("jobs", JobService)
WORKER_MODE = web.AppKey("jobs_worker_mode", int)
"""Set by `plughost worker` to the thread count: consume from the broker even with a broker URL."""
