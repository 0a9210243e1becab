"""Shared fixtures: a fresh server per test on its own data dir, real services when configured.

Each test server starts on a copy of a SQLite file migrated once per session (per set of
table-owning apps), holding the first admin as start-up creates it; `make_client(template=False)`
starts on an empty database instead, as tests of migrations and of the first admin need.
PLUGHOST_TEST_TEMPLATE=0 turns the copies off for a whole run (to time them, or to rule them out).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from host.app import create_app, database_config, find_plugins, with_host_apps
from host.auth import AUTH
from host.auth.models import User
from host.auth.users import add_user, ensure_first_admin
from host.config import Settings
from host.data.db import close_db, init_db
from host.data.migrate import apply_migrations, migration_files
from host.plugin import Plugin

REPO = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "admin-test-password"
FIXTURE_PLUGINS = Path(__file__).parent / "fixtures" / "plugins"
"""Test plugins: jobprobe (workflows), overlap (batch parity)."""


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test server: temp data dir and routes dir, the repo's demo plugins."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "var",
            "routes_dir": tmp_path / "routes.d",
            "plugins_dir": REPO / "plugins",
            "secret_key": "test-secret-key-with-enough-entropy-0123456789",
            "admin_password": ADMIN_PASSWORD,
            "broker_url": "",
            "log_format": "text",
        }
        values.update(overrides)
        return Settings(**values)

    return factory


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite file these settings use, or None for another database."""
    url = settings.database_url
    return Path(url.removeprefix("sqlite://")) if url.startswith("sqlite://") else None


