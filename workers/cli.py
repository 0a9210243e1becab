"""`plughost worker`: joins the host's command line through the `plughost.commands` entry point.

The host never imports this package (import-linter checks it); pyproject.toml declares
`worker = "workers.cli:register"` in the `plughost.commands` group and `host.cli` calls `register`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable

from host.cli import Subcommands
from host.config import Settings
from host.http.logs import configure_logging
from host.preflight import StartupError, check_broker, check_database
from workers.supervisor import run_child, supervise

__all__ = ("register",)


def register(sub: Subcommands) -> None:
    """Add `worker` to the `plughost` subcommands."""
    p = sub.add_parser(
        "worker",
        help="run job worker processes (needs PLUGHOST_BROKER_URL: redis:// or amqp://)",
        description="Start N worker processes with M threads each that run job items from the "
        "broker; a child that dies is restarted. See docs/jobs.md.",
    )
    p.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--threads", type=int, default=None, help="threads per process (default 4)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_worker)


def _cmd_worker(args: argparse.Namespace, settings: Settings) -> int | Awaitable[int]:
    configure_logging(settings.log_level, settings.log_format)
    threads = args.threads or settings.jobs_worker_threads
    if not args.child and (not settings.broker_url or settings.broker_url.startswith("stub")):
        print(
            "error: set PLUGHOST_BROKER_URL (redis:// or amqp://); without it `plughost serve` "
            "runs the jobs itself",
            file=sys.stderr,
        )
        return 2
    if args.child:
        return run_child(settings, threads)
    try:  # one line naming the setting when the database or the broker does not answer
        asyncio.run(_check_services(settings))
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return supervise(args.processes, threads)


async def _check_services(settings: Settings) -> None:
    await check_database(settings)
    await check_broker(settings)
