"""The outbox's SQL: write events with their deliveries, claim, finish, fail, tail, prune.

Raw SQL (one text for both dialects, `?` placeholders rewritten to `$n` for PostgreSQL) because the
claim must be one statement: `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`
lets any number of processes compete for deliveries without two of them taking the same row. On
SQLite (one writer at a time) the same statement without the lock clause is already atomic.
Every query goes through `connections.get`, so inside a unit of work it joins that transaction.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise import connections

from host.bus import Outgoing
from host.data.db import CONNECTION

__all__ = ("Claim", "OutboxStore", "StoredEvent", "process_identity")

log = logging.getLogger("plughost.bus")

NOTIFY_CHANNEL = "plughost_outbox"
_ROWS = 500
"""Rows per multi-row INSERT: 6 values each stays far below both databases' parameter limits
(32,766 on SQLite, 32,767 on PostgreSQL), also for a 10,000-item enclosingTransaction batch."""
_PLACEHOLDER = re.compile(r"\?")


def process_identity() -> str:
    """host:pid:nonce; the nonce tells a restarted process (same pid in a container) apart."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    topic: str
    payload: dict[str, Any]
    tenant: str | None
    request_id: str | None
    published_at: float
    origin: str


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery this process holds: run `subscription` on `event_id`, then finish or fail it."""

    id: int
    event_id: int
    subscription: str
    attempts: int


def _row_event(row: dict[str, Any]) -> StoredEvent:
    try:
        payload = json.loads(row["payload"])
    except (TypeError, ValueError):
        payload = {"_unreadable": str(row["payload"])[:200]}
    return StoredEvent(
        id=int(row["id"]),
        topic=str(row["topic"]),
        payload=payload if isinstance(payload, dict) else {"value": payload},
        tenant=row["tenant"],
        request_id=row["request_id"],
        published_at=float(row["published_at"]),
        origin=str(row["origin"]),
    )


_EVENT_COLUMNS = "id, topic, payload, tenant, request_id, published_at, origin"


class OutboxStore:
    """SQL for one database; `dialect` is Tortoise's name for it (sqlite, postgres)."""

    def __init__(self, dialect: str, identity: str) -> None:
        self.dialect = dialect
        self.identity = identity
        self.postgres = dialect == "postgres"

    def _sql(self, text: str) -> str:
        if not self.postgres:
            return text
        counter = iter(range(1, 10_000))
        return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", text)

    async def _query(self, text: str, values: Sequence[Any] = ()) -> list[dict[str, Any]]:
        conn = connections.get(CONNECTION)
        return list(await conn.execute_query_dict(self._sql(text), list(values)))

    async def _execute(self, text: str, values: Sequence[Any] = ()) -> int:
        conn = connections.get(CONNECTION)
        count, _ = await conn.execute_query(self._sql(text), list(values))
        return int(count)

    # writing --------------------------------------------------------------------------------
    async def write_many(
        self, events: Sequence[Outgoing], lease_until: float
    ) -> list[tuple[StoredEvent, dict[str, int]]]:
        """Insert events and their deliveries (leased to this process for the fast path): one
        multi-row INSERT for the events and one for the deliveries (per `_ROWS` rows).

        Runs in the caller's transaction (the bus calls it just before the commit); on PostgreSQL
        it also queues a NOTIFY, which the server sends only if that transaction commits.
        Returns each event as stored, with its claims (subscription -> delivery id), in order.
        """
        now = time.time()
        texts = [json.dumps(e.payload, default=str, separators=(",", ":")) for e in events]
        ids: list[int] = []
        for start in range(0, len(events), _ROWS):
            ids += await self._insert_events(
                events[start : start + _ROWS], texts[start : start + _ROWS], now
            )
        wanted = [
            (event_id, name)
            for event_id, e in zip(ids, events, strict=True)
            for name in e.subscriptions
        ]
        claims: dict[int, dict[str, int]] = {event_id: {} for event_id in ids}
        for start in range(0, len(wanted), _ROWS):
            marks = ", ".join("(?, ?, 'running', 1, ?, ?)" for _ in wanted[start : start + _ROWS])
            params: list[Any] = []
            for event_id, name in wanted[start : start + _ROWS]:
                params += [event_id, name, lease_until, self.identity]
            rows = await self._query(
                "INSERT INTO host_outbox_delivery (event_id, subscription, state, attempts, "
                f"due_at, claimed_by) VALUES {marks} RETURNING id, event_id, subscription",
                params,
            )
            for r in rows:
                claims[int(r["event_id"])][str(r["subscription"])] = int(r["id"])
        return [
            (
                StoredEvent(
                    event_id, e.topic, e.payload, e.tenant, e.request_id, now, self.identity
                ),
                claims[event_id],
            )
            for event_id, e in zip(ids, events, strict=True)
        ]

    async def _insert_events(
        self, events: Sequence[Outgoing], texts: Sequence[str], now: float
    ) -> list[int]:
        """The ids of the inserted events, in the order given.

        A multi-row INSERT's RETURNING rows come in no promised order, so each row is matched to
        its event by what was written (topic, payload, tenant, request id): rows that agree on all
        of it are the same event to every reader, and which of them gets which id is immaterial.
        Equal rows are matched in id order, which is insertion order on both databases.
        """
        marks = ", ".join("(?, ?, ?, ?, ?, ?)" for _ in events)
        values: list[Any] = []
        waiting: dict[tuple[Any, ...], deque[int]] = {}
        for n, (e, text) in enumerate(zip(events, texts, strict=True)):
            values += [e.topic, text, e.tenant, e.request_id, now, self.identity]
            waiting.setdefault((e.topic, text, e.tenant, e.request_id), deque()).append(n)
        insert = (
            "INSERT INTO host_outbox_event (topic, payload, tenant, request_id, published_at, "
            f"origin) VALUES {marks} RETURNING id, topic, payload, tenant, request_id"
        )
        if self.postgres:
            insert = (
                f"WITH e AS ({insert}) SELECT id, topic, payload, tenant, request_id, "
                f"pg_notify('{NOTIFY_CHANNEL}', '') FROM e"
            )
        rows = await self._query(insert, values)
        ids = [0] * len(events)
        for r in sorted(rows, key=lambda r: int(r["id"])):
            key = (r["topic"], r["payload"], r["tenant"], r["request_id"])
            ids[waiting[key].popleft()] = int(r["id"])
        return ids

    # claiming and finishing -----------------------------------------------------------------
    async def claim(self, subscriptions: Sequence[str], lease: float, limit: int) -> list[Claim]:
        """Take up to `limit` due deliveries of these subscriptions (pending, or lease expired)."""
        if not subscriptions:
            return []
        now = time.time()
        marks = ", ".join("?" for _ in subscriptions)
        lock = " FOR UPDATE SKIP LOCKED" if self.postgres else ""
        rows = await self._query(
            "UPDATE host_outbox_delivery SET state = 'running', attempts = attempts + 1, "
            "due_at = ?, claimed_by = ? WHERE id IN (SELECT id FROM host_outbox_delivery "
            "WHERE state IN ('pending', 'running') AND due_at <= ? "
            f"AND subscription IN ({marks}) ORDER BY id LIMIT ?{lock}) "
            "RETURNING id, event_id, subscription, attempts",
            [now + lease, self.identity, now, *subscriptions, limit],
        )
        claims = [
            Claim(int(r["id"]), int(r["event_id"]), str(r["subscription"]), int(r["attempts"]))
            for r in rows
        ]
        return sorted(claims, key=lambda c: c.id)

    async def finish(self, delivery_ids: Iterable[int]) -> None:
        ids = list(delivery_ids)
        if not ids:
            return
        marks = ", ".join("?" for _ in ids)
        await self._execute(
            f"UPDATE host_outbox_delivery SET state = 'done', done_at = ?, last_error = NULL "
            f"WHERE id IN ({marks}) AND claimed_by = ? AND state = 'running'",
            [time.time(), *ids, self.identity],
        )

    async def fail(self, delivery_id: int, error: str, retry_at: float | None) -> None:
        """Back to pending until `retry_at`, or dead when None (no attempts left)."""
        state, due = ("pending", retry_at) if retry_at is not None else ("dead", time.time())
        await self._execute(
            "UPDATE host_outbox_delivery SET state = ?, due_at = ?, last_error = ? "
            "WHERE id = ? AND claimed_by = ? AND state = 'running'",
            [state, due, error[:2000], delivery_id, self.identity],
        )

    async def retry_dead(self, delivery_id: int | None = None) -> int:
        """Dead letters back to pending, due now, with a fresh count of attempts."""
        where, values = "state = 'dead'", [time.time()]
        if delivery_id is not None:
            where, values = where + " AND id = ?", [*values, delivery_id]
        return await self._execute(
            f"UPDATE host_outbox_delivery SET state = 'pending', attempts = 0, due_at = ? "
            f"WHERE {where}",
            values,
        )

    # reading --------------------------------------------------------------------------------
    async def events(self, ids: Iterable[int]) -> dict[int, StoredEvent]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        rows = await self._query(
            f"SELECT {_EVENT_COLUMNS} FROM host_outbox_event WHERE id IN ({marks})", wanted
        )
        return {int(r["id"]): _row_event(r) for r in rows}

    async def last_id(self) -> int:
        rows = await self._query("SELECT MAX(id) AS m FROM host_outbox_event")
        return int(rows[0]["m"] or 0) if rows else 0

    async def after(
        self, cursor: int, gaps: Sequence[int], limit: int
    ) -> tuple[list[int], dict[int, StoredEvent]]:
        """The ids of events above `cursor` plus those in `gaps` (committed late, below the
        cursor), in order, and the events among them that other processes published.

        This process's own events are only counted, not read: its observers saw them at commit,
        and reading back a batch's hundred events (their payloads parsed) cost it a share of
        its time."""
        where, values = "(id > ?", [cursor]
        if gaps:
            where += f" OR id IN ({', '.join('?' for _ in gaps)})"
            values += list(gaps)
        rows = await self._query(
            f"SELECT id, origin FROM host_outbox_event WHERE {where}) ORDER BY id LIMIT ?",
            [*values, limit],
        )
        ids = [int(r["id"]) for r in rows]
        foreign = [int(r["id"]) for r in rows if r["origin"] != self.identity]
        return ids, await self.events(foreign)

    async def latest(self, topic: str = "", limit: int = 200) -> list[StoredEvent]:
        """Newest first, every process's events (the admin Events page)."""
        where, values = "", []
        if topic:
            where, values = "WHERE topic LIKE ?", [f"%{topic}%"]
        rows = await self._query(
            f"SELECT {_EVENT_COLUMNS} FROM host_outbox_event {where} ORDER BY id DESC LIMIT ?",
            [*values, limit],
        )
        return [_row_event(r) for r in rows]

    async def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        return await self._query(
            "SELECT d.id, d.event_id, d.subscription, d.attempts, d.last_error, d.due_at, "
            "e.topic, e.payload, e.tenant FROM host_outbox_delivery d JOIN host_outbox_event e "
            "ON e.id = d.event_id WHERE d.state = 'dead' ORDER BY d.id DESC LIMIT ?",
            [limit],
        )

    async def counts(self) -> dict[str, int]:
        rows = await self._query(
            "SELECT state, COUNT(*) AS n FROM host_outbox_delivery "
            "WHERE state IN ('pending', 'running', 'dead') GROUP BY state"
        )
        out = {"pending": 0, "running": 0, "dead": 0}
        out.update({str(r["state"]): int(r["n"]) for r in rows})
        return out

    async def prune(self, older_than: float, limit: int = 5000) -> int:
        """Delete old events none of whose deliveries is still open (dead letters are kept)."""
        return await self._execute(
            "DELETE FROM host_outbox_event WHERE id IN (SELECT e.id FROM host_outbox_event e "
            "WHERE e.published_at < ? AND NOT EXISTS (SELECT 1 FROM host_outbox_delivery d "
            "WHERE d.event_id = e.id AND d.state <> 'done') ORDER BY e.id LIMIT ?)",
            [older_than, limit],
        )
