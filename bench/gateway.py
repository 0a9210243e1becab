"""Gateway benchmark: prints, in one run,
(a) requests/s through an app route to an internal location vs the internal path directly,
(b) per-lookup cost with 10,000 routes vs 10 (compiled table, the pipeline stage, and over HTTP),
(c) reload latency from file write to the first answer with the new mapping (p50/p95 over 100
    edits) and the failed requests of a concurrent load meanwhile,
(d) upstream proxy requests/s beside Debian's nginx proxying to the same upstream (if installed).

A real `plughost serve` subprocess (its own temp data dir, a tiny generated plugin) and a small
aiohttp upstream subprocess; the load comes from this process (aiohttp client), so on a small
machine the absolute figures include the load generator's share of the CPU: read the ratios.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DURATION = float(os.environ.get("BENCH_SECONDS", "0.7"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
CONCURRENCY = 32

PLUGIN = """
from aiohttp import web
from host import ApiRequest, Plugin, Routes

v1 = Routes()


@v1.get("/bench/{id}", public=True)
async def item(request: ApiRequest) -> web.Response:
    return web.json_response({"id": request.match_info["id"]})


plugin = Plugin(name="gwbench", version="1.0", rest={"v1": v1})
"""

UPSTREAM = """
import sys
from aiohttp import web

async def item(request):
    return web.json_response({"id": request.match_info["id"], "upstream": True})

