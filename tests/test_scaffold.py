"""`plughost new-plugin`: the scaffold loads, migrates on both databases and passes its own test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PLUGHOST = str(REPO / ".venv" / "bin" / "plughost")


def env_for(tmp: Path, plugins: Path, db_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    env.update(
        PLUGHOST_DATA_DIR=str(tmp / "var"),
        PLUGHOST_DB_URL=db_url,
        PLUGHOST_PLUGINS_DIR=str(plugins),
        PLUGHOST_ROUTES_DIR=str(tmp / "routes.d"),
        PLUGHOST_ADMIN_PASSWORD="scaffold-test-password",
        PLUGHOST_SECRET_KEY="scaffold-test-secret-key-0123456789",
    )
    return env


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PLUGHOST, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def scaffolded(tmp_path: Path) -> Path:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    proc = run("new-plugin", "notes", "--dir", str(plugins), env=env_for(tmp_path, plugins))
    assert proc.returncode == 0, proc.stderr
    for rel in ("__init__.py", "models.py", "tests/test_notes.py"):
        assert f"created {plugins / 'notes' / rel}" in proc.stdout
    return plugins


def test_new_plugin_loads_and_passes_its_own_test(scaffolded: Path, tmp_path: Path) -> None:
    folder = scaffolded / "notes"
    sqlite = sorted(p.name for p in (folder / "migrations" / "sqlite").glob("*.py"))
    postgres = sorted(p.name for p in (folder / "migrations" / "postgres").glob("*.py"))
    assert len(sqlite) == 1 and sqlite == postgres and sqlite[0].startswith("0_")
    assert "SERIAL" in next((folder / "migrations" / "postgres").glob("*.py")).read_text()

    listing = run("plugins", env=env_for(tmp_path, scaffolded))
    assert listing.returncode == 0
    assert any(line.split()[:2] == ["loaded", "notes"] for line in listing.stdout.splitlines()), (
        listing.stdout
    )

    # the scaffold's own test, run as its author would (the repo's pytest settings)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(REPO / "pyproject.toml"),
            "--rootdir",
            str(REPO),
            "-q",
            "-p",
            "no:cacheprovider",
            str(folder),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # every test of the scaffold ran and passed: none skipped, none deselected
    summary = proc.stdout.strip().splitlines()[-1]
    assert re.match(r"^3 passed in ", summary), proc.stdout


@pytest.mark.pg
async def test_new_plugin_migrates_on_postgres(
    scaffolded: Path, tmp_path: Path, pg_url: str
) -> None:
    proc = run("migrate", env=env_for(tmp_path, scaffolded, db_url=pg_url))
    assert proc.returncode == 0, proc.stderr
    assert "applied notes/0_" in proc.stdout


def test_new_plugin_refuses_existing_folder(scaffolded: Path, tmp_path: Path) -> None:
    proc = run("new-plugin", "notes", "--dir", str(scaffolded), env=env_for(tmp_path, scaffolded))
    assert proc.returncode == 1
    assert "already exists" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", ["Bad-Name", "1st", "os", "class", "x" * 41])
def test_new_plugin_refuses_bad_names(name: str, tmp_path: Path) -> None:
    proc = run("new-plugin", name, "--dir", str(tmp_path), env=env_for(tmp_path, tmp_path))
    assert proc.returncode == 1
    assert "bad plugin name" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / name).exists()
