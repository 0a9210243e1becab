"""`plughost worker`: job worker processes for a Redis or RabbitMQ broker, with a supervisor.

The parent starts N child processes and restarts any that dies (a killed worker loses nothing: its
items' leases expire and the reaper re-queues them), so it needs no outside supervisor to stay at
N; the parent itself should run under systemd/Kubernetes like any daemon. Each child is a full
host app without an HTTP listener: database, plugins, pipeline, and a Dramatiq worker with M
threads whose async actors run on the child's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from types import FrameType

from aiohttp import web

from host.app import create_app
from host.config import Settings
from host.jobs import WORKER_MODE

__all__ = ("run_child", "supervise")

log = logging.getLogger("plughost.jobs")


async def run_child(settings: Settings, threads: int) -> int:
    """One worker process: start the app (no socket), consume until SIGTERM/SIGINT."""
    app = create_app(settings)
    app[WORKER_MODE] = threads
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"plughost worker {os.getpid()} ready ({threads} threads)", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0


def supervise(processes: int, threads: int) -> int:
    """Keep `processes` children running; restart one that exits unexpectedly."""
    command = [sys.executable, "-m", "host.cli", "worker", "--child", "--threads", str(threads)]
    children: dict[int, subprocess.Popen[bytes]] = {}
    stopping = False
    restarts: list[float] = []

    def spawn(slot: int) -> None:
        children[slot] = subprocess.Popen(command)  # noqa: S603 - our own interpreter and module
        print(f"plughost worker: child {children[slot].pid} started", file=sys.stderr, flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(processes):
        spawn(slot)
    while not stopping:
        time.sleep(0.2)
        for slot, child in list(children.items()):
            code = child.poll()
            if code is None or stopping:
                continue
            print(
                f"plughost worker: child {child.pid} exited with {code}; restarting",
                file=sys.stderr,
                flush=True,
            )
            restarts.append(time.monotonic())
            recent = [t for t in restarts if time.monotonic() - t < 10]
            if len(recent) > 3 * processes:  # crashing at start-up: do not spin
                time.sleep(2)
            spawn(slot)
    deadline = time.monotonic() + 30
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return 0
