"""`plughost serve --workers N` and SIGTERM draining, with real processes under a bounded load.

Failures are counted, not assumed: every request of the load loop is a success (200) or a failure
(any other status, a reset, a refused connection).
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import REPO
from tests.servers import ADMIN_PASSWORD, Server, running, server_env, wait_until
from tests.test_jobs_workers import children
from tests.test_scale import admin_login

pytestmark = pytest.mark.slow

SCALE_PLUGINS = Path(__file__).parent / "fixtures" / "scale_plugins"


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return server_env(
        tmp_path / "var",
        tmp_path / "routes.d",
        SCALE_PLUGINS,
        PLUGHOST_PLUGIN_PATH=str(REPO / "plugins"),
        **extra,
    )


class Load:
    """`clients` loops sending GET `path`, at most `limit` requests each, until stopped."""

    def __init__(self, url: str, clients: int = 6, limit: int = 2000) -> None:
        self.url, self.clients, self.limit = url, clients, limit
        self.ok = 0
        self.failed: list[str] = []
        self.pids: set[int] = set()
        self.stop = asyncio.Event()

    async def _client(self, keep_alive: bool) -> None:
        # half the clients reuse connections, half open one per request (those spread over the
        # processes and keep some request in flight in the one that is stopped)
        connector = aiohttp.TCPConnector(force_close=not keep_alive)
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(self.limit):
                if self.stop.is_set():
                    return
                try:
                    async with session.get(self.url, timeout=aiohttp.ClientTimeout(total=20)) as r:
                        if r.status == 200:
                            self.ok += 1
                            self.pids.add((await r.json())["pid"])
                        else:
                            self.failed.append(f"{r.status} {await r.text()}")
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self.failed.append(repr(exc))

    def reached(self, count: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            if self.failed:
                raise AssertionError(f"failed requests: {self.failed[:5]}")
            return self.ok >= count

        return check

    async def run(self) -> None:
        await asyncio.gather(*(self._client(i % 2 == 0) for i in range(self.clients)))


async def test_workers_share_one_port_and_a_stopped_one_drops_no_request(tmp_path: Path) -> None:
    server = Server(env_for(tmp_path), tmp_path, "--workers", "2")
    with running(server):
        await server.ready()
        assert server.proc is not None
        pid = server.proc.pid

        async def two() -> list[int]:
            kids = children(pid)
            return kids if len(kids) == 2 else []

        first = await wait_until(two, 30, "two worker processes")
        load = Load(server.url + "/api/v1/busprobe/slow?ms=20")
        task = asyncio.create_task(load.run())
        await wait_until(load.reached(200), 60, "200 answers")
        os.kill(first[0], signal.SIGTERM)  # one process drains and exits; the other keeps on

        async def replaced() -> list[int]:
            kids = children(pid)
            return kids if first[0] not in kids and len(kids) == 2 else []

        second = await wait_until(replaced, 60, "the master to start a new process")
        at_replace = load.ok
        await wait_until(load.reached(at_replace + 200), 60, "200 more answers")
        load.stop.set()
        await asyncio.wait_for(task, 60)
        assert load.failed == [], load.failed[:5]
        assert len(load.pids) >= 2  # both processes served

        # a process killed outright is replaced too
        os.kill(second[0], signal.SIGKILL)

        async def replaced_again() -> list[int]:
            kids = children(pid)
            return kids if second[0] not in kids and len(kids) == 2 else []

        await wait_until(replaced_again, 60, "the master to replace a killed process")
        await server.ready()


async def test_sigterm_drains_in_flight_requests_and_sse_then_exits(tmp_path: Path) -> None:
    grace = 15
    server = Server(
        env_for(tmp_path, PLUGHOST_SHUTDOWN_GRACE=str(grace), PLUGHOST_DRAIN_DELAY="1"), tmp_path
    )
    with running(server):
        await server.ready()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await admin_login(session, server.url)
            stream = await session.get(
                server.url + "/admin/events/stream", headers={"Accept": "text/event-stream"}
            )
            assert stream.status == 200
            slow = asyncio.create_task(
                session.get(server.url + "/api/v1/busprobe/slow?ms=2500").__aenter__()
            )
            await asyncio.sleep(0.5)  # the slow request is in flight
            server.signal(signal.SIGTERM)

            async def draining() -> bool:
                async with session.get(server.url + "/healthz") as r:
                    return r.status == 503 and (await r.json())["status"] == "draining"

            assert await wait_until(draining, 5, "/healthz to say draining")
            answer = await slow
            assert answer.status == 200  # the request in flight at SIGTERM was answered
            answer.release()

            async def ended() -> bool:
                return await stream.content.read(65536) == b""

            await asyncio.wait_for(ended(), grace)  # the SSE stream was closed by the server
            stream.close()
        assert server.proc is not None
        # within the grace period (aiohttp alone waits 60 s for the open stream, then more)
        assert await asyncio.to_thread(server.proc.wait, grace + 5) == 0


HELLO = """
import os
from aiohttp import web
from host import Plugin, Routes

