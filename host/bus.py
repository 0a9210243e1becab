"""Event bus: publish by topic, subscribe by pattern ("clients.*"); durable through the outbox.

Once the outbox is attached (`host.outbox`, at start-up) every event is a row in the outbox table,
written in the publisher's transaction (a rolled-back transaction emits nothing, a committed one
can no longer lose its events), with one delivery row per matching subscription. The rows are
staged in the unit of work and written just before it commits, every event of the transaction in
one INSERT and their deliveries in another (a batch group commit of 100 creates: 2 statements, not
200; nothing reads an event before it is committed anyway). After commit the
publishing process delivers to its own handlers at once (the fast path: per-topic queues, started
in publish order with a few in flight, a slow topic never holding up another) and marks each
delivery done; the relay in
every process (`host.outbox.relay`) takes whatever is left: a handler that raised (retried with
backoff, then dead-lettered), or a process that died before finishing (its lease expires). Events
from other processes reach this process's observers (`recent`, `add_listener`) through the relay.

A failing handler is logged and isolated (like Dramatiq's middleware dispatch): the other handlers
and later events still run. Without an outbox (before start-up, or a bare `Bus()` in a test) the
bus is in-memory only, as before.
"""

from __future__ import annotations

import asyncio
import fnmatch
import inspect
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from host.context import context_for, current_context, reset_context, use_context
from host.data.db import defer_until_commit, stage_until_commit, unit_of_work


