"""Two real `plughost serve` instances on one PostgreSQL with one routes.d: one bus (a subscription
runs once per event, every instance's observers see every event), one set of admin sessions, and
route-file edits that are a compare-and-swap across the instances."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.conftest import ADMIN_PASSWORD, REPO
from tests.servers import Server, running, server_env, token, wait_until
from tests.test_jobs_workers import children

pytestmark = [pytest.mark.slow, pytest.mark.pg]

SCALE_PLUGINS = Path(__file__).parent / "fixtures" / "scale_plugins"
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
ROUTES = {
    "version": 1,
    "routes": [{"path": "/ping", "methods": ["GET"], "location": "/api/v1/ping"}],
}


@contextlib.asynccontextmanager
async def two_instances(pg_url: str, tmp_path: Path, **extra: str) -> AsyncIterator[list[Server]]:
    servers = []
    for name in ("a", "b"):
        env = server_env(
            tmp_path / f"var-{name}",
            tmp_path / "routes.d",  # shared, as a volume or ConfigMap would be
            SCALE_PLUGINS,
            PLUGHOST_DB_URL=pg_url,
            PLUGHOST_PLUGIN_PATH=str(REPO / "plugins"),
            PLUGHOST_OUTBOX_BACKOFF_SECONDS="0.05",
            **extra,
        )
        servers.append(Server(env, tmp_path))
    with running(*servers):
        for server in servers:
            await server.ready()
        yield servers


async def admin_login(session: aiohttp.ClientSession, url: str) -> str:
    """Log in through the admin form; returns the CSRF token of the session."""
    async with session.get(url + "/admin/login") as resp:
        token_ = CSRF.search(await resp.text())
    assert token_ is not None
    form = {"username": "admin", "password": ADMIN_PASSWORD, "_csrf": token_.group(1)}
    async with session.post(url + "/admin/login", data=form) as resp:
        assert resp.status == 200, await resp.text()
        found = CSRF.search(await resp.text())
    assert found is not None
    return found.group(1)


async def test_an_event_published_on_a_runs_once_and_shows_on_b(
    pg_url: str, tmp_path: Path
) -> None:
    n = 10
    async with (
        two_instances(pg_url, tmp_path) as (a, b),
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session,
    ):
        await admin_login(session, b.url)
        seen: set[int] = set()
        stream = await session.get(
            b.url + "/admin/events/stream", headers={"Accept": "text/event-stream"}
        )
        assert stream.status == 200

        headers = await token(session, a.url)
        for i in range(n):  # each handler fails once: the retry may run on A or on B
            async with session.post(
                a.url + "/api/v1/busprobe/publish",
                json={"name": "cluster", "i": i, "fail": 1},
                headers=headers,
            ) as resp:
                assert resp.status == 201

        async def read_stream() -> None:
            while len(seen) < n:
                line = (await stream.content.readline()).decode()
                if line.startswith("data: "):
                    row = json.loads(line[6:])
                    if row["topic"] == "probe.cluster":
                        seen.add(json.loads(row["payload"])["i"])

        await asyncio.wait_for(read_stream(), 30)
        stream.close()
        assert seen == set(range(n))  # B's live feed shows A's events

        async def all_ran() -> list[dict[str, Any]]:
            async with session.get(
                b.url + "/api/v1/busprobe/runs?tag=cluster", headers=headers
            ) as resp:
                runs = (await resp.json())["runs"]
            return runs if sum(r["ok"] for r in runs) >= n else []

        runs = await wait_until(all_ran, 30, "every event handled")
        await asyncio.sleep(1.0)  # let a double run, if there were one, show up
        async with session.get(b.url + "/api/v1/busprobe/runs?tag=cluster", headers=headers) as r:
            runs = (await r.json())["runs"]
        per_event: dict[int, list[bool]] = {}
        for run in runs:
            per_event.setdefault(run["event_id"], []).append(run["ok"])
        assert len(per_event) == n
        assert all(oks == [False, True] for oks in per_event.values()), per_event


async def test_logout_on_a_is_refused_on_b(pg_url: str, tmp_path: Path) -> None:
    async with (
        two_instances(pg_url, tmp_path) as (a, b),
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session,
    ):
        csrf = await admin_login(session, a.url)  # cookies are not per port: B gets it too
        async with session.get(b.url + "/admin/plugins", allow_redirects=False) as resp:
            assert resp.status == 200
        cookies = session.cookie_jar.filter_cookies(URL(a.url))
        kept = {k: m.value for k, m in cookies.items()}
        async with session.post(
            a.url + "/admin/logout", data={"_csrf": csrf}, allow_redirects=False
        ) as resp:
            assert resp.status == 303
        # replay the old cookie (as a thief would) on B, and on A after A restarts
        session.cookie_jar.update_cookies(kept, URL(a.url))
        async with session.get(b.url + "/admin/plugins", allow_redirects=False) as resp:
            assert resp.status == 303 and "/admin/login" in resp.headers["Location"]
        a.stop()
        await a.start().ready()
        session.cookie_jar.update_cookies(kept, URL(a.url))
        async with session.get(a.url + "/admin/plugins", allow_redirects=False) as resp:
            assert resp.status == 303


async def test_concurrent_route_puts_with_one_etag_one_wins(pg_url: str, tmp_path: Path) -> None:
    rounds = 20
    async with two_instances(pg_url, tmp_path) as (a, b), aiohttp.ClientSession() as session:
        headers = await token(session, a.url)
        url = "/api/v1/admin/routes/shop"
        async with session.put(
            a.url + url, json=ROUTES, headers={**headers, "If-None-Match": "*"}
        ) as resp:
            assert resp.status == 201, await resp.text()
            etag = resp.headers["ETag"]
        for i in range(rounds):
            bodies = [
                {**ROUTES, "routes": [{**ROUTES["routes"][0], "path": f"/r{i}-{side}"}]}
                for side in "ab"
            ]

            async def put(server: Server, body: dict[str, Any], tag: str) -> tuple[int, str]:
                async with session.put(
                    server.url + url, json=body, headers={**headers, "If-Match": tag}
                ) as resp:
                    return resp.status, resp.headers.get("ETag", "")

            answers = await asyncio.gather(put(a, bodies[0], etag), put(b, bodies[1], etag))
            assert sorted(s for s, _ in answers) == [200, 412], (i, answers)
            etag = next(t for s, t in answers if s == 200)
            async with session.get(a.url + url, headers=headers) as resp:
                assert resp.headers["ETag"] == etag  # the winner's text is what is on disk


@pytest.mark.redis
async def test_events_published_in_a_worker_process_reach_the_instances(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    """Job items run in `plughost worker`; the events they publish are handled there once and show
    on an instance's live Events stream."""
    n = 5
    queue = f"plughost-scale-{uuid.uuid4().hex[:8]}"
    broker = {"PLUGHOST_BROKER_URL": redis_url, "PLUGHOST_JOBS_QUEUE": queue}
    async with (
        two_instances(pg_url, tmp_path, **broker) as (a, b),
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session,
    ):
        worker_env = {**a.env, "PLUGHOST_DATA_DIR": str(tmp_path / "var-worker")}
        worker = subprocess.Popen(
            [sys.executable, "-m", "host.cli", "worker", "--processes", "1"],
            env=worker_env,
            cwd=tmp_path,
            start_new_session=True,
        )
        try:
            await admin_login(session, b.url)
            stream = await session.get(
                b.url + "/admin/events/stream", headers={"Accept": "text/event-stream"}
            )
            headers = await token(session, a.url)
            items = [
                {
                    "requestId": i,
                    "method": "POST",
                    "relativeUrl": "busprobe/publish",
                    "body": json.dumps({"name": "job", "i": i}),
                }
                for i in range(n)
            ]
            async with session.post(
                a.url + "/api/v1/batches?async=true", json=items, headers=headers
            ) as resp:
                assert resp.status == 202, await resp.text()
            seen: set[int] = set()

            async def read_stream() -> None:
                while len(seen) < n:
                    line = (await stream.content.readline()).decode()
                    if line.startswith("data: "):
                        row = json.loads(line[6:])
                        if row["topic"] == "probe.job":
                            seen.add(json.loads(row["payload"])["i"])

            await asyncio.wait_for(read_stream(), 60)
            stream.close()

            async def ran() -> list[dict[str, Any]]:
                async with session.get(
                    a.url + "/api/v1/busprobe/runs?tag=job", headers=headers
                ) as r:
                    runs = (await r.json())["runs"]
                return runs if len(runs) >= n else []

            runs = await wait_until(ran, 30, "the handlers of the worker's events")
            await asyncio.sleep(1.0)  # a double run, if there were one, would show up now
            async with session.get(a.url + "/api/v1/busprobe/runs?tag=job", headers=headers) as r:
                runs = (await r.json())["runs"]
            assert len(runs) == n and len({r["event_id"] for r in runs}) == n
            worker_pids = set(children(worker.pid))
            assert {r["pid"] for r in runs} <= worker_pids  # handled where they were published
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()


async def test_wrong_basic_passwords_are_counted_across_instances(
    pg_url: str, tmp_path: Path
) -> None:
    """The Basic login throttle lives in the database: failures on A and B add up, so two
    instances do not give an attacker twice the attempts (PLUGHOST_LOGIN_MAX_FAILURES=4)."""
    wrong = base64.b64encode(b"admin:not-the-password").decode()
    right = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    async with (
        two_instances(pg_url, tmp_path, PLUGHOST_LOGIN_MAX_FAILURES="4") as (a, b),
        aiohttp.ClientSession() as session,
    ):

        async def me(server: Server, credential: str) -> aiohttp.ClientResponse:
            headers = {"Authorization": f"Basic {credential}"}
            async with session.get(server.url + "/api/v1/me", headers=headers) as resp:
                await resp.read()
                return resp

        for server in (a, b, a, b):
            assert (await me(server, wrong)).status == 401
        for server in (a, b):
            resp = await me(server, right)  # the right password waits too, on both
            assert resp.status == 429, server.url
            assert int(resp.headers["Retry-After"]) >= 1
