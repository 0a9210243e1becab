"""The `plughost` command line, run as a user would: a subprocess with PLUGHOST_* variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORE_PLUGINS = REPO / "tests" / "fixtures" / "core_plugins"
PLUGHOST = [sys.executable, "-m", "host.cli"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    return {
        **clean,
        "PLUGHOST_DATA_DIR": str(tmp_path / "var"),
        "PLUGHOST_ROUTES_DIR": str(tmp_path / "routes.d"),
        "PLUGHOST_PLUGINS_DIR": str(CORE_PLUGINS),
        "PLUGHOST_ADMIN_PASSWORD": "cli-admin-password",
        "PLUGHOST_LOG_LEVEL": "WARNING",
    }


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PLUGHOST, *args],
        env=env,
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_explains_every_command(env: dict[str, str]) -> None:
    out = run(env, "--help")
    assert out.returncode == 0
    for command in ("serve", "migrate", "plugins", "users", "apikeys"):
        assert command in out.stdout
    for variable in ("PLUGHOST_HOST", "PLUGHOST_PORT", "PLUGHOST_DB_URL", "PLUGHOST_LOG_FORMAT"):
        assert variable in " ".join(out.stdout.split())
    sub = run(env, "users", "add", "--help")
    assert sub.returncode == 0 and "--role" in sub.stdout
    serve = run(env, "serve", "--help")
    assert "prints 'serving on URL'" in " ".join(serve.stdout.split())


def test_readme_command_table_names_every_command(env: dict[str, str]) -> None:
    from host.cli import build_parser

    readme = (REPO / "README.md").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"| `{name}" in readme, f"README's command table misses {name}"


def test_bad_setting_names_the_variable_and_exits_2(env: dict[str, str]) -> None:
    out = run({**env, "PLUGHOST_PORT": "eighty"}, "plugins")
    assert out.returncode == 2
    assert "PLUGHOST_PORT" in out.stderr and "Traceback" not in out.stderr
    out = run({**env, "PLUGHOST_DB_URL": "mysql://x"}, "plugins")
    assert out.returncode == 2 and "PLUGHOST_DB_URL" in out.stderr


def test_plugins_lists_loaded_and_skipped_with_reasons(env: dict[str, str]) -> None:
    out = run(env, "plugins", "--json")
    assert out.returncode == 0, out.stderr
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["core_alpha"]["status"] == "loaded" and rows["core_alpha"]["version"] == "1.2.3"
    assert (
        rows["core_cycle_a"]["status"] == "skipped" and "cyclic" in rows["core_cycle_a"]["reason"]
    )
    assert run(env, "plugins", "--strict").returncode == 1
    table = run(env, "plugins").stdout
    assert "reason:" in table and "core_beta" in table


def test_users_and_api_keys_lifecycle(env: dict[str, str]) -> None:
    assert run(env, "migrate").returncode == 0
    out = run(env, "users", "add", "clerk", "--role", "clients:read", stdin="clerk-password\n")
    assert out.returncode == 0, out.stderr
    assert run(env, "users", "add", "clerk", "--password", "x").returncode == 1  # exists
    assert run(env, "users", "set-roles", "clerk", "clients:read", "loans:read").returncode == 0
    listed = run(env, "users", "list").stdout
    assert "admin" in listed and "clients:read,loans:read" in listed

    out = run(env, "apikeys", "add", "etl", "--role", "clients:write")
    assert out.returncode == 0
    key = out.stdout.strip().splitlines()[-1]
    assert "." in key
    listed = run(env, "apikeys", "list").stdout
    assert "etl" in listed and key.split(".", 1)[1] not in listed  # the secret is never shown again
    assert run(env, "apikeys", "revoke", "1").returncode == 0
    assert "(revoked)" in run(env, "apikeys", "list").stdout