class StoredEvent(Protocol):
    """An event as the outbox stored it (host.outbox.store.StoredEvent)."""

    @property
    def id(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def tenant(self) -> str | None: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def published_at(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event published in a transaction, not yet written: what the outbox stores for it."""

    topic: str
    payload: dict[str, Any]
    tenant: str | None
    request_id: str | None
    subscriptions: tuple[str, ...]
    """Keys of the subscriptions matching the topic at publish time: one delivery row each."""


class EventStore(Protocol):
    """The outbox as the bus writes to it (host.outbox.store.OutboxStore): the bus stays below
    the outbox, which builds on it (the relay delivers through the bus)."""

    async def write_many(
        self, events: Sequence[Outgoing], lease_until: float
    ) -> list[tuple[Any, dict[str, int]]]: ...

    async def finish(self, delivery_ids: Iterable[int]) -> None: ...

    async def fail(self, delivery_id: int, error: str, retry_at: float | None) -> None: ...


__all__ = ("BUS", "Bus", "Event", "EventHandler", "Outgoing")

log = logging.getLogger("plughost.bus")


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    payload: dict[str, Any]
    id: int
    """With the outbox: the outbox row id, the same on every delivery and in every process."""
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
    key: str = ""
    """Unique in the process and the same in every process with the same plugins: the name its
    delivery rows carry (`owner:qualname`, with `#2`... for repeats)."""

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


Claims = dict[str, int]
"""subscription key -> delivery row id leased to this process for the fast path."""
_Queued = tuple[Event, Claims | None, float]


@dataclass
class DeliveryPolicy:
    """How long a fast-path or relay claim is held, and how failures are retried."""

    lease: float = 30.0
    max_attempts: int = 8
    backoff: float = 1.0
    max_backoff: float = 300.0

    def retry_at(self, attempts: int, now: float) -> float | None:
        """When to try again after `attempts` failures; None: give up (dead letter)."""
        if attempts >= self.max_attempts:
            return None
        delay: float = min(self.backoff * 2.0 ** max(0, attempts - 1), self.max_backoff)
        return now + delay


class Bus:
    def __init__(self, history: int = 200, concurrency: int = 8) -> None:
        self.concurrency = concurrency
        self._subs: list[Subscription] = []
        self._queues: dict[str, asyncio.Queue[_Queued | None]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._ids = itertools.count(1)
        self.recent: deque[Event] = deque(maxlen=history)
        self.failures: deque[HandlerFailure] = deque(maxlen=history)
        self.delivered = 0
        self._listeners: list[Callable[[Event], None]] = []
        self.store: EventStore | None = None
        self.policy = DeliveryPolicy()
        self._done: list[int] = []
        self.nudge: Callable[[], None] = lambda: None
        """Set by the relay: look for claimable deliveries now (e.g. dead letters put back)."""
        self.finished: Callable[[], None] = lambda: None
        """Set by the relay: a delivery finished; record it soon (batched)."""

    # subscribing ----------------------------------------------------------------------------
    def subscribe(self, pattern: str, handler: EventHandler, *, owner: str = "") -> None:
        sub = Subscription(pattern, handler, owner)
        taken = {s.key for s in self._subs}
        key, n = sub.name[:190], 1
        while key in taken:
            n += 1
            key = f"{sub.name[:180]}#{n}"
        sub.key = key
        self._subs.append(sub)

    def subscriptions(self) -> list[Subscription]:
        return list(self._subs)

    def subscription(self, key: str) -> Subscription | None:
        return next((s for s in self._subs if s.key == key), None)

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Observe every event (the admin's live view), from this process and, through the
        relay, from every other; returns an unsubscribe call."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # publishing -----------------------------------------------------------------------------
    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        ctx = current_context()
        tenant = ctx.tenant if ctx else None
        request_id = ctx.request_id if ctx else None
        if self.store is None:
            event = Event(topic, payload, next(self._ids), time.time(), tenant, request_id, self)
            if not defer_until_commit(lambda: self._enqueue(event, None, 0.0)):
                self._enqueue(event, None, 0.0)
            return
        keys = tuple(s.key for s in self._subs if s.matches(topic))
        outgoing = Outgoing(topic, payload, tenant, request_id, keys)
        if stage_until_commit(self._write_staged, outgoing):
            return
        async with unit_of_work():  # one commit for the event and its deliveries
            stage_until_commit(self._write_staged, outgoing)

    async def _write_staged(self, events: list[Outgoing]) -> None:
        """Write a transaction's events and their deliveries (just before its COMMIT), and
        queue them for the fast path once it has committed."""
        store, lease = self.store, self.policy.lease
        if store is None:  # detached from the outbox since (shutdown): in-memory only
            fallback = [
                Event(
                    e.topic, e.payload, next(self._ids), time.time(), e.tenant, e.request_id, self
                )
                for e in events
            ]
            defer_until_commit(lambda: self._enqueue_all([(e, None) for e in fallback], 0.0))
            return
        written = await store.write_many(events, time.time() + lease)
        # the fast path gives up a little before the lease ends, leaving the rest to the relay
        deadline = time.monotonic() + lease * 0.8
        queued = [(self.event_of(stored), claims) for stored, claims in written]
        defer_until_commit(lambda: self._enqueue_all(queued, deadline))

    def _enqueue_all(self, queued: Sequence[tuple[Event, Claims | None]], deadline: float) -> None:
        for event, claims in queued:
            self._enqueue(event, claims, deadline)

    def event_of(self, stored: StoredEvent) -> Event:
        return Event(
            stored.topic,
            stored.payload,
            stored.id,
            stored.published_at,
            stored.tenant,
            stored.request_id,
            self,
        )

    def observe(self, event: Event) -> None:
        """Show an event to observers (recent list, listeners); never delivers it."""
        self.recent.append(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("bus listener failed", extra={"event_id": event.id})

    def _enqueue(self, event: Event, claims: Claims | None, deadline: float) -> None:
        self.observe(event)
        if claims is not None and not claims:
            return
        if not any(s.matches(event.topic) for s in self._subs):
            return
        queue = self._queues.get(event.topic)
        if queue is None:
            queue = self._queues[event.topic] = asyncio.Queue()
            self._tasks[event.topic] = asyncio.get_running_loop().create_task(
                self._deliver_loop(queue), name=f"bus:{event.topic}"
            )
        queue.put_nowait((event, claims, deadline))

    async def _deliver_loop(self, queue: asyncio.Queue[_Queued | None]) -> None:
        """Start the topic's events in publish order, up to `concurrency` at a time: one slow
        handler call no longer holds the whole topic back (under load a strictly serial topic ran
        seconds behind). Redelivery never kept a strict order anyway."""
        slots = asyncio.Semaphore(self.concurrency)
        running: set[asyncio.Task[None]] = set()
        while True:
            item = await queue.get()
            if item is None:
                await asyncio.gather(*running, return_exceptions=True)
                queue.task_done()
                return
            await slots.acquire()
            task = asyncio.get_running_loop().create_task(self._deliver_one(item, slots, queue))
            running.add(task)
            task.add_done_callback(running.discard)

    async def _deliver_one(
        self, item: _Queued, slots: asyncio.Semaphore, queue: asyncio.Queue[_Queued | None]
    ) -> None:
        try:
            await self._deliver(*item)
        finally:
            slots.release()
            queue.task_done()

    async def _deliver(self, event: Event, claims: Claims | None, deadline: float) -> None:
        for sub in [s for s in self._subs if s.matches(event.topic)]:
            if claims is None:
                await self.run_handler(sub, event)
                continue
            delivery = claims.get(sub.key)
            if delivery is None or time.monotonic() > deadline:
                continue  # subscribed after the event, or too late: the relay has it
            await self.run_claimed(sub, event, delivery, attempts=1)

    async def run_claimed(
        self, sub: Subscription, event: Event, delivery: int, attempts: int
    ) -> None:
        """Run a handler for a delivery this process holds, then record the outcome."""
        error = await self.run_handler(sub, event)
        if error is None:
            self._done.append(delivery)
            self.finished()
            return
        if self.store is None:
            return
        retry_at = self.policy.retry_at(attempts, time.time())
        if retry_at is None:
            log.error(
                "bus handler gave up: dead letter",
                extra={"topic": event.topic, "handler": sub.key, "event_id": event.id},
            )
        try:
            await self.store.fail(delivery, error, retry_at)
        except Exception:  # the lease runs out and the relay tries again
            log.exception("could not record a failed delivery", extra={"delivery": delivery})

    async def run_handler(self, sub: Subscription, event: Event) -> str | None:
        """Call one handler; None when it succeeded, else the error (logged, isolated).

        The handler runs in the event's tenant (what it reads and writes of tenant-scoped models
        is that tenant's), whichever task delivers it; an event published outside any tenant is
        handled outside any tenant too (scoped models then refuse to be used)."""
        ctx = None if event.tenant is None else context_for(event.tenant, event.request_id)
        token = use_context(ctx)
        try:
            result = sub.handler(event)
            if inspect.isawaitable(result):
                await result
            self.delivered += 1
            return None
        except Exception as exc:
            log.exception(
                "bus handler failed",
                extra={"topic": event.topic, "handler": sub.name, "event_id": event.id},
            )
            self.failures.append(HandlerFailure(event.topic, sub.name, repr(exc), time.time()))
            return repr(exc)
        finally:
            reset_context(token)

    async def flush(self) -> None:
        """Record the deliveries finished since the last flush (one UPDATE for all of them)."""
        if not self._done or self.store is None:
            return
        done, self._done = self._done, []
        try:
            await self.store.finish(done)
        except Exception:  # unrecorded: redelivered after the lease (handlers are idempotent)
            log.exception("could not record finished deliveries", extra={"count": len(done)})

    # lifecycle ------------------------------------------------------------------------------
    async def join(self) -> None:
        """Wait until every event published so far has been handled (tests, shutdown)."""
        while any(q._unfinished_tasks for q in self._queues.values()):  # type: ignore[attr-defined]
            await asyncio.gather(*(q.join() for q in list(self._queues.values())))

    async def close(self) -> None:
        await self.join()
        await self.flush()
        for queue in self._queues.values():
            queue.put_nowait(None)
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._queues.clear()
        self._tasks.clear()


BUS = web.AppKey("bus", Bus)
