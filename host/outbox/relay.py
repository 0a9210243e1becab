"""The relay: every process runs one; it delivers what the fast path left, and feeds observers.

Each round it (1) records the deliveries the fast path finished, (2) claims due deliveries of the
subscriptions this process has (competing with the other processes' relays: a row lock with
SKIP LOCKED, so one event runs a subscription once cluster-wide), runs them and records the
outcome, (3) reads events other processes committed and shows them to this process's observers,
and now and then (4) prunes old finished events. It sleeps until the poll interval passes or it is
woken: by PostgreSQL `NOTIFY` (sent by the publishing transaction when it commits) or by this
process's own bus. Polling alone is enough for correctness; the wake-up only makes it prompt.
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
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._listen_task: asyncio.Task[None] | None = None
        self._cursor = 0
        self._gaps: dict[int, float] = {}
        self._pruned_at = time.monotonic()
        self.rounds = 0

    async def start(self) -> None:
        self._cursor = await self.store.last_id()
        self.bus.nudge = self._wake.set
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
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
        await self.bus.join()
        await self.bus.flush()
        self.bus.nudge = lambda: None

    # the loop -------------------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            try:
                busy = await self.round()
            except Exception:
                log.exception("outbox relay round failed")
                busy = False
            if self._stopping:
                return
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)
            self._wake.clear()
            await asyncio.sleep(0.01)  # coalesce a burst of wake-ups into one round

    async def round(self) -> bool:
        """One pass; True when there may be more work right away."""
        self.rounds += 1
        await self.bus.flush()
        keys = [s.key for s in self.bus.subscriptions()]
        claims = await self.store.claim(keys, self.bus.policy.lease, self.batch)
        if claims:
            events = await self.store.events(c.event_id for c in claims)
            await asyncio.gather(*(self._deliver(c, events.get(c.event_id)) for c in claims))
            await self.bus.flush()
        tailed = await self._tail()
        if time.monotonic() - self._pruned_at > PRUNE_EVERY:
            self._pruned_at = time.monotonic()
            pruned = await self.store.prune(time.time() - self.retention)
            if pruned:
                log.info("outbox pruned", extra={"events": pruned})
        return len(claims) >= self.batch or tailed >= TAIL_LIMIT

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
        rows = await self.store.after(self._cursor, sorted(self._gaps)[:500], TAIL_LIMIT)
        for stored in rows:
            self._gaps.pop(stored.id, None)
            if stored.id > self._cursor:
                if stored.id - self._cursor < 1000:  # ids skipped: maybe still uncommitted
                    for missing in range(self._cursor + 1, stored.id):
                        self._gaps.setdefault(missing, now)
                self._cursor = stored.id
            if stored.origin != self.store.identity:  # our own were shown at commit
                self.bus.observe(self.bus.event_of(stored))
        return len(rows)

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
