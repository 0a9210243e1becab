"""Scale-out figures: `serve --workers 2` vs 1 and two instances behind nginx vs one, with wrk; and
the outbox's event delay under load.

(a) One port, one public plugin endpoint (`GET /api/v1/ping`), `wrk -t1 -c32`, rounds alternating
    between a `--workers 1` and a `--workers 2` server started side by side; medians of req/s and
    their ratio. On a 2-core machine wrk itself needs a core, so 2 workers cannot reach 2x.
(b) The delay from an event's outbox write (just before its transaction commits) to its handler,
    p50/p95, while `--requests` POSTs that each publish one event arrive `--concurrency` at a time
    (saturation: handlers queue behind requests for database connections), and paced at `--rate`
    per second; on PostgreSQL when PLUGHOST_TEST_PG is set (a temporary database), else SQLite.

(c) Two independent instances (separate `plughost serve` processes, one PostgreSQL database)
    behind Debian's nginx, against one of them behind the same nginx: one nginx process with two
    listeners, one proxying to instance A alone, the other to A and B (the upstream settings of
    deploy/nginx.conf); `wrk -t1 -c32` alternates between the listeners; medians. Needs
    PLUGHOST_TEST_PG, nginx (nginx-light) and wrk; skipped otherwise.

    .venv/bin/python bench/scale.py [--seconds 4] [--rounds 3] [--requests 2000] [--concurrency 32]
    .venv/bin/python bench/scale.py --only nginx --rounds 5     # just (c)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    workdir: Path, workers: int, plugins: Path, **extra: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    env.update(
        PLUGHOST_DATA_DIR=str(workdir / "var"),
        PLUGHOST_ROUTES_DIR=str(workdir / "routes.d"),
        PLUGHOST_PLUGINS_DIR=str(plugins),
        PLUGHOST_SECRET_KEY="bench-secret-key-with-enough-entropy-0123456789",
        PLUGHOST_ADMIN_PASSWORD="bench-password",
        PLUGHOST_LOG_LEVEL="ERROR",
        PLUGHOST_LOG_FORMAT="text",
        PYTHONPATH=str(REPO),
        **extra,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "host.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=workdir,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}"


async def wait_ready(url: str, workers: int) -> None:
    """Until /healthz answers, and (several workers) until every worker answered a request."""
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url + "/healthz") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        await asyncio.sleep(3.0 if workers > 1 else 0.5)  # the other workers finish starting


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wrk(url: str, seconds: int) -> tuple[float, int]:
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return rate, errors


async def workers_ratio(tmp: Path, seconds: int, rounds: int) -> None:
    if shutil.which("wrk") is None:
        print("(a) skipped: wrk is not installed (apt-get install -y wrk)")
        return
    servers = {}
    for workers in (1, 2):
        workdir = tmp / f"w{workers}"
        workdir.mkdir()
        servers[workers] = start(workdir, workers, BENCH / "plugins")
    try:
        for workers, (_, url) in servers.items():
            await wait_ready(url, workers)
        rates: dict[int, list[float]] = {1: [], 2: []}
        failed = 0
        for _ in range(rounds):
            for workers, (_, url) in servers.items():
                rate, errors = await asyncio.to_thread(wrk, url + "/api/v1/ping", seconds)
                rates[workers].append(rate)
                failed += errors
        one, two = statistics.median(rates[1]), statistics.median(rates[2])
        print(
            f"(a) GET /api/v1/ping, wrk -t1 -c32 -d{seconds}s x{rounds}: "
            f"--workers 1 {one:,.0f} req/s, --workers 2 {two:,.0f} req/s, "
            f"ratio {two / one:.2f} (rounds: {[round(r) for r in rates[1]]} / "
            f"{[round(r) for r in rates[2]]}); failed requests: {failed}"
        )
    finally:
        for proc, _ in servers.values():
            stop(proc)


NGINX_SITE = """
upstream {name} {{
{servers}
    keepalive 32;
}}
server {{
    listen 127.0.0.1:{port};
    location / {{
        proxy_pass http://{name};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_next_upstream error timeout http_503;
        proxy_next_upstream_tries 2;
    }}
}}
"""


def nginx_conf(tmp: Path, sites: dict[str, tuple[int, list[str]]]) -> Path:
    """One nginx (one worker process) with a listener per site: name -> (port, upstream URLs)."""
    temp = tmp / "nginx-temp"
    temp.mkdir()
    body = "".join(
        NGINX_SITE.format(
            name=name,
            port=port,
            servers="\n".join(
                f"    server {u.removeprefix('http://')} max_fails=1 fail_timeout=2s;"
                for u in upstreams
            ),
        )
        for name, (port, upstreams) in sites.items()
    )
    paths = "".join(
        f"    {kind}_temp_path {temp / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"daemon off;\nworker_processes 1;\npid {tmp / 'nginx.pid'};\n"
        f"error_log {tmp / 'nginx-error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n    access_log off;\n{paths}{body}}}\n"
    )
    return conf


async def temp_database(pg: str) -> tuple[Any, str, str]:
    """A fresh PostgreSQL database next to PLUGHOST_TEST_PG: (admin connection, name, URL)."""
    dbname = f"plughost_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    return admin, dbname, pg.rsplit("/", 1)[0] + "/" + dbname


async def behind_nginx(tmp: Path, seconds: int, rounds: int) -> None:
    pg = os.environ.get("PLUGHOST_TEST_PG", "")
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    missing = [
        what
        for what, ok in (("PLUGHOST_TEST_PG", pg), ("nginx", nginx), ("wrk", shutil.which("wrk")))
        if not ok
    ]
    if missing or nginx is None:
        print(f"(c) skipped: {', '.join(missing)} missing")
        return
    tmp.mkdir(parents=True)
    admin, dbname, url = await temp_database(pg)
    servers: list[tuple[subprocess.Popen[bytes], str]] = []
    proxy = None
    try:
        for name in ("a", "b"):  # one after the other: the first one migrates the database
            workdir = tmp / f"instance-{name}"
            workdir.mkdir()
            servers.append(start(workdir, 1, BENCH / "plugins", PLUGHOST_DB_URL=url))
            await wait_ready(servers[-1][1], 1)
        ports = {"one": free_port(), "two": free_port()}
        conf = nginx_conf(
            tmp,
            {
                "one": (ports["one"], [servers[0][1]]),
                "two": (ports["two"], [servers[0][1], servers[1][1]]),
            },
        )
        proxy = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp)])
        for port in ports.values():
            await wait_ready(f"http://127.0.0.1:{port}", 1)
        rates: dict[str, list[float]] = {"one": [], "two": []}
        failed = 0
        for _ in range(rounds):
            for name, port in ports.items():
                rate, errors = await asyncio.to_thread(
                    wrk, f"http://127.0.0.1:{port}/api/v1/ping", seconds
                )
                rates[name].append(rate)
                failed += errors
        one, two = statistics.median(rates["one"]), statistics.median(rates["two"])
        print(
            f"(c) nginx -> GET /api/v1/ping, wrk -t1 -c32 -d{seconds}s x{rounds}: "
            f"one instance {one:,.0f} req/s, two instances {two:,.0f} req/s, "
            f"ratio {two / one:.2f} (rounds: {[round(r) for r in rates['one']]} / "
            f"{[round(r) for r in rates['two']]}); failed requests: {failed}"
        )
    finally:
        if proxy is not None:
            proxy.send_signal(signal.SIGQUIT)
            proxy.wait(timeout=20)
        for proc, _ in servers:
            stop(proc)
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()


async def event_delay(
    tmp: Path, requests: int, concurrency: int, workers: int, rate: float = 0.0
) -> None:
    pg = os.environ.get("PLUGHOST_TEST_PG", "")
    extra: dict[str, str] = {}
    dbname = ""
    if pg:
        admin, dbname, extra["PLUGHOST_DB_URL"] = await temp_database(pg)
    workdir = tmp / f"lag{workers}"
    workdir.mkdir(parents=True)
    proc, url = start(workdir, workers, BENCH / "scale_plugins", **extra)
    try:
        await wait_ready(url, workers)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(requests):
            queue.put_nowait(i)
        failed = 0
        started = time.monotonic()

        async def client(session: aiohttp.ClientSession) -> None:
            nonlocal failed
            while not queue.empty():
                i = queue.get_nowait()
                if rate:  # paced: request i leaves at i / rate seconds
                    await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
                async with session.post(url + "/api/v1/benchlag/events") as r:
                    failed += r.status != 201

        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(client(session) for _ in range(concurrency)))
            elapsed = time.monotonic() - started
            deadline = time.monotonic() + 120
            lags: list[float] = []
            while time.monotonic() < deadline:
                async with session.get(url + "/api/v1/benchlag/lags") as r:
                    lags = await r.json()
                if len(lags) >= requests - failed:
                    break
                await asyncio.sleep(0.5)
        lags.sort()
        p50 = lags[len(lags) // 2] * 1000
        p95 = lags[int(len(lags) * 0.95)] * 1000
        print(
            f"(b) event delay, {'PostgreSQL' if pg else 'SQLite'}, --workers {workers}: "
            f"{requests} publishing requests ({requests / elapsed:,.0f}/s, "
            f"{f'paced at {rate:.0f}/s' if rate else f'{concurrency} at a time'}): p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {lags[-1] * 1000:.0f} ms; "
            f"handled {len(lags)}/{requests}, failed requests {failed}"
        )
    finally:
        stop(proc)
        if dbname:
            await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=100.0, help="paced run: requests/s")
    parser.add_argument("--only", choices=("workers", "nginx", "delay"), help="run one part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plughost-scale-") as name:
        tmp = Path(name)
        if args.only in (None, "workers"):
            await workers_ratio(tmp, args.seconds, args.rounds)
        if args.only in (None, "nginx"):
            await behind_nginx(tmp / "nginx", args.seconds, args.rounds)
        if args.only not in (None, "delay"):
            return
        for workers in (1, 2):
            await event_delay(tmp, args.requests, args.concurrency, workers)
        await event_delay(tmp / "paced", args.requests, args.concurrency, 1, args.rate)


if __name__ == "__main__":
    asyncio.run(main())
