"""Reading and writing the activation state (`host.activation.models.Activation`).

`record` is for the master, which otherwise opens no database: it opens a connection of its own
for the one write and closes it, bounded in time; a failure is logged and the roll goes on (the
log and `plughost reload` still say what happened). Everything else runs in a serving process on
the host's connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import signal
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from host.activation.models import Activation
from host.data.db import close_db, init_db, tortoise_config

__all__ = (
    "SERVED",
    "ActivationView",
    "NoMaster",
    "Served",
    "activation_view",
    "one_line",
    "record",
    "request_roll",
)

log = logging.getLogger("plughost.serve")
RECORD_TIMEOUT = 5.0
ERROR_CHARS = 300
_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
_SECRET_PAIRS = re.compile(r"(?P<key>password|secret|token|key)=\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Served:
    """How this process serves: set by `host.serve` before start-up (absent in in-process apps)."""

    instance: str
    """`hostname:port`, the key of the master's row."""
    master_pid: int | None
    """The `serve --workers N` master that started this process; None for a single process."""


SERVED = web.AppKey("served", Served)


class NoMaster(Exception):
    """A roll cannot be asked for: the message says why (and what to do instead)."""


def one_line(text: str, limit: int = ERROR_CHARS) -> str:
    """An error for display: one line, credentials in URLs and `password=...` pairs masked, cut."""
    text = " ".join(text.split())
    text = _CREDENTIALS.sub(r"\g<scheme>***@", text)
    text = _SECRET_PAIRS.sub(r"\g<key>=***", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _write(db_url: str, instance: str, values: dict[str, Any]) -> None:
    context = await init_db(tortoise_config(db_url, [("host_activation", [Activation.__module__])]))
    try:
        await Activation.update_or_create(
            defaults={**values, "changed_at": _now()}, instance=instance
        )
    finally:
        await close_db(context)


async def _delete(db_url: str, instance: str) -> None:
    context = await init_db(tortoise_config(db_url, [("host_activation", [Activation.__module__])]))
    try:
        await Activation.filter(instance=instance).delete()
    finally:
        await close_db(context)


def record(db_url: str, instance: str, **values: Any) -> bool:
    """The master's write of its row (state, generation, serving, attempted, error, rolled_at);
    with no values, the row is deleted (a master stopping: no stale row for the admin page).

    Runs its own event loop (the master has none); True when written."""
    work = _write(db_url, instance, values) if values else _delete(db_url, instance)
    try:
        asyncio.run(asyncio.wait_for(work, RECORD_TIMEOUT))
    except Exception as exc:
        log.warning("could not record the roll's state in the database: %s", one_line(repr(exc)))
        return False
    return True


async def request_roll(served: Served | None) -> None:
    """Ask this process's master for a rolling activation (SIGHUP), after noting the request
    (shown as "requested" until the master's own write follows, within ~0.1 s).

    Raises NoMaster when there is none to ask: a single process, or a master that has gone."""
    if served is None or served.master_pid is None:
        raise NoMaster(
            "This server runs as a single process (`plughost serve` without --workers 2 or "
            "more, or `make run`): there is no master to start new processes. Restart it to "
            "activate plugin changes."
        )
    if os.getppid() != served.master_pid:  # re-parented: never signal whoever adopted us
        raise NoMaster(
            f"The master (pid {served.master_pid}) of this process is gone; restart the server."
        )
    updated = await Activation.filter(instance=served.instance).update(
        state="requested", changed_at=_now()
    )
    if not updated:
        await Activation.create(instance=served.instance, state="requested", changed_at=_now())
    os.kill(served.master_pid, signal.SIGHUP)


def _iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else ""


@dataclass
class ActivationView:
    """This process's view of its master's activation state (for /healthz and the admin page)."""

    mode: str
    """"master" (a roll can be asked for) or "single" (a restart is needed)."""
    instance: str = ""
    state: str = ""
    generation: int = 0
    serving: list[str] = field(default_factory=list)
    attempted: list[str] = field(default_factory=list)
    error: str = ""
    aborted_at: str = ""
    changed_at: str = ""
    rolled_at: str = ""
    others: list[Activation] = field(default_factory=list)

    @property
    def problem(self) -> str:
        if not self.error:
            return ""
        return f"plugin roll aborted at {self.aborted_at or '?'}: {self.error}"

    def health(self) -> dict[str, Any]:
        if self.mode == "single":
            return {"status": "single-process", "reload": "restart to activate plugin changes"}
        body: dict[str, Any] = {
            "status": self.state or "unknown",
            "instance": self.instance,
            "generation": self.generation,
            "plugins": self.serving,
            "rolledAt": self.rolled_at,
        }
        if self.error:
            body["lastAbort"] = {
                "at": self.aborted_at,
                "attempted": self.attempted,
                "error": self.error,
            }
            body["problem"] = self.problem
        return body


async def activation_view(served: Served | None, *, others: bool = False) -> ActivationView:
    if served is None or served.master_pid is None:
        return ActivationView(mode="single", instance=served.instance if served else "")
    row = await Activation.get_or_none(instance=served.instance)
    view = ActivationView(mode="master", instance=served.instance)
    if row is not None:
        view.state, view.generation = row.state, row.generation
        view.serving, view.attempted = list(row.serving), list(row.attempted)
        view.error = row.error
        view.aborted_at, view.changed_at = _iso(row.aborted_at), _iso(row.changed_at)
        view.rolled_at = _iso(row.rolled_at)
    if others:
        view.others = await Activation.exclude(instance=served.instance).order_by("instance")
    return view