class DatabaseTemplates:
    """Migrated SQLite files, built once per session for each set of table-owning apps."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.built: dict[Hashable, Path] = {}

    async def copy_into(self, settings: Settings) -> bool:
        """Put a migrated database with the first admin where `settings` look for theirs.

        False (nothing done) when start-up would not do the same: another database, no dev-mode
        migrations, or a generated admin password (its file lives in the data dir).
        """
        target = sqlite_path(settings)
        if target is None or not settings.dev or not settings.admin_password:
            return False
        plugins = find_plugins(settings).loaded
        key = (settings.admin_password, *(_app_key(app) for app in with_host_apps(plugins)))
        template = self.built.get(key)
        if template is None:
            template = self.built[key] = await self._build(settings, plugins)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        return True

    async def _build(self, settings: Settings, plugins: list[Plugin]) -> Path:
        """What start-up does in dev mode (host/app.py `_database`), on a data dir of our own."""
        where = self.folder / f"build{len(self.built)}"
        built = settings.model_copy(update={"data_dir": where})
        config = database_config(built, plugins)
        db = await init_db(config)
        try:
            first_admin = partial(ensure_first_admin, where, settings.admin_password)
            await apply_migrations(config, with_host_apps(plugins), dev=True, then=first_admin)
        finally:
            await close_db(db)
        source = sqlite_path(built)
        assert source is not None
        template = self.folder / f"template{len(self.built)}.sqlite3"
        # the backup API folds the write-ahead log in: one self-contained file to copy
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(template)) as dst:
            src.backup(dst)
        return template


def _app_key(app: Plugin) -> Hashable:
    """What decides an app's tables: which package and models (the modules' last change, for
    dev-mode tables made without migrations), and which migration files."""
    folder = app.migrations_dir
    files = migration_files(folder / "sqlite") if folder is not None else []
    migrations = tuple((f.name, f.path.stat().st_mtime_ns) for f in files)
    package = app.package_dir
    modules = max((p.stat().st_mtime_ns for p in package.glob("*.py")), default=0) if package else 0
    return app.name, str(package), app.models_module, modules, migrations


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> DatabaseTemplates:
    return DatabaseTemplates(tmp_path_factory.mktemp("db-templates"))


@pytest.fixture
async def make_client(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    make_settings: Callable[..., Settings],
    database_templates: DatabaseTemplates,
) -> Callable[..., Awaitable[TestClient]]:
    """Start a full server (database, plugins) and return a client for it.

    The database is a copy of the session's migrated template unless `template=False`, which
    makes start-up migrate an empty database and create the first admin itself.
    """

    async def factory(*, template: bool = True, **overrides: Any) -> TestClient:
        settings = make_settings(**overrides)
        if template and os.environ.get("PLUGHOST_TEST_TEMPLATE", "1") != "0":
            await database_templates.copy_into(settings)
        return await aiohttp_client(create_app(settings))

    return factory


@pytest.fixture
async def client(make_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    return await make_client()


async def login(client: TestClient, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    resp = await client.post(
        "/api/v1/authentication", json={"username": username, "password": password}
    )
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["access_token"])


@pytest.fixture
async def admin_headers(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {await login(client)}"}


# batches ----------------------------------------------------------------------------------------
async def batch(
    client: TestClient,
    items: list[dict[str, Any]] | str,
    headers: dict[str, str],
    query: str = "",
) -> tuple[int, Any]:
    data = items if isinstance(items, str) else json.dumps(items)
    resp = await client.post(
        f"/api/v1/batches{query}",
        data=data,
        headers={**headers, "Content-Type": "application/json"},
    )
    text = await resp.text()
    return resp.status, json.loads(text) if text else None


def body(item: dict[str, Any]) -> Any:
    return json.loads(item["body"])


def create(request_id: Any, **extra: Any) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "method": "POST",
        "relativeUrl": "clients",
        "body": json.dumps({"firstname": "Ada", "lastname": f"L{request_id}"}),
        **extra,
    }


# jobs -------------------------------------------------------------------------------------------
async def jobs_client(
    make_client: Callable[..., Awaitable[TestClient]], **overrides: Any
) -> tuple[TestClient, dict[str, str]]:
    values: dict[str, Any] = {"plugins_dir": FIXTURE_PLUGINS, "jobs_backoff_seconds": 0.05}
    values.update(overrides)
    client = await make_client(**values)
    return client, {"Authorization": f"Bearer {await login(client)}"}


async def start(client: TestClient, headers: dict[str, str], workflow: str, **params: Any) -> int:
    resp = await client.post(
        f"/api/v1/workflows/{workflow}/runs", json={"params": params}, headers=headers
    )
    assert resp.status == 202, await resp.text()
    answer = await resp.json()
    assert resp.headers["Location"] == f"/api/v1/jobs/{answer['id']}"
    return int(answer["id"])


async def job(client: TestClient, headers: dict[str, str], job_id: int) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def wait_for(
    client: TestClient,
    headers: dict[str, str],
    job_id: int,
    check: Callable[[dict[str, Any]], bool],
    timeout: float = 30,
    interval: float = 0.05,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view = await job(client, headers, job_id)
        if check(view):
            return view
        assert time.monotonic() < deadline, f"job never got there: {view}"
        await asyncio.sleep(interval)


def finished(view: dict[str, Any]) -> bool:
    return view["state"] in ("completed", "failed", "cancelled")


async def effects(client: TestClient, headers: dict[str, str], prefix: str) -> int:
    resp = await client.get("/api/v1/probe/effects", params={"prefix": prefix}, headers=headers)
    return int((await resp.json())["count"])


# gateway ----------------------------------------------------------------------------------------
GWDEMO_PLUGIN = """
from aiohttp import web
from host import ApiRequest, Plugin, Routes

v1, v2 = Routes(), Routes()


@v1.get("/things/{id}", roles=("things:read",))
async def thing_v1(request: ApiRequest) -> web.Response:
    return web.json_response({"version": 1, "id": request.match_info["id"], "app": request.app_name})


@v2.get("/things/{id}", roles=("things:read",))
async def thing_v2(request: ApiRequest) -> web.Response:
    return web.json_response({"version": 2, "thing": {"id": request.match_info["id"]}})


