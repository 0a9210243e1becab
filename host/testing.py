"""The pytest plugin shipped with plughost: test a plugin through HTTP, from the plugin's own folder.

Registered as the `pytest11` entry point `plughost`, so it is active wherever plughost is installed,
with no conftest.py to copy. A test asks for the `plughost` fixture and starts a whole server (its
own temp data folder and SQLite database, migrations, the plugin mounted as in production):

    async def test_create(plughost):
        client = await plughost.start()
        auth = await plughost.login(client)
        resp = await client.post("/api/v1/tags", json={...}, headers=auth)
        await plughost.settle(client)          # bus handlers have run

The plugin under test is found from the test file: the package folder above it (for
`plugins/tags/tests/test_tags.py`, `plugins/tags`), and the server loads the plugins of that
package's parent folder (so `tags` finds the `clients` it requires). That folder is put on
`sys.path` before the test module is imported, so tests can `from tags import Tag`. Async tests
run without marks, also under pytest-asyncio's strict mode (a plugin folder outside this repo).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

__all__ = ("ADMIN_PASSWORD", "Host", "plugin_folder")

ADMIN_PASSWORD = "plughost-test-admin-password"  # noqa: S105 (a throwaway test server)
SECRET_KEY = "plughost-testing-secret-key-0123456789abcdef"  # noqa: S105


def plugin_folder(test_file: Path) -> Path | None:
    """The top-most package folder holding `test_file` whose `__init__.py` defines `plugin`."""
    folder, found, misses = test_file.resolve().parent, None, 0
    while folder != folder.parent:
        if (folder / "__init__.py").is_file():
            found, misses = folder, 0
        elif found is not None or misses >= 2:
            break
        else:
            misses += 1
        folder = folder.parent
    if found is None:
        return None
    text = (found / "__init__.py").read_text(encoding="utf-8", errors="replace")
    return found if "plugin =" in text or "plugin:" in text else None


class Host:
    """What the `plughost` fixture gives a test: start servers, log in, wait for the bus."""

    def __init__(
        self,
        aiohttp_client: Callable[..., Awaitable[Any]],
        tmp_path: Path,
        plugin: Path | None,
    ) -> None:
        self._client_factory = aiohttp_client
        self._tmp = tmp_path
        self.plugin = plugin
        """The plugin folder the test lives in (None outside a plugin)."""
        self._count = 0

    def settings(self, **overrides: Any) -> Any:
        """Settings of a test server; keyword arguments are `Settings` fields (`db_url=...`)."""
        from host.config import Settings

        self._count += 1
        base = self._tmp / f"plughost-{self._count}"
        values: dict[str, Any] = {
            "data_dir": base / "var",
            "routes_dir": base / "routes.d",
            "plugins_dir": self.plugin.parent if self.plugin else base / "plugins",
            "plugin_path": "",
            "db_url": "",
            "broker_url": "",
            "secret_key": SECRET_KEY,
            "admin_password": ADMIN_PASSWORD,
            "log_format": "text",
        }
        values.update(overrides)
        return Settings(**values)

    async def start(self, **overrides: Any) -> Any:
        """A running server (an aiohttp `TestClient`), closed after the test."""
        from host.app import create_app

        return await self._client_factory(create_app(self.settings(**overrides)))

    async def login(
        self, client: Any, username: str = "admin", password: str = ADMIN_PASSWORD
    ) -> dict[str, str]:
        """Log in and return the `Authorization` header to send (admin passes every role check)."""
        resp = await client.post(
            "/api/v1/authentication", json={"username": username, "password": password}
        )
        assert resp.status == 200, await resp.text()
        return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}

    async def settle(self, client: Any) -> None:
        """Wait until the bus delivered every event published so far (handlers have run)."""
        from host.bus import BUS

        await client.app[BUS].join()


@pytest.fixture
def plughost(aiohttp_client: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Host:
    """Start plughost servers with the plugin under test (see `host.testing`)."""
    return Host(aiohttp_client, tmp_path, plugin_folder(Path(str(request.node.path))))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> None:
    """Before a plugin's test module is imported, make the plugin importable by its name."""
    if file_path.suffix != ".py" or not file_path.name.startswith("test"):
        return
    folder = plugin_folder(file_path)
    if folder is not None and str(folder.parent) not in sys.path:
        sys.path.insert(0, str(folder.parent))


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Async tests that use `plughost` run under pytest-asyncio's strict mode too: mark them
    before pytest-asyncio looks (its own hook decides how to collect them)."""
    if not (name.startswith("test") and inspect.iscoroutinefunction(obj)):
        return
    if "plughost" not in inspect.signature(obj).parameters:
        return
    if not any(m.name == "asyncio" for m in getattr(obj, "pytestmark", [])):
        pytest.mark.asyncio(obj)