v1 = Routes()


@v1.get("/hello", public=True)
async def hello(request):
    return web.json_response({"pid": os.getpid()})


plugin = Plugin(name="hello", version="1", rest={"v1": v1})
"""


def reload(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "host.cli", "reload", "--timeout", "120"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=150,
    )


async def test_sighup_rolls_onto_a_new_plugin_without_a_failed_request(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    shutil.copytree(SCALE_PLUGINS / "busprobe", plugins / "busprobe")
    env = env_for(tmp_path, PLUGHOST_PLUGINS_DIR=str(plugins))
    server = Server(env, tmp_path, "--workers", "2")
    with running(server):
        await server.ready()
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + "/api/v1/hello") as resp:
                assert resp.status == 404
            load = Load(server.url + "/api/v1/busprobe/slow?ms=20")
            task = asyncio.create_task(load.run())
            await wait_until(load.reached(100), 60, "100 answers")
            (plugins / "hello").mkdir()
            (plugins / "hello" / "__init__.py").write_text(HELLO)
            done = await asyncio.to_thread(reload, env, tmp_path)  # `plughost reload` = SIGHUP
            assert done.returncode == 0, done.stderr
            assert "serving generation 1" in done.stdout
            async with session.get(server.url + "/api/v1/hello") as resp:
                assert resp.status == 200  # the new plugin's route answers
            before = load.ok
            await wait_until(load.reached(before + 100), 60, "100 more answers")

            # a plugin set that fails to load: the roll is aborted, the old processes serve on
            (plugins / "broken").mkdir()
            (plugins / "broken" / "__init__.py").write_text("raise ImportError('on purpose')\n")
            serving = set(children(server.proc.pid))  # type: ignore[union-attr]
            refused = await asyncio.to_thread(reload, env, tmp_path)
            assert refused.returncode == 1
            assert "roll aborted" in refused.stderr and "broken" in refused.stderr
            assert set(children(server.proc.pid)) == serving  # type: ignore[union-attr]
            before = load.ok
            await wait_until(load.reached(before + 100), 60, "100 answers after the abort")
            load.stop.set()
            await asyncio.wait_for(task, 60)
        assert load.failed == [], load.failed[:5]


FLAKY = """
from aiohttp import web
from host import Plugin, Routes

v1 = Routes()


@v1.get("/flaky/fixed", public=True)
async def fixed(request):
    return web.json_response({"fixed": True})


def setup(context):
    BODY


