"""What the host costs per request, measured with wrk (a C load generator) against one server process.

Two server processes, each on its own free loopback port, both started by this script through the
same `web.run_app(..., access_log=None)` (so the same event-loop policy):

- **plughost**: `create_app` as `plughost serve` runs it, in a temp data dir, with the demo plugins
  and the bench plugin folder `bench/plugins` on `PLUGHOST_PLUGIN_PATH` (its `benchping` plugin
  serves a public `GET /api/v1/ping` answering `{"pong": true}`), and a temp routes.d with one app,
  `bench`, mapping `/ping` to `/api/v1/ping`;
- **bare**: a bare aiohttp app with a handler answering the same JSON, and a handler running the
  same Tortoise query as the clients plugin's `GET /api/v1/clients/{id}` on the same SQLite file.

Cases, each `wrk -t1 -c32 -d3s` rounds alternating A B A B A B, medians compared:

    (a) public plugin endpoint through the whole stack vs the bare handler      goal >= 0.7
    (b) the same endpoint gateway-mapped (X-App-Name: bench, /ping) vs direct   goal >= 0.95
    (c) JWT-authenticated GET of one client vs the bare handler, same query     for the record
    (d) the same as (b) with the app named by the path prefix, /apps/bench/ping goal >= 0.95
    (u) as (a), with the bare server on uvloop too (plughost serve runs on uvloop when installed)
    (e) only with --cases e: JWT-authenticated ping vs the public one, same server (auth's cost)

Failures are wrk's `Non-2xx or 3xx responses` plus its socket errors. Besides req/s, each side's
server CPU per request is read from /proc (it does not depend on what else the machine runs).

    .venv/bin/python bench/host_overhead.py [--cases abcd] [--rounds 3] [--duration 3] [--json F]

Profiling (docs/performance.md, "How to profile"): `--profile a` runs plughost under wrk load for
`--profile-seconds` while `py-spy record -f raw` samples it, then prints the top frames by own
and by cumulative time; `--summarize FILE.raw` prints the same for a raw file recorded earlier.
`bench/profile.sh` wraps both. py-spy is a bench-only tool: `.venv/bin/pip install py-spy`.

If wrk is missing, the bench installs Debian's package when it runs as root; when it cannot, it
prints a SKIP line and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PING_BODY = {"pong": True}
ADMIN_PASSWORD = "bench-admin-password"
GATEWAY_APP = "bench"
ROUTES = {
    "version": 1,
    "description": "bench/host_overhead.py: one public mapping onto the bench ping endpoint",
    "routes": [{"path": "/ping", "methods": ["GET"], "location": "/api/v1/ping", "public": True}],
}


# -- servers (run in subprocesses: `--serve host|bare PORT`) --------------------------------------
def _run(app: Any, port: int) -> None:
    from aiohttp import web

    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_host(port: int) -> None:
    """plughost as `plughost serve` runs it (settings from the PLUGHOST_* environment)."""
    from host.app import create_app
    from host.config import load_settings

    settings = load_settings()
    with contextlib.suppress(
        ImportError
    ):  # the loop `plughost serve` picks (uvloop when installed)
        from host.http.runtime import freeze_after_startup, install_event_loop

        install_event_loop(settings.event_loop)
    with contextlib.suppress(ImportError):  # as the CLI does; optional if the module moves
        from host.http.logs import configure_logging

        configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    with contextlib.suppress(ImportError):
        from host.http.runtime import freeze_after_startup

        freeze_after_startup(app)
    _run(app, port)


def serve_bare(port: int) -> None:
    """A bare aiohttp app: the ping JSON, and the clients plugin's GET query without the host."""
    from aiohttp import web

    async def ping(request: web.Request) -> web.Response:
        return web.json_response(PING_BODY)

    if os.environ.get("BENCH_BARE_LOOP") == "uvloop":  # bare aiohttp on the same loop as plughost
        import asyncio

        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = web.Application()
    app.router.add_get("/api/v1/ping", ping)
    if os.environ.get("BENCH_BARE_DB") == "1":
        try:
            _add_bare_client_route(app)
        except Exception as exc:  # case (c) is skipped; (a) still runs
            print(f"bare server: no clients route: {exc!r}", file=sys.stderr, flush=True)
    _run(app, port)


