"""In-process event bus: publish by topic, subscribe by pattern ("clients.*"), delivered in order.

Each topic has its own queue and delivery task, so one topic's events arrive in publish order while a
slow handler on one topic never holds up another. A failing handler is logged and isolated (like
Dramatiq's middleware dispatch): the other handlers and later events still run. Events published
inside a database transaction wait in the transaction's buffer and are delivered only after commit
(see `host.data.db.unit_of_work`); a rolled-back transaction emits nothing.
"""

from __future__ import annotations

import asyncio
import fnmatch
import inspect
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from host.context import current_context
from host.data.db import defer_until_commit

__all__ = ("BUS", "Bus", "Event", "EventHandler")

log = logging.getLogger("plughost.bus")


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    payload: dict[str, Any]
    id: int
    published_at: float
    tenant: str | None = None
    request_id: str | None = None
    bus: Bus | None = field(default=None, compare=False, repr=False)


EventHandler = Callable[[Event], Awaitable[None] | None]


@dataclass
class Subscription:
    pattern: str
    handler: EventHandler
    owner: str = ""

    def matches(self, topic: str) -> bool:
        return fnmatch.fnmatchcase(topic, self.pattern)

    @property
    def name(self) -> str:
        return f"{self.owner}:{getattr(self.handler, '__qualname__', repr(self.handler))}"


@dataclass
class HandlerFailure:
    topic: str
    handler: str
    error: str
    at: float


class Bus:
    def __init__(self, history: int = 200) -> None:
        self._subs: list[Subscription] = []
        self._queues: dict[str, asyncio.Queue[Event | None]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._ids = itertools.count(1)
        self._running = False
        self.recent: deque[Event] = deque(maxlen=history)
        self.failures: deque[HandlerFailure] = deque(maxlen=history)
        self.delivered = 0
        self._listeners: list[Callable[[Event], None]] = []

    # subscribing ----------------------------------------------------------------------------
    def subscribe(self, pattern: str, handler: EventHandler, *, owner: str = "") -> None:
        self._subs.append(Subscription(pattern, handler, owner))

    def subscriptions(self) -> list[Subscription]:
        return list(self._subs)

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Observe every published event (the admin's live view); returns an unsubscribe call."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # publishing -----------------------------------------------------------------------------
    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        ctx = current_context()
        event = Event(
            topic=topic,
            payload=payload,
            id=next(self._ids),
            published_at=time.time(),
            tenant=ctx.tenant if ctx else None,
            request_id=ctx.request_id if ctx else None,
            bus=self,
        )
        if not defer_until_commit(lambda: self._enqueue(event)):
            self._enqueue(event)

    def _enqueue(self, event: Event) -> None:
        self.recent.append(event)
        for listener in list(self._listeners):
            listener(event)
        if not any(s.matches(event.topic) for s in self._subs):
            return
        queue = self._queues.get(event.topic)
        if queue is None:
            queue = self._queues[event.topic] = asyncio.Queue()
            self._tasks[event.topic] = asyncio.get_running_loop().create_task(
                self._deliver_loop(queue), name=f"bus:{event.topic}"
            )
        queue.put_nowait(event)

    async def _deliver_loop(self, queue: asyncio.Queue[Event | None]) -> None:
        while True:
            event = await queue.get()
            try:
                if event is None:
                    return
                await self._deliver(event)
            finally:
                queue.task_done()

    async def _deliver(self, event: Event) -> None:
        for sub in [s for s in self._subs if s.matches(event.topic)]:
            try:
                result = sub.handler(event)
                if inspect.isawaitable(result):
                    await result
                self.delivered += 1
            except Exception as exc:
                log.exception(
                    "bus handler failed",
                    extra={"topic": event.topic, "handler": sub.name, "event_id": event.id},
                )
                self.failures.append(HandlerFailure(event.topic, sub.name, repr(exc), time.time()))

    # lifecycle ------------------------------------------------------------------------------
    async def join(self) -> None:
        """Wait until every event published so far has been handled (tests, shutdown)."""
        while any(q._unfinished_tasks for q in self._queues.values()):  # type: ignore[attr-defined]
            await asyncio.gather(*(q.join() for q in list(self._queues.values())))

    async def close(self) -> None:
        await self.join()
        for queue in self._queues.values():
            queue.put_nowait(None)
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._queues.clear()
        self._tasks.clear()


BUS = web.AppKey("bus", Bus)