plugin = Plugin(name="flaky", version="VERSION", rest={"v1": v1}, setup=setup)
"""


def flaky(body: str, version: str) -> str:
    return FLAKY.replace("BODY", body).replace("VERSION", version)


BROKEN_SETUP = "raise RuntimeError('on purpose; password=hunter2 at postgres://u:hunter2@db/x')"


def write_badmig(folder: Path) -> None:
    """A plugin whose first migration is not valid SQL."""
    (folder / "migrations" / "sqlite").mkdir(parents=True)
    (folder / "__init__.py").write_text(
        "from host import Plugin\n\n"
        'plugin = Plugin(name="badmig", version="1", models="badmig.models")\n'
    )
    (folder / "models.py").write_text(
        "from tortoise import fields\nfrom tortoise.models import Model\n\n\n"
        "class Thing(Model):\n    id = fields.IntField(primary_key=True)\n\n"
        '    class Meta:\n        app = "badmig"\n'
    )
    (folder / "migrations" / "sqlite" / "0_20260101000000_init.py").write_text(
        "async def upgrade(db):\n"
        "    return 'CREATE TABLE \"badmig_thing\" (;'\n\n\n"
        "async def downgrade(db):\n    return ''\n"
    )


async def activation(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url + "/healthz") as resp:
        assert resp.status == 200, await resp.text()
        body: dict[str, Any] = await resp.json()
    return body


async def test_an_aborted_roll_shows_why_until_the_admin_button_rolls_onto_the_fix(
    tmp_path: Path,
) -> None:
    plugins = tmp_path / "plugins"
    shutil.copytree(SCALE_PLUGINS / "busprobe", plugins / "busprobe")
    env = env_for(tmp_path, PLUGHOST_PLUGINS_DIR=str(plugins))
    server = Server(env, tmp_path, "--workers", "2")
    with running(server):
        await server.ready()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:

            async def started() -> dict[str, Any]:
                body = await activation(session, server.url)
                return body if body["activation"]["status"] == "serving" else {}

            body = await wait_until(started, 30, "the master to record its start")
            assert body["status"] == "ok" and body["activation"]["generation"] == 0
            assert "busprobe 1" in body["activation"]["plugins"]
            load = Load(server.url + "/api/v1/busprobe/slow?ms=20")
            task = asyncio.create_task(load.run())
            await wait_until(load.reached(100), 60, "100 answers")

            # a plugin whose set-up raises: the roll is aborted, and every process says why
            (plugins / "flaky").mkdir()
            (plugins / "flaky" / "__init__.py").write_text(flaky(BROKEN_SETUP, "1"))
            refused = await asyncio.to_thread(reload, env, tmp_path)
            assert refused.returncode == 1 and "flaky" in refused.stderr
            body = await activation(session, server.url)
            assert body["status"] == "degraded"
            aborted = body["activation"]["lastAbort"]
            assert "plugin flaky failed to load" in aborted["error"]
            assert "on purpose" in aborted["error"] and "hunter2" not in json.dumps(body)
            assert "flaky (skipped)" in aborted["attempted"] and aborted["at"]
            assert any(p.startswith("plugin roll aborted at") for p in body["problems"])
            assert body["activation"]["generation"] == 0  # the old processes serve on

            csrf = await admin_login(session, server.url)
            async with session.get(server.url + "/admin/plugins") as resp:
                text = html.unescape(await resp.text())
            assert 'id="roll-abort"' in text and "plugin flaky failed to load" in text
            assert "on purpose" in text and "hunter2" not in text
            async with session.get(server.url + "/api/v1/flaky/fixed") as resp:
                assert resp.status == 404

            # a plugin whose migration fails: the new processes never start; the same, with why
            write_badmig(plugins / "badmig")
            refused = await asyncio.to_thread(reload, env, tmp_path)
            assert refused.returncode == 1 and "badmig" in refused.stderr
            aborted = (await activation(session, server.url))["activation"]["lastAbort"]
            assert "plugin 'badmig': migration" in aborted["error"] and "failed" in aborted["error"]
            shutil.rmtree(plugins / "badmig")

            # the fix, activated by the admin page's button (a form without the token is refused)
            (plugins / "flaky" / "__init__.py").write_text(flaky("pass", "2"))
            async with session.post(server.url + "/admin/plugins/reload", data={}) as resp:
                assert resp.status == 403
            async with session.post(
                server.url + "/admin/plugins/reload", data={"_csrf": csrf}, allow_redirects=False
            ) as resp:
                assert resp.status == 303, await resp.text()
                assert resp.headers["Location"] == "/admin/plugins?roll=requested"

            async def rolled() -> dict[str, Any]:
                async with session.get(server.url + "/healthz") as resp:
                    if resp.status == 503:  # an old process draining: ask again
                        return {}
                    body: dict[str, Any] = await resp.json()
                return body if body["activation"]["generation"] == 1 else {}

            body = await wait_until(rolled, 120, "the button's roll to complete")
            assert body["status"] == "ok" and "problems" not in body
            assert "lastAbort" not in body["activation"]
            assert "flaky 2" in body["activation"]["plugins"]
            async with session.get(server.url + "/api/v1/flaky/fixed") as resp:
                assert resp.status == 200  # the fixed plugin's route answers
            async with session.get(server.url + "/admin/plugins") as resp:
                text = html.unescape(await resp.text())
            assert 'id="roll-abort"' not in text
            assert "generation 1 serving, rolled at" in text and "flaky 2" in text

            before = load.ok
            await wait_until(load.reached(before + 100), 60, "100 answers after the roll")
            load.stop.set()
            await asyncio.wait_for(task, 60)
        assert load.failed == [], load.failed[:5]


async def test_two_processes_on_one_sqlite_file_write_in_turn(tmp_path: Path) -> None:
    """Batches to both processes of `serve --workers 2` on the default SQLite file. A create reads
    before it writes (it checks its externalId); with Tortoise's plain BEGIN such a transaction
    failed at once with 500 "database is locked" whenever the other process had committed since
    its read (SQLite cannot upgrade a stale read snapshot, and does not wait). Transactions now
    take the write lock at BEGIN (host/data/sqlite.py): every item is a 201, or the 409 its
    repeated externalId earns, and every 201 is stored."""
    env = server_env(tmp_path / "var", tmp_path / "routes.d", REPO / "plugins")
    server = Server(env, tmp_path, "--workers", "2")
    statuses: dict[int, int] = {}
    with running(server):
        await server.ready()
        async with aiohttp.ClientSession() as session:
            login = {"username": "admin", "password": ADMIN_PASSWORD}
            async with session.post(server.url + "/api/v1/authentication", json=login) as r:
                headers = {"Authorization": f"Bearer {(await r.json())['access_token']}"}

            async def client(number: int) -> None:
                # a connection per batch: the batches spread over both processes
                connector = aiohttp.TCPConnector(force_close=True)
                async with aiohttp.ClientSession(connector=connector, headers=headers) as own:
                    for round_ in range(8):
                        bodies = [
                            {
                                "firstname": "W",
                                "lastname": "T",
                                "externalId": f"{number}-{round_}-{i}",
                            }
                            for i in range(50)
                        ]
                        for i in range(4, 50, 5):  # a duplicate: 409, undone alone
                            bodies[i] = bodies[i - 1]
                        items = [
                            {"requestId": i, "method": "POST", "relativeUrl": "clients", "body": b}
                            for i, b in enumerate(bodies)
                        ]
                        async with own.post(server.url + "/api/v1/batches", json=items) as r:
                            assert r.status == 200, await r.text()
                            for answer in await r.json():
                                code = answer["statusCode"]
                                statuses[code] = statuses.get(code, 0) + 1

            await asyncio.gather(*(client(n) for n in range(4)))
            async with session.get(server.url + "/api/v1/clients?limit=1", headers=headers) as r:
                stored = (await r.json())["totalFilteredRecords"]
    assert statuses == {201: 1280, 409: 320}
    assert stored == 1280
