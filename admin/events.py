"""Events page: the latest bus events of every process (read from the outbox), the dead letters
(deliveries that used up their attempts) with a retry button, and a live stream of new events
(Server-Sent Events; the relay brings other processes' events to this one)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from admin.auth import current_user
from admin.render import page
from admin.state import MAIN_APP
from host.bus import BUS, Event
from host.drain import track_stream
from host.outbox.store import OutboxStore, StoredEvent

__all__ = ("event_row", "sse_response", "web_routes")

web_routes = web.RouteTableDef()
HEARTBEAT_SECONDS = 15.0


def event_row(event: Event | StoredEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "topic": event.topic,
        "payload": json.dumps(event.payload, default=str, sort_keys=True),
        "at": datetime.fromtimestamp(event.published_at, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "tenant": event.tenant or "",
        "request_id": event.request_id or "",
    }


@web_routes.get("/events")
async def events_page(request: web.Request) -> web.StreamResponse:
    bus = request.app[MAIN_APP][BUS]
    topic = request.query.get("topic", "")
    store = bus.store
    if not isinstance(store, OutboxStore):
        rows = [event_row(e) for e in reversed(bus.recent) if topic in e.topic]
        dead: list[dict[str, Any]] = []
    else:
        rows = [event_row(e) for e in await store.latest(topic, 200)]
        dead = [_dead_row(d) for d in await store.dead_letters()]
    return page(request, "events.html", {"events": rows[:200], "topic": topic, "dead": dead})


def _dead_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "event_id": row["event_id"],
        "topic": row["topic"],
        "subscription": row["subscription"],
        "attempts": row["attempts"],
        "error": row["last_error"] or "",
        "at": datetime.fromtimestamp(float(row["due_at"]), UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "payload": row["payload"],
        "tenant": row.get("tenant") or "",
    }


@web_routes.post("/events/dead-letters/retry")
async def retry_dead_letters(request: web.Request) -> web.StreamResponse:
    """Put one dead letter (form field `delivery`) or all of them back in the queue, due now."""
    current_user(request)
    bus = request.app[MAIN_APP][BUS]
    form = await request.post()
    raw = str(form.get("delivery", ""))
    if isinstance(bus.store, OutboxStore):
        await bus.store.retry_dead(int(raw) if raw.isdigit() else None)
        bus.nudge()
    raise web.HTTPSeeOther("/admin/events#dead-letters")


async def sse_response(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    track_stream(request.app[MAIN_APP], response)  # ended when the process drains (SIGTERM)
    return response


async def send_event(response: web.StreamResponse, data: Any, event: str = "message") -> None:
    payload = json.dumps(data, default=str)
    await response.write(f"event: {event}\ndata: {payload}\n\n".encode())


@web_routes.get("/events/stream")
async def events_stream(request: web.Request) -> web.StreamResponse:
    """New bus events as they are published (the bus's listener hook), until the client leaves."""
    bus = request.app[MAIN_APP][BUS]
    queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)

    def listener(event: Event) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a slow browser drops events, not the bus
            queue.put_nowait(event)

    remove = bus.add_listener(listener)
    try:
        response = await sse_response(request)
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            await send_event(response, event_row(event), "bus")
    except ConnectionResetError:  # the browser went away
        pass
    finally:
        remove()
    return response
