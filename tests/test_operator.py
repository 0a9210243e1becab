"""What an operator sees from `plughost serve`/`migrate`/`worker`: one-line errors naming the setting,
a non-zero exit, and "serving on" only once the server really answers. Run as subprocesses."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
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
        "PLUGHOST_PLUGINS_DIR": str(tmp_path / "plugins"),  # none: errors must stand alone
        "PLUGHOST_ADMIN_PASSWORD": "operator-password",
        "PLUGHOST_LOG_LEVEL": "WARNING",
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PLUGHOST, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_port() -> int:
    """A port nothing listens on (bound and closed again: connections to it are refused)."""
    return free_port()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def one_error_line(out: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    return lines[0]


def test_port_in_use_is_one_line_naming_the_setting(env: dict[str, str], busy_port: int) -> None:
    out = run(env, "serve", "--port", str(busy_port))
    assert out.returncode == 1
    line = one_error_line(out)
    assert line == (
        f"error: port {busy_port} on 127.0.0.1 is already in use: stop the other server or "
        "choose another port with PLUGHOST_PORT or --port"
    )
    assert "serving on" not in out.stderr


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["migrate"], ["users", "list"]])
def test_database_down_is_one_line_naming_the_setting(
    env: dict[str, str], command: list[str]
) -> None:
    url = f"postgres://plughost:secret@127.0.0.1:{closed_port()}/plughost"
    out = run({**env, "PLUGHOST_DB_URL": url}, *command)
    assert out.returncode == 1
    line = one_error_line(out)
    assert line.startswith("error: the database at postgres://plughost:***@127.0.0.1:")
    assert line.endswith("does not answer (connection refused): start it or fix PLUGHOST_DB_URL")
    assert "secret" not in line


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]])
def test_broker_unreachable_is_one_line_naming_the_setting(
    env: dict[str, str], command: list[str]
) -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    out = run({**env, "PLUGHOST_BROKER_URL": url}, *command)
    assert out.returncode == 1
    assert one_error_line(out) == (
        f"error: the broker at {url} does not answer (connection refused): start it, fix "
        "PLUGHOST_BROKER_URL, or leave it empty for the embedded broker"
    )


def test_serving_on_is_printed_once_the_server_answers(env: dict[str, str]) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*PLUGHOST, "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "serving on" in line:
                break
        else:
            pytest.fail(f"the server exited ({proc.wait()}) without serving")
        assert line.strip() == f"plughost serving on http://127.0.0.1:{port}  (Ctrl-C to stop)"
        # no retry loop: when the line is out, the socket listens and start-up has completed
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


# logs ----------------------------------------------------------------------------------------
def test_logs_are_text_on_a_terminal_and_json_on_a_pipe(env: dict[str, str]) -> None:
    """The core fixture plugins include broken ones: discovery logs "plugin skipped" for each."""
    import json
    import pty

    env = {**env, "PLUGHOST_PLUGINS_DIR": str(CORE_PLUGINS)}
    command = [*PLUGHOST, "makemigrations", "no_such_plugin"]
    piped = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    records = [json.loads(line) for line in piped.stderr.splitlines() if line.startswith("{")]
    skipped = [r for r in records if r["message"].startswith("plugin skipped: ")]
    assert skipped and all(r["level"] == "WARNING" and r["plugin"] for r in skipped)
    assert any(r["plugin"] == "core_cycle_a" and "cyclic" in r["reason"] for r in skipped)

    primary, replica = pty.openpty()
    try:
        proc = subprocess.run(command, env=env, cwd=REPO, stderr=replica, timeout=60)
        os.close(replica)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(primary)
    assert proc.returncode == 1
    text = b"".join(chunks).decode()
    lines = [line for line in text.splitlines() if "plugin skipped: core_cycle_a (" in line]
    assert lines and not lines[0].startswith("{")
    assert " WARNING plughost.plugins: plugin skipped: core_cycle_a (cyclic requirement" in lines[0]

    forced = run({**env, "PLUGHOST_LOG_FORMAT": "text"}, "makemigrations", "no_such_plugin")
    assert "WARNING plughost.plugins: plugin skipped: core_cycle_a" in forced.stderr


def serve_and_get(env: dict[str, str], path: str, headers: dict[str, str]) -> list[str]:
    """Start `plughost serve`, make one request once it says it serves, stop it: its stderr."""
    port = free_port()
    proc = subprocess.Popen(
        [*PLUGHOST, "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "serving on" in line:
            break
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200
    proc.terminate()
    _, rest = proc.communicate(timeout=30)
    return lines + rest.splitlines(keepends=True)


def test_one_access_line_per_request_and_a_setting_to_turn_it_off(env: dict[str, str]) -> None:
    import json

    env = {
        **env,
        "PLUGHOST_LOG_LEVEL": "INFO",
        "PLUGHOST_LOG_FORMAT": "json",
        "PLUGHOST_PLUGINS_DIR": str(CORE_PLUGINS),
    }
    lines = serve_and_get(env, "/healthz", {"X-Request-Id": "access-test-1"})
    records = [json.loads(line) for line in lines if line.startswith("{")]
    access = [r for r in records if r["logger"] == "plughost.access"]
    assert len(access) == 1
    assert access[0]["message"].startswith("GET /healthz 200 ")
    assert access[0]["message"].endswith("ms id=access-test-1")
    assert (access[0]["method"], access[0]["path"], access[0]["status"]) == ("GET", "/healthz", 200)
    assert access[0]["request_id"] == "access-test-1" and access[0]["ms"] >= 0
    messages = [r["message"] for r in records]
    assert sum(m.startswith("routes loaded at start-up") for m in messages) == 1
    assert any(m.startswith("plugins mounted: core_alpha") for m in messages)
    assert not any("{'" in m for m in messages)  # no Python dict reprs

    quiet = serve_and_get({**env, "PLUGHOST_ACCESS_LOG": "false"}, "/healthz", {})
    assert not any("plughost.access" in line for line in quiet)


@contextlib.contextmanager
def serving(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A `plughost serve` subprocess, yielded once it printed "serving on"; stopped afterwards."""
    with subprocess.Popen(
        [*PLUGHOST, "serve", "--port", "0"],
        env=env,
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        try:
            for line in proc.stderr:
                if "serving on" in line:
                    break
            else:
                pytest.fail(f"the server exited ({proc.wait()}) without serving")
            yield proc
        finally:
            proc.terminate()
            proc.communicate(timeout=30)


def test_a_second_server_on_one_sqlite_data_folder_refuses(env: dict[str, str]) -> None:
    with serving(env) as first:
        second = run(env, "serve", "--port", "0")
    assert second.returncode == 1
    folder = Path(env["PLUGHOST_DATA_DIR"]).resolve()
    assert one_error_line(second) == (
        f"error: another plughost server (pid {first.pid}) already serves the data folder "
        f"{folder} with its SQLite database: stop it, or give this one its own "
        "PLUGHOST_DATA_DIR (or a shared PostgreSQL with PLUGHOST_DB_URL)"
    )
    with serving(env):  # the lock died with its process: the folder is free again
        pass


# progress ------------------------------------------------------------------------------------
def run_on_terminal(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run with standard error on a pseudo-terminal; (exit status, what the terminal received)."""
    import pty

    primary, replica = pty.openpty()
    try:
        proc = subprocess.run(
            [*PLUGHOST, *args], env=env, cwd=REPO, stderr=replica, stdout=replica, timeout=60
        )
        os.close(replica)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(primary)
    return proc.returncode, b"".join(chunks).decode()


def test_routes_check_shows_progress_on_a_terminal_only(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(12):
        (folder / f"app{i:02}.json").write_text(
            '{"version": 1, "routes": [{"path": "/a", "location": "/api/v1/a"}]}'
        )
    env = {k: v for k, v in env.items() if k not in {"CI", "PLUGHOST_PROGRESS"}}
    env["PLUGHOST_ROUTES_DIR"] = str(folder)
    status, shown = run_on_terminal(env, "routes", "check")
    assert status == 0
    assert "checking [1/12] app00.json" in shown and "checking [12/12] app11.json" in shown
    assert f"{folder}/app11.json: ok (1 routes)" in shown

    piped = run(env, "routes", "check")
    assert piped.returncode == 0 and "checking [" not in piped.stderr + piped.stdout
    status, shown = run_on_terminal({**env, "CI": "true"}, "routes", "check")
    assert status == 0 and "checking [" not in shown and "app11.json: ok" in shown


def test_a_broken_migration_at_start_up_is_one_error_line(env: dict[str, str]) -> None:
    plugins = Path(env["PLUGHOST_PLUGINS_DIR"])
    assert run(env, "new-plugin", "brk", "--dir", str(plugins)).returncode == 0
    broken = plugins / "brk" / "migrations" / "sqlite" / "1_20260101000000_broken.py"
    broken.write_text(
        "RUN_IN_TRANSACTION = True\n"
        'async def upgrade(db):\n    return """CREATE TABLE "brk_bad" (;"""\n'
        'async def downgrade(db):\n    return ""\n'
    )
    out = run(env, "serve", "--port", "0")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: plugin 'brk': migration {broken} failed: OperationalError: near \";\": syntax error"
    ]
    assert "serving on" not in out.stderr
