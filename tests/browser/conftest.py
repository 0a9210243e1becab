"""A real `plughost serve` (gateway watcher and embedded job worker) and Debian's chromium.

The server runs as a subprocess on a free port with its own data and routes folders; the browser
is driven with Playwright's sync API. Nothing is downloaded: chromium is the system package.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "docs" / "screenshots"
ADMIN_PASSWORD = "browser-admin-password"
CLERK_PASSWORD = "clerk-password"
BIN = Path(sys.executable).parent

MOBILE_V1 = """{
  "version": 1,
  "description": "Mobile app: client screens",
  "routes": [
    {"path": "/clients/{id}", "methods": ["GET"], "location": "/api/v1/clients/{id}", "roles": ["admin", "clients:read"]}
  ]
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    routes_dir: Path
    token: str = ""

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> tuple[int, Any]:
        """One HTTP call (JSON in, JSON out) as the admin, unless another token is given."""
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})}
        bearer = self.token if token is None else token
        if bearer:
            sent["Authorization"] = f"Bearer {bearer}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
            exc.close()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode()


def _env(data_dir: Path, routes_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    env.update(
        PLUGHOST_DATA_DIR=str(data_dir),
        PLUGHOST_ROUTES_DIR=str(routes_dir),
        PLUGHOST_PLUGINS_DIR=str(REPO / "plugins"),
        # a test plugin with a parameterised workflow (tests/browser/plugins/wfdemo)
        PLUGHOST_PLUGIN_PATH=str(Path(__file__).resolve().parent / "plugins"),
        PLUGHOST_SECRET_KEY="browser-test-secret-key-0123456789abcdef",
        PLUGHOST_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PLUGHOST_LOG_FORMAT="text",
        PLUGHOST_LOG_LEVEL="WARNING",
    )
    return env


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
        )
    root = tmp_path_factory.mktemp("admin-ui")
    data_dir, routes_dir = root / "var", root / "routes.d"
    routes_dir.mkdir()
    demo = REPO / "routes.d" / "mobile.json"  # the shipped demo file, as `make run` serves it
    (routes_dir / "mobile.json").write_text(demo.read_text() if demo.exists() else MOBILE_V1)
    env = _env(data_dir, routes_dir)
    plughost = str(BIN / "plughost")
    run = {"env": env, "cwd": root, "check": True, "capture_output": True, "timeout": 120}
    subprocess.run([plughost, "migrate"], **run)
    subprocess.run(
        [plughost, "users", "add", "clerk", "--password", CLERK_PASSWORD, "--role", "clients:read"],
        **run,
    )
    port = _free_port()
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [plughost, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    srv = Server(base=f"http://127.0.0.1:{port}", routes_dir=routes_dir)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"plughost serve exited: {(root / 'server.log').read_text()}")
            try:
                status, _ = srv.api("GET", "/healthz", token="")
                if status in (200, 503):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("plughost serve did not start within 60 s")
            time.sleep(0.2)
        status, body = srv.api(
            "POST",
            "/api/v1/authentication",
            {"username": "admin", "password": ADMIN_PASSWORD},
            token="",
        )
        assert status == 200, body
        srv.token = body["access_token"]
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    """Per module, not per session: Playwright's sync API runs an event loop in the main thread
    while it is open, and the async tests collected after tests/browser/ need none running."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Any, server: Server) -> Iterator[Any]:
    """A factory of pages, each in its own browser context (own cookies)."""
    contexts = []

    def make() -> Any:
        ctx = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 860})
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def login(page: Any, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    page.goto("/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.fixture
def admin_page(new_page: Any) -> Any:
    page = new_page()
    login(page)
    page.wait_for_url("**/admin/routes")
    return page


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
