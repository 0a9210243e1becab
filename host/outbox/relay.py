"""The relay: every process runs one; it delivers what the fast path left, and feeds observers.

Every poll interval (or when nudged) it claims due deliveries of the subscriptions this process has
(competing with the other processes' relays: a row lock with SKIP LOCKED, so one event runs a
subscription once cluster-wide), runs them and records the outcome. Nothing another process just
published is claimable (the publisher holds it for its fast path), so a PostgreSQL `NOTIFY` (sent
when a publishing transaction commits) only wakes the cheap part: reading the events other
processes committed, for this process's observers. Deliveries finished here are recorded in
batches by a separate small task (one UPDATE per batch, not one per event). Old finished events
are pruned now and then. Polling alone is enough for correctness; the wake-ups make it prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from host.bus import Bus
from host.outbox.store import NOTIFY_CHANNEL, OutboxStore, StoredEvent

__all__ = ("Relay",)

log = logging.getLogger("plughost.bus")

TAIL_LIMIT = 500
GAP_SECONDS = 30.0
"""How long an id skipped by the tail is looked for again (a transaction that committed late)."""
PRUNE_EVERY = 60.0


class Relay:
    def __init__(
        self,
        bus: Bus,
        store: OutboxStore,
        *,
        poll: float = 1.0,
        batch: int = 50,
        concurrency: int = 8,
        retention: float = 86_400.0,
        listen_dsn: str | None = None,
    ) -> None:
        self.bus, self.store = bus, store
        self.poll, self.batch, self.retention = poll, batch, retention
        self.listen_dsn = listen_dsn
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._claim_now = False
        self._flush_wake = asyncio.Event()
        self._flush_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._listen_task: asyncio.Task[None] | None = None
        self._cursor = 0
        self._gaps: dict[int, float] = {}
        self._pruned_at = time.monotonic()
        self.rounds = 0

    async def start(self) -> None:
        self._cursor = await self.store.last_id()
        self.bus.nudge = self._nudge
        self.bus.finished = self._flush_wake.set
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        self._flush_task = asyncio.create_task(self._flusher(), name="outbox-flush")
        if self.listen_dsn:
            self._listen_task = asyncio.create_task(self._listen(), name="outbox-listen")

    async def stop(self) -> None:
        """Finish what this process holds, record it, and stop claiming new work."""
        self._stopping = True
        self._wake.set()
        if self._listen_task is not None:
            self._listen_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listen_task
        if self._task is not None:
            await self._task
        if self._flush_task is not None:
            self._flush_wake.set()
            await self._flush_task
        await self.bus.join()
        await self.bus.flush()
        self.bus.nudge = lambda: None
        self.bus.finished = lambda: None

    def _nudge(self) -> None:
        self._claim_now = True
        self._wake.set()

    async def _flusher(self) -> None:
        while not self._stopping:
            await self._flush_wake.wait()
            await asyncio.sleep(0.05)  # gather a batch
            self._flush_wake.clear()
            await self.bus.flush()

    # the loop -------------------------------------------------------------------------------
    async def _run(self) -> None:
        next_claim = 0.0
        while not self._stopping:
            busy = False
            try:
                if self._claim_now or time.monotonic() >= next_claim:
                    self._claim_now = False
                    busy = await self.claim_round()
                    next_claim = time.monotonic() + (0 if busy else self.poll)
                busy = await self._tail() >= TAIL_LIMIT or busy
                if time.monotonic() - self._pruned_at > PRUNE_EVERY:
                    self._pruned_at = time.monotonic()
                    pruned = await self.store.prune(time.time() - self.retention)
                    if pruned:
                        log.info("outbox pruned", extra={"events": pruned})
            except Exception:
                log.exception("outbox relay round failed")
                next_claim = time.monotonic() + self.poll
            if self._stopping:  # set by stop() while this round awaited
                return  # type: ignore[unreachable]
            if not busy:
                wait = max(0.0, next_claim - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()
            await asyncio.sleep(0.01)  # coalesce a burst of wake-ups into one round

    async def claim_round(self) -> bool:
        """Claim and run due deliveries; True when there may be more right away."""
        self.rounds += 1
        keys = [s.key for s in self.bus.subscriptions()]
        claims = await self.store.claim(keys, self.bus.policy.lease, self.batch)
        if claims:
            events = await self.store.events(c.event_id for c in claims)
            await asyncio.gather(*(self._deliver(c, events.get(c.event_id)) for c in claims))
            await self.bus.flush()
        return len(claims) >= self.batch

    async def _deliver(self, claim: Any, stored: StoredEvent | None) -> None:
        sub = self.bus.subscription(claim.subscription)
        if stored is None or sub is None:  # pruned meanwhile, or unsubscribed: nothing to run
            self.bus._done.append(claim.id)
            return
        async with self._slots:
            await self.bus.run_claimed(sub, self.bus.event_of(stored), claim.id, claim.attempts)

    async def _tail(self) -> int:
        """Show other processes' new events to observers; returns how many rows were read."""
        now = time.monotonic()
        self._gaps = {i: t for i, t in self._gaps.items() if now - t < GAP_SECONDS}
        ids, foreign = await self.store.after(self._cursor, sorted(self._gaps)[:500], TAIL_LIMIT)
        for event_id in ids:
            self._gaps.pop(event_id, None)
            if event_id > self._cursor:
                if event_id - self._cursor < 1000:  # ids skipped: maybe still uncommitted
                    for missing in range(self._cursor + 1, event_id):
                        self._gaps.setdefault(missing, now)
                self._cursor = event_id
            stored = foreign.get(event_id)
            if stored is not None:  # our own were shown at commit
                self.bus.observe(self.bus.event_of(stored))
        return len(ids)

    # PostgreSQL LISTEN ------------------------------------------------------------------------
    async def _listen(self) -> None:
        """Keep a LISTEN connection open (reconnecting with backoff); each NOTIFY wakes the loop."""
        import asyncpg

        dsn = (self.listen_dsn or "").replace("postgres://", "postgresql://", 1)
        delay = 0.5
        while not self._stopping:
            conn = None
            try:
                conn = await asyncpg.connect(dsn)
                await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
                delay = 0.5
                self._wake.set()  # catch up on what was committed while not listening
                while not self._stopping and not conn.is_closed():
                    await asyncio.sleep(1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox LISTEN connection failed: %r; polling meanwhile", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
