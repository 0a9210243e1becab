"""Real `plughost serve` processes for fault and scale-out tests: start, wait until ready, kill.

Every wait is bounded (a deadline, then an AssertionError naming what did not happen).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from tests.conftest import ADMIN_PASSWORD, REPO

SECRET = "test-secret-key-with-enough-entropy-0123456789"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(data_dir: Path, routes_dir: Path, plugins_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    env.update(
        PLUGHOST_DATA_DIR=str(data_dir),
        PLUGHOST_ROUTES_DIR=str(routes_dir),
        PLUGHOST_PLUGINS_DIR=str(plugins_dir),
        PLUGHOST_SECRET_KEY=SECRET,
        PLUGHOST_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PLUGHOST_LOG_FORMAT="text",
        PLUGHOST_LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


class Server:
    """One `plughost serve` process (its own session, so its workers die with it)."""

    def __init__(self, env: dict[str, str], cwd: Path, *args: str, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.cwd, self.args = env, cwd, args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "host.cli", "serve", "--port", str(self.port), *self.args],
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        return self

    async def ready(self, timeout: float = 60) -> Server:
        async def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}")
            try:
                async with (
                    aiohttp.ClientSession() as s,
                    s.get(self.url + "/healthz", timeout=aiohttp.ClientTimeout(total=2)) as r,
                ):
                    return r.status == 200
            except (aiohttp.ClientError, TimeoutError):
                return False

        await wait_until(up, timeout, f"{self.url} answering /healthz")
        return self

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL the whole process group (the master and any workers)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 40) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode


@contextmanager
def running(*servers: Server) -> Iterator[tuple[Server, ...]]:
    for server in servers:
        server.start()
    try:
        yield servers
    finally:
        for server in servers:
            try:
                server.stop(timeout=20)
            finally:
                server.kill()


async def wait_until(
    check: Callable[[], Awaitable[T]], timeout: float, what: str, every: float = 0.1
) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


async def token(session: aiohttp.ClientSession, url: str) -> dict[str, str]:
    async with session.post(
        url + "/api/v1/authentication", json={"username": "admin", "password": ADMIN_PASSWORD}
    ) as resp:
        assert resp.status == 200, await resp.text()
        return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}
