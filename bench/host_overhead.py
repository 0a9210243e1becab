"""What the host costs per request: a trivial plugin endpoint through the whole stack vs bare aiohttp.

One server process hosts both apps (same loop, same conditions); this process is the client and
alternates rounds between them with the same keep-alive session, so the ratio is measured in one run.
Prints requests/s of each and the ratio (goal: plugin endpoint >= 0.7 of bare aiohttp).

    .venv/bin/python bench/host_overhead.py [--requests 3000] [--concurrency 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(host_port: int, bare_port: int) -> None:
    """Server side: the full plughost app and a bare aiohttp app in one process."""
    from aiohttp import web

    from host.app import create_app
    from host.config import load_settings

    async def bare(request: web.Request) -> web.Response:
        return web.json_response({"pong": True})

    bare_app = web.Application()
    bare_app.router.add_get("/api/v1/ping", bare)
    runners = []
    for app, port in ((create_app(load_settings()), host_port), (bare_app, bare_port)):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    print("ready", flush=True)
    await asyncio.Event().wait()


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"server did not start: {url}")


async def hammer(
    session: aiohttp.ClientSession, url: str, total: int, concurrency: int, headers: dict[str, str]
) -> float:
    """Requests/s for `total` GETs with `concurrency` in flight."""
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            async with session.get(url, headers=headers) as resp:
                await resp.read()
                if resp.status != 200:
                    raise SystemExit(f"{url} answered {resp.status}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


async def client(args: argparse.Namespace, host_port: int, bare_port: int, token: str) -> None:
    urls = {
        "bare aiohttp handler": (f"http://127.0.0.1:{bare_port}/api/v1/ping", {}),
        "plugin endpoint (public)": (f"http://127.0.0.1:{host_port}/api/v1/ping", {}),
        "plugin endpoint (JWT auth)": (
            f"http://127.0.0.1:{host_port}/api/v1/ping-auth",
            {"Authorization": f"Bearer {token}"},
        ),
    }
    results: dict[str, list[float]] = {name: [] for name in urls}
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for url, headers in urls.values():  # warm-up
            await hammer(session, url, 300, args.concurrency, headers)
        for _ in range(args.rounds):
            for name, (url, headers) in urls.items():
                results[name].append(
                    await hammer(session, url, args.requests, args.concurrency, headers)
                )
    bare = max(results["bare aiohttp handler"])
    print(f"{'':28} {'best req/s':>10} {'ratio':>6}")
    for name, rates in results.items():
        print(f"{name:28} {max(rates):10.0f} {max(rates) / bare:6.2f}")
    ratio = max(results["plugin endpoint (public)"]) / bare
    print(f"host overhead ratio (public plugin endpoint / bare aiohttp): {ratio:.2f} (goal >= 0.7)")


async def login(port: int, password: str) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{port}/api/v1/authentication",
            json={"username": "admin", "password": password},
        ) as resp,
    ):
        return str((await resp.json())["access_token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round per target")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (best is kept)")
    parser.add_argument("--serve", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(*args.serve))
        return
    host_port, bare_port = free_port(), free_port()
    password = "bench-admin-password"
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PLUGHOST_DATA_DIR": tmp,
            "PLUGHOST_ROUTES_DIR": str(Path(tmp) / "routes.d"),
            "PLUGHOST_PLUGINS_DIR": str(BENCH / "plugins"),
            "PLUGHOST_ADMIN_PASSWORD": password,
            "PLUGHOST_LOG_LEVEL": "WARNING",
            "PLUGHOST_BROKER_URL": "",
        }
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(host_port), str(bare_port)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            server.stdout.readline()
            asyncio.run(wait_ready(f"http://127.0.0.1:{host_port}/healthz"))
            token = asyncio.run(login(host_port, password))
            asyncio.run(client(args, host_port, bare_port, token))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