app = web.Application()
app.router.add_get("/item/{id}", item)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  upstream up {{ server 127.0.0.1:{up}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location /up/ {{
      proxy_pass http://up/item/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def routes_doc(
    n: int, location: str = "/api/v1/bench/{id}", up: int | None = None
) -> dict[str, Any]:
    """`n` routes: the measured one plus filler shaped like a real app's (static + params)."""
    routes: list[dict[str, Any]] = [
        {"path": "/item/{id}", "location": location, "public": True},
    ]
    for i in range(n - 1):
        kind = i % 4
        if kind == 0:
            path = f"/r{i}/items/{{id}}"
        elif kind == 1:
            path = f"/r{i}/items/{{id}}/sub/{{sub}}"
        elif kind == 2:
            path = f"/g{i % 50}/x{i}"
        else:
            path = f"/r{i}/files/{{rest*}}"
        routes.append({"path": path, "location": "/api/v1/bench/filler", "public": True})
    doc: dict[str, Any] = {"version": 1, "routes": routes}
    if up is not None:
        doc["upstreams"] = {"up": {"url": f"http://127.0.0.1:{up}"}}
        routes.append(
            {"path": "/up/{id}", "upstream": "up", "location": "/item/{id}", "public": True}
        )
    return doc


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


async def wait_http(session: aiohttp.ClientSession, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with session.get(url) as resp:
                if resp.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not come up")
        await asyncio.sleep(0.1)


async def load(
    session: aiohttp.ClientSession,
    url: str,
    seconds: float = DURATION,
    headers: dict[str, str] | None = None,
) -> tuple[float, int]:
    """(requests/s, requests) of CONCURRENCY keep-alive workers for `seconds`; non-200 aborts."""
    done = 0
    stop = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < stop:
            async with session.get(url, headers=headers) as resp:
                await resp.read()
                if resp.status != 200:
                    raise SystemExit(f"{url}: HTTP {resp.status}")
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return done / (time.monotonic() - started), done


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a process has used (Linux /proc), 0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def compare(
    session: aiohttp.ClientSession,
    urls: dict[str, str],
    pairs: int | None = None,
    pid: int | None = None,
) -> tuple[dict[str, float], float, dict[str, float]]:
    """Back-to-back rounds of each URL (order alternating), repeated. Returns each URL's median
    req/s, the median of the per-round ratios second/first, and, with `pid`, that server's CPU
    microseconds per request (total CPU over total requests). Pairing keeps the ratio honest on a
    machine whose speed drifts; CPU per request does not depend on what else the machine runs."""
    names = list(urls)
    rates: dict[str, list[float]] = {n: [] for n in names}
    cpu = dict.fromkeys(names, 0.0)
    count = dict.fromkeys(names, 0)
    ratios = []
    for i in range(pairs or ROUNDS):
        got = {}
        for name in names if i % 2 == 0 else names[::-1]:
            before = cpu_seconds(pid)
            got[name], done = await load(session, urls[name])
            cpu[name] += cpu_seconds(pid) - before
            count[name] += done
            rates[name].append(got[name])
        if len(names) == 2:
            ratios.append(got[names[1]] / got[names[0]])
    medians = {n: statistics.median(v) for n, v in rates.items()}
    per_request = {n: cpu[n] / count[n] * 1e6 if count[n] else 0.0 for n in names}
    return medians, statistics.median(ratios) if ratios else 0.0, per_request


def lookup_costs(repeats: int = 9) -> dict[str, float]:
    """ns per lookup on the compiled table and through the pipeline stage, 10 vs 10,000 routes.

    The two sizes are measured interleaved and each keeps its fastest repeat (timeit's rule), so
    other work on the machine does not land on one side only.
    """
    from aiohttp import web
    from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

    from host.context import context_from_headers
    from host.gateway.stage import gateway_routing_stage
    from host.gateway.state import GATEWAY, Gateway
    from host.gateway.store import RouteStore
    from host.gateway.table import compile_table
    from host.pipeline import PIPELINE, Call, Pipeline, RouteDef

    async def call_next(call: Call) -> web.StreamResponse:
        return web.Response()

    async def bench_item(request: object) -> web.StreamResponse:
        return web.Response()

    ctx = context_from_headers({})
    no_query: MultiDictProxy[str] = MultiDictProxy(MultiDict())
    no_headers = CIMultiDictProxy(CIMultiDict[str]())
    setups = {}
    for n in (10, 10_000):
        table = compile_table("b", json.dumps(routes_doc(n))).table
        assert table is not None
        rng = random.Random(1)
        # the same shape on both sides: /r<i>/items/<id> routes, picked at random
        paths = [f"/r{i}/items/{rng.randint(1, 999)}" for i in range(0, n - 1, 4)]
        sample = [rng.choice(paths) for _ in range(10_000)]
        app = web.Application()
        store = RouteStore(Path("."))
        store.tables = {"b": table}
        app[GATEWAY] = Gateway(store=store)
        app[PIPELINE] = pipeline = Pipeline((), call_next)
        # the internal routes the table maps to, as a mounted plugin's would be
        pipeline.mount(
            [
                RouteDef("GET", path, bench_item, public=True, version="v1")
                for path in ("/bench/{id}", "/bench/filler")
            ]
        )
        stage = gateway_routing_stage(app, call_next)

        # the stage sets where a call resolves to and reads only its path: reused each repeat
        calls = [
            Call(app, "GET", "/apps/b" + p, no_query, no_headers, context=ctx)
            for p in sample[:2000]
        ]
        setups[n] = (table, sample, stage, calls)

    async def through_stage(stage: Any, calls: list[Call]) -> float:
        t = time.perf_counter()
        for call in calls:
            await stage(call)
        return (time.perf_counter() - t) / len(calls) * 1e9

    best: dict[str, float] = {}
    for _ in range(repeats):
        for n, (table, sample, stage, calls) in setups.items():
            t = time.perf_counter()
            for p in sample:
                table.match("GET", p)
            cost = (time.perf_counter() - t) / len(sample) * 1e9
            best[f"table_{n}"] = min(best.get(f"table_{n}", cost), cost)
            cost = asyncio.run(through_stage(stage, calls))
            best[f"stage_{n}"] = min(best.get(f"stage_{n}", cost), cost)
    return best


async def reload_latency(
    session: aiohttp.ClientSession, base: str, routes: Path, edits: int = 100
) -> tuple[list[float], int, int]:
    """Per edit: write the file (atomic rename), then ask until the new mapping answers."""
    failures = 0
    served = 0
    stop = asyncio.Event()

    async def background() -> None:
        nonlocal failures, served
        while not stop.is_set():
            async with session.get(f"{base}/apps/edit/item/1") as resp:
                await resp.read()
                served += 1
                if resp.status != 200:
                    failures += 1

    bg = [asyncio.create_task(background()) for _ in range(8)]
    latencies = []
    for i in range(edits):
        marker = f"e{i}"
        doc = routes_doc(10, location=f"/api/v1/bench/{marker}-{{id}}")
        write_atomic(routes / "edit.json", json.dumps(doc))
        written = time.perf_counter()
        while True:
            async with session.get(f"{base}/apps/edit/item/1") as resp:
                body = await resp.json()
                if resp.status != 200:
                    failures += 1
                elif body["id"] == f"{marker}-1":
                    break
            if time.perf_counter() - written > 10:
                raise SystemExit("an edit was not applied within 10 s")
        latencies.append((time.perf_counter() - written) * 1000)
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.gather(*bg)
    return latencies, failures, served


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gwbench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        (tmp / "plugins" / "gwbench").mkdir(parents=True)
        (tmp / "plugins" / "gwbench" / "__init__.py").write_text(PLUGIN)
        (tmp / "upstream.py").write_text(textwrap.dedent(UPSTREAM))
        routes = tmp / "routes.d"
        routes.mkdir()
        up_port, port = free_port(), free_port()
        (routes / "bench.json").write_text(json.dumps(routes_doc(10, up=up_port)))
        (routes / "big.json").write_text(json.dumps(routes_doc(10_000, up=up_port)))
        (routes / "edit.json").write_text(json.dumps(routes_doc(10)))
        env = {
            **os.environ,
            "PLUGHOST_DATA_DIR": str(tmp / "var"),
            "PLUGHOST_ROUTES_DIR": str(routes),
            "PLUGHOST_PLUGINS_DIR": str(tmp / "plugins"),
            "PLUGHOST_SECRET_KEY": "bench-secret-key-0123456789-0123456789",
            "PLUGHOST_ADMIN_PASSWORD": "bench-admin-password",
            "PLUGHOST_LOG_LEVEL": "WARNING",
            "PLUGHOST_LOG_FORMAT": "text",
        }
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        procs.append(
            subprocess.Popen([sys.executable, str(tmp / "upstream.py"), str(up_port)], **quiet)
        )  # type: ignore[call-overload]
        server = subprocess.Popen(  # type: ignore[call-overload]
            [sys.executable, "-m", "host.cli", "serve", "--port", str(port)],
            env=env,
            cwd=REPO,
            **quiet,
        )
        procs.append(server)
        base = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_http(session, f"{base}/apps/bench/item/1")
            await wait_http(session, f"http://127.0.0.1:{up_port}/item/1")
            # warm-up: the first seconds after start-up are slower (start-up work, caches)
            await load(session, f"{base}/api/v1/bench/7", 3.0)
            await load(session, f"{base}/apps/bench/item/7", 2.0)

            print(
                f"(a) internal location: {CONCURRENCY} concurrent keep-alive clients, "
                f"{ROUNDS} paired rounds of {DURATION}s, medians"
            )
            a, ratio, cpu = await compare(
                session,
                {"direct": f"{base}/api/v1/bench/7", "gateway": f"{base}/apps/bench/item/7"},
                pid=server.pid,
            )
            print(
                f"    direct /api/v1/bench/7        {a['direct']:8.0f} req/s   {cpu['direct']:6.0f} µs CPU/req"
            )
            print(
                f"    gateway /apps/bench/item/7    {a['gateway']:8.0f} req/s   {cpu['gateway']:6.0f} µs CPU/req"
            )
            print(f"    ratio gateway/direct, req/s   {ratio:8.2f}   (goal >= 0.9)")
            print(
                f"    ratio by server CPU per req   {cpu['direct'] / cpu['gateway']:8.2f}   (load-independent)"
            )

            print("(b) lookup cost, 10,000 routes vs 10")
            costs = await asyncio.to_thread(lookup_costs)
            print(
                f"    compiled table     {costs['table_10']:7.0f} ns vs {costs['table_10000']:7.0f} ns"
                f"   ratio {costs['table_10000'] / costs['table_10']:.2f}"
            )
            print(
                f"    pipeline stage     {costs['stage_10']:7.0f} ns vs {costs['stage_10000']:7.0f} ns"
                f"   ratio {costs['stage_10000'] / costs['stage_10']:.2f}"
            )
            b, ratio, cpu = await compare(
                session,
                {"10": f"{base}/apps/bench/item/7", "10000": f"{base}/apps/big/item/7"},
                pid=server.pid,
            )
            print(
                f"    over HTTP          {b['10']:7.0f} req/s vs {b['10000']:7.0f} req/s"
                f"   cost ratio {1 / ratio:.2f}   (goal <= 1.2)"
            )
            print(
                f"    server CPU/req     {cpu['10']:7.0f} µs vs {cpu['10000']:7.0f} µs"
                f"   cost ratio {cpu['10000'] / cpu['10']:.2f}   (load-independent)"
            )

            print("(c) reload latency, file write -> first answer with the new mapping, 100 edits")
            lat, failed, served = await reload_latency(session, base, routes)
            print(
                f"    p50 {statistics.median(lat):6.1f} ms   p95 {pct(lat, 0.95):6.1f} ms   "
                f"max {max(lat):6.1f} ms   (goal p95 <= 250 ms)"
            )
            print(
                f"    failed requests under load during the edits: {failed} of {served}   (goal 0)"
            )

            print("(d) upstream proxy (same upstream, plain aiohttp app)")
            d, _, cpu = await compare(
                session,
                {
                    "upstream": f"http://127.0.0.1:{up_port}/item/7",
                    "gateway": f"{base}/apps/bench/up/7",
                },
                pairs=6,
                pid=server.pid,
            )
            print(f"    upstream directly             {d['upstream']:8.0f} req/s")
            print(
                f"    through plughost gateway      {d['gateway']:8.0f} req/s"
                f"   {cpu['gateway']:6.0f} µs gateway CPU/req"
            )
            nginx = shutil.which("nginx") or (
                "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
            )
            if nginx is None:
                print("    nginx not installed")
            else:
                nport = free_port()
                (tmp / "nginx.conf").write_text(NGINX_CONF.format(dir=tmp, up=up_port, port=nport))
                procs.append(
                    subprocess.Popen(  # type: ignore[call-overload]
                        [nginx, "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"], **quiet
                    )
                )
                await wait_http(session, f"http://127.0.0.1:{nport}/up/1")
                n, _, _ = await compare(
                    session, {"nginx": f"http://127.0.0.1:{nport}/up/7"}, pairs=6
                )
                print(f"    through nginx                 {n['nginx']:8.0f} req/s")
                print(f"    ratio gateway/nginx           {d['gateway'] / n['nginx']:8.2f}")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