@v1.get("/echo/{value}", public=True)
async def echo(request: ApiRequest) -> web.Response:
    return web.json_response({"value": request.match_info["value"], "path": request.path})


@v1.get("/files/{rest*}", public=True)
async def files(request: ApiRequest) -> web.Response:
    return web.json_response({"rest": request.match_info["rest"], "path": request.path})


plugin = Plugin(name="gwdemo", version="1.0", rest={"v1": v1, "v2": v2})
"""


def routes_doc(version: int = 1, *, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "version": 1,
        "routes": [
            {
                "path": "/things/{id}",
                "location": f"/api/v{version}/things/{{id}}",
                "roles": ["things:read"],
            },
            {"path": "/echo/{value}", "location": "/api/v1/echo/{value}", "public": True},
            {"path": "/files/{rest*}", "location": "/api/v1/files/{rest}", "public": True},
            *(extra or []),
        ],
    }


def write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=2))


@pytest.fixture(scope="session")
def gwdemo_plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plugins folder holding only `gwdemo`: the gateway does not depend on the demo plugins."""
    folder = tmp_path_factory.mktemp("gwplugins")
    (folder / "gwdemo").mkdir()
    (folder / "gwdemo" / "__init__.py").write_text(GWDEMO_PLUGIN)
    return folder


GW_TEST_ROLE_SETS = (("things:read",), ("other",), ("partner:read",))
"""The role sets `Gw.token` is called with; make_gw creates one user for each."""


@dataclass
class Gw:
    client: TestClient
    routes: Path

    def token(self, *roles: str, subject: str = "") -> dict[str, str]:
        """A bearer token of a user holding `roles` (one user per role set, made by `make_gw`:
        user tokens are checked against their user)."""
        subject = subject or "gw-" + "+".join(sorted(roles))
        token, _ = self.client.app[AUTH].issue_token(subject, roles)
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.token("admin", subject="admin")

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        resp = await self.client.get(path, **kw)
        return resp.status, await resp.json()

    async def status(self) -> dict[str, Any]:
        resp = await self.client.get("/api/v1/admin/routes/status", headers=self.admin)
        assert resp.status == 200
        return {a["app"]: a for a in (await resp.json())["apps"]}

    async def until(self, check: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
        """Poll until `check()` is true (no fixed sleeps: the deadline only bounds a failure)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not await check():
            assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
            await asyncio.sleep(0.02)


@pytest.fixture
async def make_gw(
    make_client: Callable[..., Awaitable[TestClient]], tmp_path: Path, gwdemo_plugins: Path
) -> Callable[..., Awaitable[Gw]]:
    async def factory(files: dict[str, Any] | None = None, **settings: Any) -> Gw:
        routes = tmp_path / "routes.d"
        routes.mkdir(exist_ok=True)
        for name, doc in (files if files is not None else {"demo.json": routes_doc()}).items():
            if isinstance(doc, str):
                (routes / name).write_text(doc)
            else:
                write_json(routes / name, doc)
        settings.setdefault("routes_poll_seconds", 0.5)
        settings.setdefault("plugins_dir", gwdemo_plugins)
        client = await make_client(routes_dir=routes, **settings)
        for roles in GW_TEST_ROLE_SETS:
            name = "gw-" + "+".join(sorted(roles))
            if not await User.exists(username=name):  # a second server on the same data dir
                await add_user(name, "gw-user-password", roles)
        return Gw(client, routes)

    return factory


# real services -------------------------------------------------------------------------------
def _service(var: str) -> str:
    url = os.environ.get(var, "")
    if not url:
        pytest.skip(f"{var} is not set; this test needs the real service (CI sets it)")
    return url


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    import asyncpg

    base = _service("PLUGHOST_TEST_PG")
    name = f"plughost_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def redis_url() -> str:
    return _service("PLUGHOST_TEST_REDIS")


@pytest.fixture
def amqp_url() -> str:
    return _service("PLUGHOST_TEST_AMQP")
