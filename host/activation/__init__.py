"""Plugin activation across processes: what the `serve` master's last roll did, and asking for one.

The master (`host.serve`) knows how a SIGHUP roll went; the processes it runs answer the requests.
So the master writes its state into the database (`record`, one row per instance), and every
serving process reads it: `/healthz` reports an aborted roll as a problem (status `degraded`)
until a later roll succeeds, and the admin Plugins page shows it with a button that asks this
process's master for a roll (`request_roll`, the same as SIGHUP). A single process has no master:
`request_roll` refuses with the reason (a restart activates plugin changes).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from host.activation.models import Activation
from host.activation.state import (
    SERVED,
    ActivationView,
    NoMaster,
    Served,
    activation_view,
    one_line,
    record,
    request_roll,
)
from host.plugin import HEALTH, Plugin

__all__ = (
    "SERVED",
    "Activation",
    "ActivationView",
    "NoMaster",
    "Served",
    "activation_view",
    "one_line",
    "plugin",
    "record",
    "request_roll",
)


def _install(app: web.Application) -> None:
    async def health() -> dict[str, object]:
        view = await activation_view(app.get(SERVED))
        return view.health()

    app[HEALTH]["activation"] = health


plugin = Plugin(
    name="host_activation",
    version="1",
    models="host.activation.models",
    package_dir=Path(__file__).resolve().parent,
    install=_install,
    description="Plugin activation: the serve master's last roll, shared through the database",
)
