"""Durable events: the transactional outbox under the bus, and the relay every process runs.

`install(app)` attaches the outbox to the app's bus once the database and the plugins' handlers are
up, starts the relay (PostgreSQL: woken by LISTEN/NOTIFY), and on shutdown finishes and records the
deliveries this process holds before the database closes. See docs/deploy.md ("Events").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from tortoise import connections

from host.bus import BUS, DeliveryPolicy
from host.config import SETTINGS
from host.data.db import CONNECTION
from host.outbox.relay import Relay
from host.outbox.store import OutboxStore, StoredEvent, process_identity
from host.plugin import HEALTH, Plugin

__all__ = ("OutboxStore", "Relay", "StoredEvent", "plugin")


def _install(app: web.Application) -> None:
    """Runs after the plugins' cleanup context is added: the relay needs the handlers subscribed,
    and stops before the bus closes."""
    app.cleanup_ctx.append(_outbox)

    async def health() -> dict[str, object]:
        bus = app[BUS]
        if not isinstance(bus.store, OutboxStore):
            return {"status": "off"}
        counts = await bus.store.counts()
        return {"status": "ok" if not counts["dead"] else "dead-letters", **counts}

    app[HEALTH]["events"] = health


async def _outbox(app: web.Application) -> AsyncIterator[None]:
    settings, bus = app[SETTINGS], app[BUS]
    dialect = connections.get(CONNECTION).capabilities.dialect
    store = OutboxStore(dialect, process_identity())
    bus.policy = DeliveryPolicy(
        lease=settings.outbox_lease_seconds,
        max_attempts=settings.outbox_max_attempts,
        backoff=settings.outbox_backoff_seconds,
    )
    relay = Relay(
        bus,
        store,
        poll=settings.outbox_poll_seconds,
        retention=settings.outbox_retention_seconds,
        listen_dsn=settings.database_url.split("?", 1)[0] if dialect == "postgres" else None,
    )
    bus.store = store
    await relay.start()
    try:
        yield
    finally:
        await relay.stop()
        bus.store = None


plugin = Plugin(
    name="host_outbox",
    version="1",
    models="host.outbox.models",
    package_dir=Path(__file__).resolve().parent,
    install=_install,
    description="Durable events: the transactional outbox under the bus, and its relay",
)
