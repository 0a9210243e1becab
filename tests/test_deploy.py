"""The deployment recipe with real parts: Debian's nginx running `deploy/nginx.conf` in front of two
`plughost serve` instances on one PostgreSQL; one instance is stopped with SIGTERM under a bounded
load loop through nginx, and no request fails (drain, then nginx's retry on the other instance)."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import REPO
from tests.servers import free_port, wait_until
from tests.test_scale import two_instances
from tests.test_serve import Load

pytestmark = [pytest.mark.slow, pytest.mark.pg]


def nginx_config(tmp: Path, port: int, upstreams: list[int]) -> Path:
    """deploy/nginx.conf with the compose host names replaced by the test's ports."""
    site = (REPO / "deploy" / "nginx.conf").read_text()
    site = site.replace("server serve-a:8080", f"server 127.0.0.1:{upstreams[0]}")
    site = site.replace("server serve-b:8080", f"server 127.0.0.1:{upstreams[1]}")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    temp = tmp / "nginx-temp"
    temp.mkdir()
    paths = "\n".join(
        f"    {kind}_temp_path {temp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"daemon off;\nworker_processes 1;\npid {tmp / 'nginx.pid'};\n"
        f"error_log {tmp / 'nginx-error.log'} warn;\nevents {{ worker_connections 512; }}\n"
        f"http {{\n    access_log off;\n{paths}\n{site}\n}}\n"
    )
    return conf


async def test_sigterm_one_instance_behind_nginx_fails_no_request(
    pg_url: str, tmp_path: Path
) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install -y nginx-light)")
    async with two_instances(pg_url, tmp_path, PLUGHOST_DRAIN_DELAY="1") as (a, b):
        port = free_port()
        conf = nginx_config(tmp_path, port, [a.port, b.port])
        proxy = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp_path)])
        try:

            async def proxying() -> bool:
                try:
                    async with (
                        aiohttp.ClientSession() as session,
                        session.get(f"http://127.0.0.1:{port}/healthz") as resp,
                    ):
                        return resp.status == 200
                except aiohttp.ClientError:
                    return False

            await wait_until(proxying, 30, "nginx to answer")
            load = Load(f"http://127.0.0.1:{port}/api/v1/busprobe/slow?ms=20")
            task = asyncio.create_task(load.run())
            await wait_until(load.reached(200), 60, "200 answers through nginx")
            a.signal(signal.SIGTERM)
            assert a.proc is not None
            await asyncio.to_thread(a.proc.wait, 40)  # drained and gone
            at_exit = load.ok
            await wait_until(load.reached(at_exit + 200), 60, "200 answers from B alone")
            load.stop.set()
            await asyncio.wait_for(task, 60)
        finally:
            proxy.send_signal(signal.SIGQUIT)
            proxy.wait(timeout=20)
    assert load.failed == [], load.failed[:5]
    assert len(load.pids) == 2  # both instances served through nginx
