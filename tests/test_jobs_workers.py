"""Jobs across real processes: `plughost worker` on Redis or RabbitMQ with PostgreSQL, and a
`plughost serve` (embedded broker, SQLite) killed with SIGKILL mid-job and started again.

Exactly-once is checked in the database effects: the probe plugin inserts one row per item under a
unique key, so an item run twice would fail with 409 and one never run would be missing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import (
    ADMIN_PASSWORD,
    FIXTURE_PLUGINS,
    REPO,
    effects,
    finished,
    job,
    login,
    start,
    wait_for,
)

SECRET = "test-secret-key-with-enough-entropy-0123456789"


def service_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    env.update(
        PLUGHOST_DATA_DIR=str(tmp_path / "var"),
        PLUGHOST_ROUTES_DIR=str(tmp_path / "routes.d"),
        PLUGHOST_PLUGINS_DIR=str(FIXTURE_PLUGINS),
        PLUGHOST_SECRET_KEY=SECRET,
        PLUGHOST_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PLUGHOST_LOG_FORMAT="text",
        PLUGHOST_LOG_LEVEL="WARNING",
        PLUGHOST_JOBS_LEASE_SECONDS="2",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


@contextmanager
def process(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "host.cli", *args], env=env, cwd=cwd, start_new_session=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


async def wait_child(pid: int, other_than: int | None = None, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = [c for c in children(pid) if c != other_than]
        if kids:
            return kids[0]
        await asyncio.sleep(0.05)
    raise AssertionError("the worker supervisor started no child")


@pytest.mark.slow
@pytest.mark.parametrize("broker", ["redis", "amqp"])
async def test_killed_worker_loses_and_repeats_no_item(
    broker: str,
    request: pytest.FixtureRequest,
    pg_url: str,
    make_client: Callable[..., Awaitable[TestClient]],
    tmp_path: Path,
) -> None:
    broker_url = request.getfixturevalue(f"{broker}_url")
    queue = f"plughost-test-{uuid.uuid4().hex[:8]}"
    settings: dict[str, Any] = {
        "plugins_dir": FIXTURE_PLUGINS,
        "db_url": pg_url,
        "broker_url": broker_url,
        "jobs_queue": queue,
        "jobs_lease_seconds": 2,
    }
    client = await make_client(**settings)
    admin = {"Authorization": f"Bearer {await login(client)}"}
    env = service_env(
        tmp_path, PLUGHOST_DB_URL=pg_url, PLUGHOST_BROKER_URL=broker_url, PLUGHOST_JOBS_QUEUE=queue
    )
    with process(["worker", "--processes", "1", "--threads", "4"], env, tmp_path) as supervisor:
        job_id = await start(
            client, admin, "jobprobe.slow", count=2000, chunk=1, tag="k", sleep=0.003
        )
        first = await wait_child(supervisor.pid)
        await wait_for(client, admin, job_id, lambda v: v["counts"]["done"] >= 400, timeout=60)
        os.kill(first, signal.SIGKILL)
        at_kill = await job(client, admin, job_id)
        assert at_kill["counts"]["done"] < 2000, "the job ended before the kill"
        second = await wait_child(supervisor.pid, other_than=first)
        assert second != first
        view = await wait_for(client, admin, job_id, finished, timeout=120)
    assert view["state"] == "completed", view
    assert view["counts"]["done"] == 2000 and view["counts"]["failed"] == 0
    assert await effects(client, admin, "k-") == 2000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_http(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(base + "/healthz") as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, "plughost serve did not come up"
            await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_embedded_server_killed_mid_job_resumes_it_after_restart(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(tmp_path)
    args = ["serve", "--port", str(port)]
    async with aiohttp.ClientSession(base_url=base) as http:
        with process(args, env, tmp_path) as server:
            await wait_http(base)
            resp = await http.post(
                "/api/v1/authentication", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            admin = {"Authorization": f"Bearer {(await resp.json())['access_token']}"}
            resp = await http.post(
                "/api/v1/workflows/jobprobe.slow/runs",
                json={"params": {"count": 600, "chunk": 1, "tag": "e", "sleep": 0.005}},
                headers=admin,
            )
            assert resp.status == 202
            location = resp.headers["Location"]
            deadline = time.monotonic() + 60
            while True:
                view = await (await http.get(location, headers=admin)).json()
                if view["counts"]["done"] >= 100:
                    break
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        assert view["counts"]["done"] < 600
        with process(args, env, tmp_path):
            await wait_http(base)
            deadline = time.monotonic() + 90
            while True:
                view = await (await http.get(location, headers=admin)).json()
                if view["state"] in ("completed", "failed"):
                    break
                assert time.monotonic() < deadline, view
                await asyncio.sleep(0.1)
            resp = await http.get("/api/v1/probe/effects", params={"prefix": "e-"}, headers=admin)
            count = (await resp.json())["count"]
    assert view["state"] == "completed" and view["counts"]["done"] == 600, view
    assert count == 600


@pytest.mark.slow
async def test_two_worker_processes_start_a_due_schedule_once(
    redis_url: str,
    pg_url: str,
    make_client: Callable[..., Awaitable[TestClient]],
    tmp_path: Path,
) -> None:
    queue = f"plughost-test-{uuid.uuid4().hex[:8]}"
    client = await make_client(
        plugins_dir=FIXTURE_PLUGINS, db_url=pg_url, broker_url=redis_url, jobs_queue=queue
    )
    admin = {"Authorization": f"Bearer {await login(client)}"}
    from host.jobs.models import Job, Schedule

    due = time.time() - 1
    await Schedule.filter(workflow="jobprobe.tally").update(next_run=due)
    env = service_env(
        tmp_path, PLUGHOST_DB_URL=pg_url, PLUGHOST_BROKER_URL=redis_url, PLUGHOST_JOBS_QUEUE=queue
    )
    with process(["worker", "--processes", "2", "--threads", "2"], env, tmp_path) as supervisor:
        deadline = time.monotonic() + 60
        while len(children(supervisor.pid)) < 2 or not await Job.exists(name="jobprobe.tally"):
            assert time.monotonic() < deadline, "no scheduled run started"
            await asyncio.sleep(0.1)
        await asyncio.sleep(5)  # both schedulers have looked several times by now
        jobs = await Job.filter(name="jobprobe.tally").order_by("id")
        # once per due time: the cron is */5, so a five-minute mark passed while the test waited
        # is a second due time, and a second run is right (CI hit one at 03:55:00); two runs of
        # one due time would start within milliseconds of each other, in one five-minute slot
        slots = {int(job.created_at.timestamp() // 300) for job in jobs}
        assert len(jobs) >= 1 and len(slots) == len(jobs), [j.created_at for j in jobs]
        view = await wait_for(client, admin, jobs[0].id, finished, timeout=60)
    assert view["state"] == "completed" and view["owner"] == "system:scheduler"
    row = await Schedule.get(workflow="jobprobe.tally")
    # the run moved next_run on (past `due`; by now it may be due again: the cron is */5)
    assert row.last_job_id == jobs[-1].id and row.next_run > due
