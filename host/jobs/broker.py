"""The Dramatiq broker from `PLUGHOST_BROKER_URL`, and the bridge from Dramatiq to the host's loop.

"" → StubBroker (in memory) with an in-process worker inside `plughost serve`; `redis://` →
RedisBroker; `amqp://` → RabbitmqBroker. The broker is always set explicitly (an unset one silently
means RabbitMQ on localhost). Actors are `async def`; `HostLoop` is Dramatiq's AsyncIO middleware
pointed at the loop that already owns the database connections and the bus, so an actor runs
exactly where an HTTP handler would (Tortoise connections cannot cross event loops).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import dramatiq
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, CurrentMessage

__all__ = ("HostLoop", "make_broker")

log = logging.getLogger("plughost.jobs")


class _LoopHandle(EventLoopThread):
    """An EventLoopThread that never starts a thread: it submits to an already running loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        threading.Thread.__init__(self, name="plughost-host-loop", daemon=True)  # never started
        self.interrupt_check_ival = 0.1
        self.logger = log
        self.loop = loop

    def stop(self) -> None:  # the loop belongs to the host
        return None


class HostLoop(AsyncIO):
    """AsyncIO middleware running async actors on the host's own event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        set_event_loop_thread(_LoopHandle(self.loop))

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        set_event_loop_thread(None)


def make_broker(url: str, loop: asyncio.AbstractEventLoop) -> dramatiq.Broker:
    """Build the broker for `url`, add the loop bridge, and make it Dramatiq's global broker."""
    broker: dramatiq.Broker
    if not url or url.startswith("stub"):
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker  # redis client loads only when used

        # job truth is in the database, so a parked message only delays; still recover in seconds
        broker = RedisBroker(  # type: ignore[no-untyped-call]  # dramatiq leaves it unannotated
            url=url, heartbeat_timeout=15_000, maintenance_chance=10_000
        )
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker  # pika loads only when used

        broker = RabbitmqBroker(url=url)
    else:  # Settings validates the scheme; this is a programming error
        raise ValueError(f"unsupported broker URL scheme: {url.split(':', 1)[0]}")
    broker.add_middleware(HostLoop(loop))
    # the actor reads the message's options (its tenant); the context variable it sets in the
    # worker thread reaches the coroutine, which is submitted to the host loop from that thread
    broker.add_middleware(CurrentMessage())
    dramatiq.set_broker(broker)
    return broker
