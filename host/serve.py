"""`plughost serve`: one server process, or a small master running N of them on one port.

One process (`--workers 1`, the default) runs the app itself. With `--workers N` (`auto`: one per
core) the master binds the listening socket once and starts N children that inherit it and all
accept from it (the pre-fork model): no second port, no proxy, and a child that stops accepting
leaves the queued connections to the others, which SO_REUSEPORT (one queue per process, reset
when its process closes it) would not. The master loads no plugin and opens no database: it only
starts, watches and stops children, so it cannot be broken by a plugin.

- A child that dies is started again (with a pause when they crash in a loop).
- SIGTERM/SIGINT: every child drains (`host.drain`): health 503 "draining", stop accepting, end
  SSE streams, finish in-flight requests, exit within `PLUGHOST_SHUTDOWN_GRACE` seconds.
- SIGHUP (master): a rolling restart onto a freshly loaded plugin set, see `Master.roll`; a single
  process reloads routes.d on SIGHUP as before. The master writes how its rolls go into the
  database (`host.activation`), where `/healthz` and the admin Plugins page of every process read
  it; the admin page's button asks the master for a roll like SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from host.activation import SERVED, Served, one_line, record
from host.app import create_app
from host.config import Settings
from host.drain import DRAIN, Drain
from host.gateway import enable_sighup
from host.http.logs import ACCESS_LOGGER, AccessLogger
from host.http.runtime import freeze_after_startup, install_event_loop
from host.loader import REGISTRY
from host.preflight import describe_startup_failure

__all__ = ("Master", "reload", "run_child", "run_single", "worker_count")

PID_FILE = "serve.pid"
ROLL_FILE = "serve-roll.json"
"""The master's pid, and the outcome of its last roll, in the data dir (for `plughost reload`)."""

log = logging.getLogger("plughost.serve")


def worker_count(value: str) -> int:
    """`auto` is one process per core; else a number from 1 to 64."""
    if value == "auto":
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    count = int(value)
    if not 1 <= count <= 64:
        raise ValueError("--workers must be between 1 and 64, or auto")
    return count


def instance_name(sock: socket.socket) -> str:
    """`hostname:port`: the master's key in the activation table (`host.activation`)."""
    return f"{socket.gethostname()[:150]}:{sock.getsockname()[1]}"


# one serving process -------------------------------------------------------------------------------
async def _serve(
    settings: Settings,
    sock: socket.socket,
    ready_fd: int | None,
    sighup_routes: bool,
    announce: str | None = None,
) -> int:
    try:
        app = create_app(settings)
    except BaseException as exc:
        _report(ready_fd, "failed", {"error": one_line(repr(exc))})
        raise
    master = None if sighup_routes else os.getppid()  # a child's parent is its master
    app[SERVED] = Served(instance_name(sock), master)
    freeze_after_startup(app)
    drain = app[DRAIN] = Drain()

    async def close_when_draining(request: web.Request, response: web.StreamResponse) -> None:
        if drain.draining:  # keep-alive clients stop reusing this connection
            response.force_close()

    app.on_response_prepare.append(close_when_draining)
    grace = settings.shutdown_grace
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=logging.getLogger(ACCESS_LOGGER) if settings.access_log else None,
        access_log_class=AccessLogger,
        shutdown_timeout=max(1.0, grace - settings.drain_delay - 2.0),
    )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if sighup_routes:
        enable_sighup(app)  # reload routes.d on SIGHUP
    else:  # the master's SIGHUP is a rolling restart; a child ignores it
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        await runner.setup()
    except BaseException as exc:
        error = one_line(describe_startup_failure(exc))  # a failed migration names its file
        _report(ready_fd, "failed", {"error": error, **_plugin_set(app)})
        raise
    site = web.SockSite(runner, sock)
    await site.start()
    _report(ready_fd, "ready", {"pid": os.getpid(), **_plugin_set(app)})
    if announce is not None:  # start-up ran and the socket listens: now it is true
        port = sock.getsockname()[1]
        print(f"plughost serving on http://{announce}:{port}  (Ctrl-C to stop)", file=sys.stderr)
    await stop.wait()

    # drain: say so, let the balancer notice, stop accepting, end streams, finish, exit
    started = time.monotonic()
    drain.start()
    watchdog = loop.call_later(grace, _overrun, grace)
    # answers say "Connection: close" from now on (keep-alive clients move on)
    await asyncio.sleep(settings.drain_delay)
    await site.stop()  # no new connections here; siblings on the shared socket take them
    # connections accepted just before get their request read and answered, not closed as idle
    await asyncio.sleep(0.25)
    streams = await drain.close_streams()
    await runner.cleanup()  # waits for in-flight requests, then closes the database
    watchdog.cancel()
    log.info(
        "drained and stopped",
        extra={"seconds": round(time.monotonic() - started, 3), "streams_closed": streams},
    )
    return 0


