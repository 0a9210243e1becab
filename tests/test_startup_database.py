"""Start-up's database work for real (empty database: migrations, first admin), and the test
template standing in for it: a copy holds what a fresh start makes, and start-up on it applies nothing.
"""

from __future__ import annotations

import logging
import sqlite3
import stat
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from host.auth.authenticator import verify_password
from tests.conftest import ADMIN_PASSWORD, DatabaseTemplates, login

MakeClient = Callable[..., Awaitable[TestClient]]
APPLIED = "applied migration"


def dump(db: Path) -> dict[str, Any]:
    """Schema, aerich's bookkeeping, every table's row count and the users of one SQLite file."""
    with closing(sqlite3.connect(db)) as conn:
        schema = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        tables = [name for kind, name, _ in schema if kind == "table"]
        return {
            "schema": schema,
            "aerich": conn.execute("SELECT app, version FROM aerich ORDER BY id").fetchall(),
            "counts": {
                t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables
            },
            "users": conn.execute(
                "SELECT username, roles, password_hash FROM host_user ORDER BY id"
            ).fetchall(),
        }


def applied(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(APPLIED)]


async def started_and_stopped(make_client: MakeClient, data_dir: Path, **kw: Any) -> dict[str, Any]:
    client = await make_client(data_dir=data_dir, **kw)
    await login(client)  # the first admin exists with the configured password
    await client.close()  # start-up and clean-up both done: the file is at rest
    return dump(data_dir / "plughost.sqlite3")


async def test_a_fresh_start_migrates_an_empty_database_and_creates_the_admin(
    make_client: MakeClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="plughost.migrate")
    state = await started_and_stopped(make_client, tmp_path / "fresh", template=False)
    assert len(applied(caplog)) == len(state["aerich"]) > 0
    assert {app for app, _ in state["aerich"]} >= {"host", "host_jobs", "clients", "loans"}
    [(username, roles, password_hash)] = state["users"]
    assert username == "admin" and "admin" in roles
    assert verify_password(password_hash, ADMIN_PASSWORD)


async def test_the_template_holds_what_a_fresh_start_makes(
    make_client: MakeClient,
    make_settings: Callable[..., Any],
    database_templates: DatabaseTemplates,
    tmp_path: Path,
) -> None:
    fresh = await started_and_stopped(make_client, tmp_path / "fresh", template=False)
    assert await database_templates.copy_into(make_settings(data_dir=tmp_path / "copied"))
    copied = await started_and_stopped(make_client, tmp_path / "copied", template=False)
    assert copied["schema"] == fresh["schema"]
    assert copied["aerich"] == fresh["aerich"]
    assert copied["counts"] == fresh["counts"]
    assert [u[:2] for u in copied["users"]] == [u[:2] for u in fresh["users"]]
    assert verify_password(copied["users"][0][2], ADMIN_PASSWORD)


async def test_start_up_on_the_template_applies_no_migration(
    make_client: MakeClient,
    make_settings: Callable[..., Any],
    database_templates: DatabaseTemplates,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data_dir = tmp_path / "copied"
    assert await database_templates.copy_into(make_settings(data_dir=data_dir))
    before = dump(data_dir / "plughost.sqlite3")
    assert before["aerich"] and len(before["users"]) == 1  # migrated, with its admin

    caplog.set_level(logging.INFO, logger="plughost.migrate")
    after = await started_and_stopped(make_client, data_dir, template=False)  # no second copy
    assert applied(caplog) == []
    assert after["aerich"] == before["aerich"] and after["users"] == before["users"]


async def test_without_a_password_the_first_admin_gets_a_generated_one_in_a_0600_file(
    make_client: MakeClient, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    client = await make_client(data_dir=data_dir, admin_password="")
    secret_file = data_dir / "admin-password"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    await login(client, password=secret_file.read_text().strip())
    resp = await client.post(
        "/api/v1/authentication", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert resp.status == 401


@pytest.mark.parametrize(
    "overrides",
    [{"admin_password": ""}, {"dev": False}, {"db_url": "postgres://nowhere/x"}],
    ids=["generated-password", "no-dev-migrations", "postgres"],
)
async def test_the_template_stands_aside_where_start_up_would_do_otherwise(
    make_settings: Callable[..., Any],
    database_templates: DatabaseTemplates,
    overrides: dict[str, Any],
) -> None:
    settings = make_settings(**overrides)
    assert await database_templates.copy_into(settings) is False
    assert not (settings.data_dir / "plughost.sqlite3").exists()