def _add_bare_client_route(app: Any) -> None:
    """GET /api/v1/clients/{id} as the clients plugin answers it, on plain Tortoise (no host code).

    Same SQLite file as the plughost server (its data dir), same model, query and view function.
    """
    from aiohttp import web
    from tortoise import Tortoise

    sys.path.insert(0, os.environ.get("PLUGHOST_PLUGINS_DIR", str(REPO / "plugins")))
    from clients.models import Client  # the demo plugin's model and view, as the plugin uses them
    from clients.views import client_v1

    db = Path(os.environ["PLUGHOST_DATA_DIR"]).resolve() / "plughost.sqlite3"
    config = {
        "connections": {"default": f"sqlite://{db}"},
        "apps": {"clients": {"models": ["clients.models"], "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }

    async def database(app: web.Application) -> Any:
        # the global fallback lets handler tasks use the connection opened in this start-up task
        await Tortoise.init(config=config, _enable_global_fallback=True)
        yield
        await Tortoise.close_connections()

    async def read_client(request: web.Request) -> web.Response:
        client_id = int(request.match_info["id"])
        # the same query the host runs: the client is tenant-scoped (tenant from X-Tenant)
        tenant = request.headers.get("X-Tenant") or "default"
        client = await Client.in_tenant(tenant).get_or_none(id=client_id).prefetch_related("office")
        if client is None:
            raise web.HTTPNotFound()
        return web.json_response(client_v1(client))

    app.cleanup_ctx.append(database)
    app.router.add_get("/api/v1/clients/{id}", read_client)


# -- helpers --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, parsed JSON or None) of one request; connection errors give status 0."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={**(headers or {})})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (OSError, urllib.error.URLError):
        return 0, None
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc), 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ensure_wrk() -> str | None:
    """Path of wrk; installs Debian's package when missing and running as root."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("wrk is missing: installing Debian's package (apt-get install -y wrk)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt(*args: str) -> int:
        quiet = subprocess.DEVNULL
        try:
            return subprocess.run(
                ["apt-get", *args], env=env, stdout=quiet, stderr=quiet, timeout=300
            ).returncode
        except (OSError, subprocess.SubprocessError):
            return 1

    if apt("install", "-y", "wrk"):  # the package lists may be missing or stale
        apt("update")
        apt("install", "-y", "wrk")
    return shutil.which("wrk")


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, path: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            status, _ = http(self.url(path))
            if 0 < status < 500:
                return
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        raise SystemExit(f"{self.name} server did not come up on {path}:\n{tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # run_app's clean shutdown
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(kind: str, env: dict[str, str], tmp: Path) -> Server:
    port = free_port()
    log = tmp / f"{kind}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, str(port)],
            env=env,
            cwd=tmp,  # no plughost.toml from the working directory
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(kind, proc, port, log)


@contextlib.contextmanager
def servers(with_db: bool) -> Iterator[dict[str, Any]]:
    """plughost and bare servers, a JWT and a client id; all stopped and removed on exit."""
    tmp = Path(tempfile.mkdtemp(prefix="plughost-bench-"))
    (tmp / "routes.d").mkdir()
    (tmp / "routes.d" / f"{GATEWAY_APP}.json").write_text(json.dumps(ROUTES))
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    env = {
        **inherited,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "PLUGHOST_DATA_DIR": str(tmp / "data"),
        "PLUGHOST_ROUTES_DIR": str(tmp / "routes.d"),
        "PLUGHOST_PLUGINS_DIR": str(REPO / "plugins"),
        "PLUGHOST_PLUGIN_PATH": str(BENCH / "plugins"),
        "PLUGHOST_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PLUGHOST_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
        "PLUGHOST_LOG_LEVEL": "WARNING",
        "PLUGHOST_BROKER_URL": "",
    }
    started: list[Server] = []
    try:
        host = start("host", env, tmp)
        started.append(host)
        host.wait_ready("/healthz")
        out: dict[str, Any] = {"host": host, "tmp": tmp}
        status, body = http(
            host.url("/api/v1/authentication"),
            {"username": "admin", "password": ADMIN_PASSWORD},
        )
        if status != 200:
            raise SystemExit(f"login failed: HTTP {status} {body}")
        out["token"] = body["access_token"]
        auth = {"Authorization": f"Bearer {out['token']}"}
        if with_db:
            status, body = http(
                host.url("/api/v1/clients"),
                {"officeId": 1, "firstname": "Bench", "lastname": "Client"},
                auth,
            )
            if status != 201:
                raise SystemExit(f"creating a client failed: HTTP {status} {body}")
            out["client_id"] = body["clientId"]
        bare = start("bare", {**env, "BENCH_BARE_DB": "1" if with_db else "0"}, tmp)
        started.append(bare)
        bare.wait_ready("/api/v1/ping")
        out["bare"] = bare
        bare_uv = start("bare-uvloop", {**env, "BENCH_BARE_LOOP": "uvloop"}, tmp)
        started.append(bare_uv)
        bare_uv.wait_ready("/api/v1/ping")
        out["bare_uvloop"] = bare_uv
        if "client_id" in out:
            path = f"/api/v1/clients/{out['client_id']}"
            status, _ = http(bare.url(path))
            if status != 200:
                print(f"(c) skipped: the bare server answered {status} to {path} (see its log)")
                print(bare.log.read_text(errors="replace")[-1500:])
                del out["client_id"]
        yield out
    finally:
        for server in reversed(started):
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# -- wrk ------------------------------------------------------------------------------------------
@dataclass
class Target:
    label: str
    server: Server
    path: str
    headers: dict[str, str] = field(default_factory=dict)

    def wrk_args(self, wrk: str, connections: int, seconds: float) -> list[str]:
        args = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s"]
        for name, value in self.headers.items():
            args += ["-H", f"{name}: {value}"]
        return [*args, self.server.url(self.path)]


@dataclass
class Round:
    rps: float
    requests: int
    failures: int
    cpu_s: float  # server CPU used during the round


def parse_wrk(text: str) -> tuple[float, int, int]:
    """(requests/s, requests, failures) from wrk's report; failures = non-2xx/3xx + socket errors."""
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    done = re.search(r"(\d+) requests in", text)
    if rps is None or done is None:
        raise SystemExit(f"cannot read wrk's output:\n{text}")
    failures = 0
    if m := re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text):
        failures += int(m.group(1))
    if m := re.search(
        r"Socket errors:\s*connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    ):
        failures += sum(int(g) for g in m.groups())
    return float(rps.group(1)), int(done.group(1)), failures


def run_wrk(wrk: str, target: Target, connections: int, seconds: float) -> Round:
    before = cpu_seconds(target.server.proc.pid)
    proc = subprocess.run(
        target.wrk_args(wrk, connections, seconds),
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    cpu = cpu_seconds(target.server.proc.pid) - before
    if proc.returncode:
        raise SystemExit(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    rps, done, failures = parse_wrk(proc.stdout)
    return Round(rps, done, failures, cpu)


def check(target: Target, expect: Any) -> Any:
    """One request before measuring: 200 and the expected JSON, or the bench stops."""
    status, body = http(target.server.url(target.path), headers=target.headers)
    if status != 200 or (expect is not None and body != expect):
        raise SystemExit(f"{target.label}: {target.path} answered {status} {body!r}")
    return body


@dataclass
class Case:
    key: str
    title: str
    measured: Target  # plughost side ("A" in the ratio's numerator)
    reference: Target  # what it is compared with
    goal: float | None
    expect: Any = None


def compare(wrk: str, case: Case, args: argparse.Namespace) -> dict[str, Any]:
    """Alternating rounds of both sides; prints the detail and the summary line, returns figures.

    The headline ratio is median req/s over median req/s. Also shown: the median of the ratios of
    adjacent round pairs (steadier when the machine's speed drifts) and the ratio of server CPU per
    request (total CPU over total requests; it does not depend on what else the machine runs).
    """
    answers = [check(target, case.expect) for target in (case.measured, case.reference)]
    if answers[0] != answers[1]:
        print(f"    warning: the two sides answer differently: {answers[0]!r} vs {answers[1]!r}")
    for target in (case.measured, case.reference):
        run_wrk(wrk, target, args.connections, 1)  # warm-up
    rounds: dict[str, list[Round]] = {"measured": [], "reference": []}
    for _ in range(args.rounds):  # A B A B ...
        rounds["reference"].append(run_wrk(wrk, case.reference, args.connections, args.duration))
        rounds["measured"].append(run_wrk(wrk, case.measured, args.connections, args.duration))
    med = {k: statistics.median(r.rps for r in v) for k, v in rounds.items()}
    cpu = {
        k: sum(r.cpu_s for r in v) / max(1, sum(r.requests for r in v)) * 1e6
        for k, v in rounds.items()
    }
    failures = sum(r.failures for v in rounds.values() for r in v)
    ratio = med["measured"] / med["reference"] if med["reference"] else 0.0
    pairs = statistics.median(
        m.rps / r.rps for m, r in zip(rounds["measured"], rounds["reference"], strict=True)
    )
    cpu_ratio = cpu["reference"] / cpu["measured"] if cpu["measured"] else 0.0
    for side, target in (("reference", case.reference), ("measured", case.measured)):
        each = " ".join(f"{r.rps:.0f}" for r in rounds[side])
        print(
            f"    {target.label:<34} median {med[side]:7.0f} req/s (rounds {each}),"
            f" {cpu[side]:5.0f} µs server CPU/req"
        )
    verdict = ""
    if case.goal is not None:
        verdict = f"  goal >= {case.goal:g}: {'met' if ratio >= case.goal else 'NOT met'}"
    print(f"    pair ratios median {pairs:.2f}, CPU/req ratio {cpu_ratio:.2f}{verdict}")
    line = (
        f"({case.key}) {case.title}: ratio={ratio:.2f} "
        f"({case.measured.label.split()[0]} {med['measured']:.0f} req/s, "
        f"{case.reference.label.split()[0]} {med['reference']:.0f} req/s, failures {failures})"
        f" cpu-ratio={cpu_ratio:.2f}"
    )
    print(line, flush=True)
    return {
        "case": case.key,
        "title": case.title,
        "line": line,
        "ratio": round(ratio, 3),
        "pair_ratio": round(pairs, 3),
        "cpu_ratio": round(cpu_ratio, 3),
        "goal": case.goal,
        "failures": failures,
        "measured": {"label": case.measured.label, "rps": [r.rps for r in rounds["measured"]]},
        "reference": {"label": case.reference.label, "rps": [r.rps for r in rounds["reference"]]},
        "cpu_us_per_request": {k: round(v, 1) for k, v in cpu.items()},
    }


def build_cases(ctx: dict[str, Any]) -> dict[str, Case]:
    host, bare = ctx["host"], ctx["bare"]
    auth = {"Authorization": f"Bearer {ctx['token']}"}
    direct = Target("plughost /api/v1/ping", host, "/api/v1/ping")
    cases = {
        "a": Case(
            "a",
            "public plugin endpoint vs bare aiohttp",
            direct,
            Target("bare /api/v1/ping", bare, "/api/v1/ping"),
            0.7,
            PING_BODY,
        ),
        "u": Case(
            "u",
            "public plugin endpoint vs bare aiohttp, both on uvloop",
            direct,
            Target("bare (uvloop) /api/v1/ping", ctx["bare_uvloop"], "/api/v1/ping"),
            0.7,
            PING_BODY,
        ),
        "b": Case(
            "b",
            "gateway-mapped vs direct",
            Target("gateway /ping (X-App-Name)", host, "/ping", {"X-App-Name": GATEWAY_APP}),
            Target("direct /api/v1/ping", host, "/api/v1/ping"),
            0.95,
            PING_BODY,
        ),
        "d": Case(
            "d",
            "gateway-mapped by /apps/<app>/ prefix vs direct",
            Target(f"gateway /apps/{GATEWAY_APP}/ping", host, f"/apps/{GATEWAY_APP}/ping"),
            Target("direct /api/v1/ping", host, "/api/v1/ping"),
            0.95,
            PING_BODY,
        ),
        "e": Case(
            "e",
            "JWT-authenticated ping vs public ping",
            Target("plughost /api/v1/ping-auth (JWT)", host, "/api/v1/ping-auth", auth),
            Target("public /api/v1/ping", host, "/api/v1/ping"),
            None,
            PING_BODY,
        ),
    }
    if "client_id" in ctx:
        path = f"/api/v1/clients/{ctx['client_id']}"
        cases["c"] = Case(
            "c",
            "JWT GET of a client vs bare aiohttp, same query",
            Target(f"plughost {path} (JWT)", host, path, auth),
            Target(f"bare {path}", bare, path),
            None,
        )
    return cases


# -- profiling ------------------------------------------------------------------------------------
def _short(path: str) -> str:
    """A frame's file, shortened: repo-relative, site-packages-relative, or stdlib-relative."""
    if "site-packages" + os.sep in path:  # before the repo: the venv may sit inside it
        return path.split("site-packages" + os.sep, 1)[1]
    if path.startswith(str(REPO) + os.sep):
        return path[len(str(REPO)) + 1 :]
    stdlib = sysconfig.get_paths()["stdlib"]
    if path.startswith(stdlib + os.sep):
        return path[len(stdlib) + 1 :]
    return path


FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*):(?P<line>\d+)\)$")


def _frame(raw: str) -> tuple[str, str]:
    """(display name, file) of one py-spy frame `func (file:line)`."""
    m = FRAME.match(raw.strip())
    if m is None:
        return raw.strip(), ""
    return f"{m['func']} ({_short(m['file'])}:{m['line']})", m["file"]


def _component(file: str) -> str:
    """Who owns a frame: host/<subpackage>, plugins, bench, a third-party package, or stdlib."""
    short = _short(file)
    if not file:
        return "(unknown)"
    if "site-packages" in file:
        return short.split("/")[0].removesuffix(".py")
    if short.startswith("host/"):
        parts = short.split("/")
        return "/".join(parts[:2]) if len(parts) > 2 else short
    if short.startswith(("plugins/", "bench/", "admin/", "workers/")):
        return short.split("/")[0] + "/"
    if short.startswith("asyncio/"):
        return "asyncio (stdlib)"
    return "stdlib " + short.split("/")[0].removesuffix(".py")


HOST_CODE = ("host/", "plugins/", "bench/plugins/", "admin/")


def summarize(raw_file: Path, top: int = 15) -> None:
    """Print where a py-spy raw profile (folded stacks) spends the event loop thread's time.

    - frames by own time (the leaf of each sample: where the CPU was);
    - frames by cumulative time from the first host frame down: host code and the library code
      it calls (uuid, dataclasses.replace, prometheus labels(), json...), each counted once per
      sample; the aiohttp/asyncio machinery above the first host frame is left out;
    - own time by component (host subpackage, library, stdlib module).
    """
    own: Counter[str] = Counter()
    below_host: Counter[str] = Counter()
    by_component: Counter[str] = Counter()
    total = other_threads = in_host = waiting = 0
    for line in raw_file.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames:
            continue
        if not frames[0][0].startswith("<module>"):
            # not the main thread (the event loop's): watchers and worker pools waiting in
            # native code, which py-spy does not always see as idle
            other_threads += count
            continue
        name, file = frames[-1]
        if name.split(" ")[0].endswith("Selector.select") and file.endswith("selectors.py"):
            waiting += count  # the event loop waiting for I/O (epoll_wait), not CPU
            continue
        total += count
        own[name] += count
        by_component[_component(file)] += count
        first = next((i for i, f in enumerate(frames) if _short(f[1]).startswith(HOST_CODE)), None)
        if first is not None:
            in_host += count
            for name in {f[0] for f in frames[first:]}:
                below_host[name] += count
    if not total:
        print(f"{raw_file}: no samples")
        return

    def show(title: str, rows: list[tuple[str, int]]) -> None:
        print(title)
        for name, count in rows:
            print(f"  {100 * count / total:5.1f}%  {name}")

    print(
        f"{raw_file}: {total} samples of the main (event loop) thread; left out: "
        f"{waiting} waiting in select(), {other_threads} of other threads, idle ones (py-spy); "
        f"{100 * in_host / total:.1f}% of the rest inside host/plugin code"
    )
    show(f"top {top} frames by own time:", own.most_common(top))
    show(
        f"top {top + 10} frames by cumulative time, from the first host frame down:",
        below_host.most_common(top + 10),
    )
    show("own time by component:", by_component.most_common())


def profile(wrk: str, ctx: dict[str, Any], args: argparse.Namespace) -> None:
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(pyspy).exists():
        print("SKIP profile: py-spy is not installed (.venv/bin/pip install py-spy)")
        return
    case = build_cases(ctx)[args.profile]
    target = case.measured
    check(target, case.expect)
    run_wrk(wrk, target, args.connections, 1)  # warm-up
    out = Path(args.profile_out or REPO / "var" / "profile" / f"host-{args.profile}.raw")
    out.parent.mkdir(parents=True, exist_ok=True)
    seconds = args.profile_seconds
    load = subprocess.Popen(
        target.wrk_args(wrk, args.connections, seconds + 2),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(1)
    record = [pyspy, "record", "-p", str(target.server.proc.pid), "-d", str(seconds)]
    record += ["-r", str(args.profile_rate), "-f", "raw", "-F", "--full-filenames", "-o", str(out)]
    spy = subprocess.run(record, capture_output=True, text=True, timeout=seconds + 60)
    wrk_out, _ = load.communicate(timeout=seconds + 30)
    if spy.returncode or not out.exists():
        print(f"SKIP profile: py-spy failed ({spy.returncode}): {spy.stderr.strip()[-500:]}")
        return
    rps, _, failures = parse_wrk(wrk_out)
    print(
        f"profiled {target.label} for {seconds:g} s under wrk -t1 -c{args.connections}: "
        f"{rps:.0f} req/s while sampled, failures {failures}; raw stacks in {out}"
    )
    summarize(out, args.top)


# -- main -----------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="aubcd", help="which cases to run (default: aubcd)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side, alternating")
    parser.add_argument("--duration", type=float, default=3, help="seconds per wrk round")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (one thread)")
    parser.add_argument("--profile", choices="abcde", help="profile this case's plughost side")
    parser.add_argument("--profile-seconds", type=int, default=8)
    parser.add_argument("--profile-rate", type=int, default=200, help="py-spy samples/s")
    parser.add_argument("--profile-out", help="raw stacks file (default var/profile/host-X.raw)")
    parser.add_argument("--top", type=int, default=15, help="rows in the profile summary")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--summarize", type=Path, help="summarise a py-spy raw file and exit")
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        sys.path.insert(0, str(REPO))
        kind, port = args.serve
        {"host": serve_host, "bare": serve_bare, "bare-uvloop": serve_bare}[kind](int(port))
        return
    if args.summarize:
        summarize(args.summarize, args.top)
        return
    wrk = ensure_wrk()
    if wrk is None:
        print("SKIP host_overhead: wrk is not installed and could not be installed (apt-get wrk)")
        return
    wanted = args.profile or args.cases
    with servers(with_db="c" in wanted) as ctx:
        if args.profile:
            profile(wrk, ctx, args)
            return
        print(
            f"wrk -t1 -c{args.connections} -d{args.duration:g}s, {args.rounds} rounds per side "
            f"alternating; medians (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)"
        )
        cases = build_cases(ctx)
        results = [compare(wrk, cases[key], args) for key in wanted if key in cases]
    print("summary:")
    for result in results:
        print("  " + result["line"])
    if args.json:
        meta = {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "wrk": f"-t1 -c{args.connections} -d{args.duration:g}s",
            "rounds": args.rounds,
            "loadavg": os.getloadavg()[0],
        }
        args.json.write_text(json.dumps({**meta, "cases": results}, indent=2) + "\n")


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # output piped into `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