def _overrun(grace: float) -> None:
    log.error("shutdown took longer than PLUGHOST_SHUTDOWN_GRACE (%ss): exiting now", grace)
    os._exit(1)


def _plugin_set(app: web.Application) -> dict[str, object]:
    """What a process loaded ("name version") and skipped (name: why), for its report."""
    registry = app[REGISTRY]
    return {
        "plugins": [f"{p.name} {p.version}" for p in registry.loaded],
        "skipped": {r.name: one_line(r.reason) for r in registry.skipped},
    }


def _report(fd: int | None, state: str, details: dict[str, object]) -> None:
    """A child's one report to the master: "ready {json}" or "failed {json}", then EOF."""
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.write(fd, f"{state} {json.dumps(details)}\n".encode())
        os.close(fd)


def run_single(settings: Settings, sock: socket.socket, host: str) -> int:
    """One process on the bound `sock`; "serving on" is printed once it answers."""
    return asyncio.run(_serve(settings, sock, None, sighup_routes=True, announce=host))


def run_child(settings: Settings, fd: int, ready_fd: int | None) -> int:
    """A child of the master: serve on the inherited listening socket `fd`."""
    sock = socket.socket(fileno=fd)
    install_event_loop(settings.event_loop)
    return asyncio.run(_serve(settings, sock, ready_fd, sighup_routes=False))


# the master ---------------------------------------------------------------------------------------
@dataclass
class Child:
    proc: subprocess.Popen[bytes]
    ready_r: int
    generation: int
    ready: bool = False
    plugins: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failure: str = ""
    report: bytes = b""


