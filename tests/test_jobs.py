"""Jobs in the embedded mode (in-memory broker, worker inside the server), through HTTP."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from host.auth.users import add_user
from host.bus import BUS
from host.jobs.alerts import SIGNATURE_HEADER, verify_signature
from host.jobs.service import JOBS
from tests.conftest import (
    effects,
    finished,
    job,
    jobs_client,
    login,
    start,
    wait_for,
)

Client = TestClient
MakeClient = Callable[..., Awaitable[TestClient]]


async def test_workflow_job_runs_each_chunk_once_with_progress_items_and_report(
    make_client: MakeClient,
) -> None:
    client, admin = await jobs_client(make_client)
    resp = await client.get("/api/v1/workflows", headers=admin)
    names = {w["name"]: w for w in (await resp.json())["workflows"]}
    assert names["jobprobe.tally"]["schedule"] == "*/5 * * * *"
    assert names["jobprobe.tally"]["chunked"] is True

    job_id = await start(client, admin, "jobprobe.tally", count=20, chunk=3, tag="t1")
    view = await wait_for(client, admin, job_id, finished)
    assert view["state"] == "completed"
    assert view["total"] == 7 and view["counts"]["done"] == 7 and view["progress"] == 1.0
    assert view["startedAt"] and view["finishedAt"] and view["throughput"] > 0
    assert await effects(client, admin, "t1-") == 20

    resp = await client.get(
        f"/api/v1/jobs/{job_id}/items", params={"state": "done", "limit": 5}, headers=admin
    )
    page = await resp.json()
    assert page["totalFilteredRecords"] == 7 and len(page["pageItems"]) == 5
    assert page["pageItems"][0]["body"] == {"done": 3} and page["pageItems"][0]["attempts"] == 1

    resp = await client.get(
        f"/api/v1/jobs/{job_id}/report", params={"format": "csv"}, headers=admin
    )
    assert resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert [r["state"] for r in rows] == ["done"] * 7
    resp = await client.get(f"/api/v1/jobs/{job_id}/report", headers=admin)
    assert len((await resp.json())["items"]) == 7

    resp = await client.get(
        "/api/v1/jobs", params={"state": "completed", "kind": "workflow"}, headers=admin
    )
    assert [j["id"] for j in (await resp.json())["pageItems"]] == [job_id]
    resp = await client.get(
        f"/api/v1/jobs/{job_id}/items", params={"state": "bogus"}, headers=admin
    )
    assert resp.status == 400 and resp.content_type == "application/problem+json"
    resp = await client.post("/api/v1/workflows/nope/runs", json={}, headers=admin)
    assert resp.status == 404


async def test_only_the_submitter_and_admin_see_a_job(make_client: MakeClient) -> None:
    client, admin = await jobs_client(make_client)
    await add_user("bob", "bob-password-1", ["workflows:run"])
    await add_user("eve", "eve-password-1", ["workflows:run"])
    bob = {"Authorization": f"Bearer {await login(client, 'bob', 'bob-password-1')}"}
    eve = {"Authorization": f"Bearer {await login(client, 'eve', 'eve-password-1')}"}
    job_id = await start(client, bob, "jobprobe.tally", count=2, chunk=1, tag="bob")
    await wait_for(client, bob, job_id, finished)
    assert (await job(client, admin, job_id))["owner"] == "bob"
    for path in ("", "/items", "/report", "/events"):
        resp = await client.get(f"/api/v1/jobs/{job_id}{path}", headers=eve)
        assert resp.status == 404, path
    resp = await client.post(f"/api/v1/jobs/{job_id}/retry", headers=eve)
    assert resp.status == 404
    resp = await client.get("/api/v1/jobs", headers=eve)
    assert (await resp.json())["totalFilteredRecords"] == 0
    # another tenant does not see it either, not even the admin
    resp = await client.get(f"/api/v1/jobs/{job_id}", headers={**admin, "X-Tenant": "other"})
    assert resp.status == 404
    resp = await client.get(f"/api/v1/jobs/{job_id}")
    assert resp.status == 401


async def test_pause_stops_new_items_and_resume_finishes_each_once(make_client: MakeClient) -> None:
    client, admin = await jobs_client(make_client, jobs_claim_batch=1)
    job_id = await start(client, admin, "jobprobe.slow", count=60, chunk=1, tag="p", sleep=0.02)
    await wait_for(client, admin, job_id, lambda v: v["counts"]["done"] >= 5)
    resp = await client.post(f"/api/v1/jobs/{job_id}/pause", headers=admin)
    assert resp.status == 200 and (await resp.json())["state"] == "paused"
    await wait_for(client, admin, job_id, lambda v: v["counts"]["running"] == 0)
    settled = await job(client, admin, job_id)
    await asyncio.sleep(0.3)
    still = await job(client, admin, job_id)
    assert still["state"] == "paused" and still["counts"] == settled["counts"]
    assert still["counts"]["done"] < 60
    assert await effects(client, admin, "p-") == still["counts"]["done"]
    resp = await client.post(f"/api/v1/jobs/{job_id}/pause", headers=admin)
    assert resp.status == 409

    resp = await client.post(f"/api/v1/jobs/{job_id}/resume", headers=admin)
    assert resp.status == 200
    view = await wait_for(client, admin, job_id, finished)
    assert view["state"] == "completed" and view["counts"]["done"] == 60
    assert await effects(client, admin, "p-") == 60


async def test_cancel_leaves_unstarted_items_cancelled(make_client: MakeClient) -> None:
    client, admin = await jobs_client(make_client, jobs_claim_batch=1)
    job_id = await start(client, admin, "jobprobe.slow", count=80, chunk=1, tag="c", sleep=0.02)
    await wait_for(client, admin, job_id, lambda v: v["counts"]["done"] >= 3)
    resp = await client.post(f"/api/v1/jobs/{job_id}/cancel", headers=admin)
    assert resp.status == 200
    view = await wait_for(client, admin, job_id, lambda v: v["counts"]["running"] == 0)
    assert view["state"] == "cancelled" and view["counts"]["cancelled"] > 0
    assert view["counts"]["done"] + view["counts"]["cancelled"] == 80, view["counts"]
    await asyncio.sleep(0.2)
    assert (
        await effects(client, admin, "c-") == (await job(client, admin, job_id))["counts"]["done"]
    )


async def test_backoff_retries_transient_failures_and_retry_reruns_failed_items_only(
    make_client: MakeClient,
) -> None:
    client, admin = await jobs_client(make_client, jobs_backoff_seconds=0.1)
    # item 0 fine, 1 fails twice with 503 then works, 2 always 503 (exhausts 3 attempts), 3 is a 400
    job_id = await start(client, admin, "jobprobe.flaky", tag="f", fails=[0, 2, 99, -1])
    view = await wait_for(client, admin, job_id, finished)
    assert view["state"] == "failed"
    assert view["counts"] == {**view["counts"], "done": 2, "failed": 2}
    resp = await client.get(f"/api/v1/jobs/{job_id}/items", headers=admin)
    items = {i["seq"]: i for i in (await resp.json())["pageItems"]}
    assert items[1]["state"] == "done" and items[1]["attempts"] == 3
    assert items[1]["body"]["calls"] == 3
    assert (
        items[2]["state"] == "failed"
        and items[2]["attempts"] == 3
        and items[2]["statusCode"] == 503
    )
    assert "after 3 attempts" in items[2]["error"]
    assert (
        items[3]["state"] == "failed"
        and items[3]["attempts"] == 1
        and items[3]["statusCode"] == 400
    )
    resp = await client.get(
        f"/api/v1/jobs/{job_id}/items", params={"state": "failed"}, headers=admin
    )
    assert [i["seq"] for i in (await resp.json())["pageItems"]] == [2, 3]

    await client.post("/api/v1/probe/heal", json={"tag": "f"}, headers=admin)
    resp = await client.post(f"/api/v1/jobs/{job_id}/retry", headers=admin)
    assert resp.status == 200 and (await resp.json())["retried"] == 2
    view = await wait_for(client, admin, job_id, finished)
    resp = await client.get(f"/api/v1/jobs/{job_id}/items", headers=admin)
    items = {i["seq"]: i for i in (await resp.json())["pageItems"]}
    assert items[3]["state"] == "done"  # healed client error now works
    assert items[0]["attempts"] == 1 and items[1]["attempts"] == 3  # done items never re-ran
    assert items[2]["state"] == "failed"  # still broken: 3 fresh attempts
    assert await effects(client, admin, "f-") == 3


async def test_two_schedulers_start_a_due_run_once(make_client: MakeClient) -> None:
    client, admin = await jobs_client(make_client)
    from host.jobs.models import Schedule

    row = await Schedule.get(workflow="jobprobe.tally")
    assert row.next_run > time.time()
    await Schedule.filter(id=row.id).update(next_run=time.time() - 1)
    app = client.server.app
    first, second = await asyncio.gather(
        app[JOBS].run_due_schedules(worker="host-a"), app[JOBS].run_due_schedules(worker="host-b")
    )
    assert len(first + second) == 1
    again = await app[JOBS].run_due_schedules(worker="host-c")
    assert again == []
    job_id = (first + second)[0]
    view = await wait_for(client, admin, job_id, finished)
    assert view["state"] == "completed" and view["owner"] == "system:scheduler"
    resp = await client.get("/api/v1/workflows", headers=admin)
    tally = next(w for w in (await resp.json())["workflows"] if w["name"] == "jobprobe.tally")
    assert tally["lastJobId"] == job_id and tally["nextRun"] > time.time()


async def test_failed_job_publishes_event_and_sends_a_signed_webhook(
    make_client: MakeClient,
) -> None:
    received: list[tuple[bytes, str]] = []
    hook = web.Application()

    async def receive(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers[SIGNATURE_HEADER]))
        # the first delivery fails: the alert is retried
        return web.Response(status=503 if len(received) == 1 else 204)

    hook.router.add_post("/hook", receive)
    server = TestServer(hook)
    await server.start_server()
    try:
        client, admin = await jobs_client(
            make_client,
            jobs_webhook_url=str(server.make_url("/hook")),
            jobs_webhook_secret="hook-secret",
            jobs_alert_failed_ratio=0.5,
        )
        events: list[str] = []
        client.server.app[BUS].add_listener(lambda e: events.append(e.topic))
        ok_id = await start(client, admin, "jobprobe.flaky", tag="w0", fails=[0])
        await wait_for(client, admin, ok_id, finished)
        bad_id = await start(client, admin, "jobprobe.flaky", tag="w1", fails=[-1, 0])
        await wait_for(client, admin, bad_id, finished)
        deadline = time.monotonic() + 10
        while len(received) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await server.close()
    assert "jobs.completed" in events and "jobs.failed" in events and "jobs.failing" in events
    # one 503 answer was retried: three deliveries for two alerts, none for the completed job
    assert len(received) == 3
    import json

    for body, signature in received:
        assert verify_signature("hook-secret", body, signature)
        assert not verify_signature("wrong-secret", body, signature)
    payloads = [json.loads(body) for body, _ in received]
    assert {p["event"] for p in payloads} == {"jobs.failing", "jobs.failed"}
    assert {p["id"] for p in payloads} == {bad_id}
    final = next(p for p in payloads if p["event"] == "jobs.failed")
    assert final["failedRatio"] == 0.5 and final["counts"]["failed"] == 1


async def test_progress_streams_as_server_sent_events(make_client: MakeClient) -> None:
    client, admin = await jobs_client(make_client, jobs_claim_batch=1)
    job_id = await start(client, admin, "jobprobe.slow", count=15, chunk=1, tag="s", sleep=0.03)
    resp = await client.get(f"/api/v1/jobs/{job_id}/events", headers=admin)
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    text = await asyncio.wait_for(resp.text(), timeout=30)
    events = [block for block in text.split("\n\n") if block.startswith("event:")]
    assert events[0].startswith("event: progress") and events[-1].startswith("event: end")
    assert '"state": "completed"' in events[-1]
    assert len(events) >= 3


async def test_a_job_credential_is_refused_over_http(make_client: MakeClient) -> None:
    client, admin = await jobs_client(make_client)
    job_id = await start(client, admin, "jobprobe.tally", count=1, chunk=1, tag="cred")
    await wait_for(client, admin, job_id, finished)
    from host.jobs.models import Job

    credential = (await Job.get(id=job_id)).credential
    assert credential and credential not in (admin["Authorization"],)
    resp = await client.get(
        "/api/v1/probe/effects", headers={"Authorization": f"Bearer {credential}"}
    )
    assert resp.status == 401
    assert "job credential" in (await resp.json())["detail"]


def test_backoff_doubles_per_attempt_up_to_a_cap() -> None:
    from host.jobs.runner import backoff_seconds, is_retryable

    assert [backoff_seconds(n, 0.5) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff_seconds(30, 1.0) == 300.0
    retryable = [s for s in (400, 404, 408, 409, 422, 429, 500, 502, 503) if is_retryable(s)]
    assert retryable == [408, 429, 500, 502, 503]