class Master:
    """Keeps N children serving on one socket; drains them on SIGTERM, rolls them on SIGHUP."""

    def __init__(self, settings: Settings, sock: socket.socket, workers: int) -> None:
        self.settings, self.sock, self.workers = settings, sock, workers
        self.children: list[Child] = []
        self.generation = 0
        self.stopping = False
        self.roll_requested = False
        self.restarts: list[float] = []
        self.instance = instance_name(sock)
        self.started_recorded = False

    def spawn(self) -> Child:
        ready_r, ready_w = os.pipe()
        fd = self.sock.fileno()
        command = [
            sys.executable,
            "-m",
            "host.cli",
            "serve",
            "--child-fd",
            str(fd),
            "--ready-fd",
            str(ready_w),
        ]
        proc = subprocess.Popen(command, pass_fds=(fd, ready_w))  # noqa: S603 - our interpreter
        os.close(ready_w)
        os.set_blocking(ready_r, False)
        child = Child(proc, ready_r, self.generation)
        self.children.append(child)
        return child

    def poll_ready(self, child: Child) -> None:
        """Read the child's one-line report (ready or failed) once it has written all of it."""
        if child.ready or child.failure:
            return
        while True:
            try:
                chunk = os.read(child.ready_r, 65536)
            except BlockingIOError:
                return  # more to come, or nothing yet
            except OSError:
                chunk = b""
            if not chunk:
                break  # the child closed its end: the report is complete (or it died)
            child.report += chunk
        state, _, rest = child.report.decode(errors="replace").strip().partition(" ")
        try:
            details = json.loads(rest) if rest else {}
        except ValueError:
            details = {"error": rest}
        child.plugins = [str(p) for p in details.get("plugins", [])]
        child.skipped = {str(k): str(v) for k, v in details.get("skipped", {}).items()}
        if state == "ready":
            child.ready = True
        else:
            child.failure = str(details.get("error") or "exited during start-up")

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        data = self.settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        (data / PID_FILE).write_text(f"{os.getpid()}\n")
        for _ in range(self.workers):
            self.spawn()
        try:
            while not self.stopping:
                time.sleep(0.1)
                if not self.started_recorded and all(c.ready for c in self.children):
                    self.started_recorded = True  # a fresh start: no roll aborted (yet)
                    self._publish(
                        state="serving",
                        generation=self.generation,
                        serving=self.children[0].plugins,
                        attempted=[],
                        error="",
                        aborted_at=None,
                        rolled_at=_utcnow(),
                    )
                if self.roll_requested:
                    self.roll_requested = False
                    self._record(self.roll())
                self._replace_dead()
            return self._shutdown()
        finally:
            with contextlib.suppress(OSError):
                (data / PID_FILE).unlink()

    def _record(self, reason: str) -> None:
        outcome = {"ok": not reason, "reason": reason, "generation": self.generation}
        tmp = self.settings.data_dir / f".{ROLL_FILE}.tmp"
        tmp.write_text(json.dumps({**outcome, "at": time.time()}))
        os.replace(tmp, self.settings.data_dir / ROLL_FILE)

    def _publish(self, **values: object) -> None:
        """The activation state, for every process and instance (host.activation)."""
        record(self.settings.database_url, self.instance, **values)

    def _on_stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _on_hup(self, signum: int, frame: object) -> None:
        self.roll_requested = True

    def _replace_dead(self) -> None:
        for child in list(self.children):
            self.poll_ready(child)
            code = child.proc.poll()
            if code is None or self.stopping:
                continue
            self.children.remove(child)
            os.close(child.ready_r)
            print(
                f"plughost serve: worker {child.proc.pid} exited with {code}; starting another",
                file=sys.stderr,
                flush=True,
            )
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < 10] + [now]
            if len(self.restarts) > 3 * self.workers:  # crashing at start-up: do not spin
                time.sleep(2)
            self.spawn()

    def _shutdown(self) -> int:
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.shutdown_grace + 5
        for child in self.children:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
        self.sock.close()
        if self.started_recorded:
            self._publish()  # stopped: its row goes (a killed master's stays, with its time)
        return 0

    def roll(self) -> str:
        """Start a new generation; once all of it is ready, drain the old one child by child.
        Returns "" when done, else why it was aborted.

        A new generation that fails (a child exits or reports failure before it is ready, or it
        skips a plugin the current generation loads) is stopped and the old one keeps serving.
        """
        old = [c for c in self.children if c.proc.poll() is None]
        current_skipped: set[str] = set().union(*(c.skipped for c in old)) if old else set()
        self.generation += 1
        print(f"plughost serve: rolling onto generation {self.generation}", file=sys.stderr)
        self._publish(state="rolling")
        new = [self.spawn() for _ in range(self.workers)]
        deadline = time.monotonic() + self.settings.shutdown_grace + 120
        reason = ""
        while time.monotonic() < deadline and not self.stopping:
            for child in new:
                self.poll_ready(child)
                if not child.ready and not child.failure and child.proc.poll() is not None:
                    child.failure = f"exited with {child.proc.returncode} during start-up"
            failed = [c for c in new if c.failure]
            if failed:
                reason = failed[0].failure
                break
            if all(c.ready for c in new):
                skipped = {k: v for c in new for k, v in c.skipped.items()}
                newly = sorted(set(skipped) - current_skipped)
                if newly:
                    reason = "; ".join(f"plugin {n} failed to load: {skipped[n]}" for n in newly)
                break
            time.sleep(0.05)
        else:
            reason = reason or "the new processes did not become ready in time"
        if reason:
            print(
                f"plughost serve: roll aborted ({reason}); old processes keep serving",
                file=sys.stderr,
                flush=True,
            )
            log.error("rolling restart aborted: %s", reason)
            attempted = next((c.plugins for c in new if c.plugins), [])
            attempted = attempted + [f"{n} (skipped)" for c in new[:1] for n in c.skipped]
            for child in new:
                self._stop_child(child)
            self.generation -= 1
            self._publish(
                state="aborted", attempted=attempted, error=one_line(reason), aborted_at=_utcnow()
            )
            return reason
        for child in old:  # one at a time: the others (old and new) keep accepting
            self._stop_child(child)
        print(f"plughost serve: generation {self.generation} serving", file=sys.stderr, flush=True)
        self._publish(
            state="serving",
            generation=self.generation,
            serving=new[0].plugins,
            attempted=[],
            error="",
            aborted_at=None,
            rolled_at=_utcnow(),
        )
        return ""

    def _stop_child(self, child: Child) -> None:
        if child in self.children:
            self.children.remove(child)
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGTERM)
            try:
                child.proc.wait(timeout=self.settings.shutdown_grace + 5)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
        with contextlib.suppress(OSError):
            os.close(child.ready_r)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_master(settings: Settings, sock: socket.socket, host: str, workers: int) -> int:
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    print(
        f"plughost serving on http://{host}:{port} with {workers} processes "
        f"(master pid {os.getpid()}; SIGTERM drains, SIGHUP rolls)",
        file=sys.stderr,
    )
    return Master(settings, sock, workers).run()


def reload(data_dir: Path, timeout: float) -> tuple[bool, str]:
    """SIGHUP the master serving from `data_dir` and wait for the roll's outcome."""
    try:
        pid = int((data_dir / PID_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return False, f"no `plughost serve --workers N` master found ({data_dir / PID_FILE})"

    def last() -> float:
        try:
            return float(json.loads((data_dir / ROLL_FILE).read_text())["at"])
        except (FileNotFoundError, ValueError, KeyError):
            return 0.0

    before = last()
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        return False, f"the master (pid {pid}) is not running"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if last() != before:
            outcome = json.loads((data_dir / ROLL_FILE).read_text())
            if outcome["ok"]:
                return True, f"serving generation {outcome['generation']}"
            return False, f"roll aborted, old processes keep serving: {outcome['reason']}"
        time.sleep(0.1)
    return False, f"no outcome within {timeout:.0f}s (the roll may still be running)"
