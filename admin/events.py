"""Events page: the latest bus events, and a live stream of new ones (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from admin.render import page
from admin.state import MAIN_APP
from host.bus import BUS, Event

__all__ = ("event_row", "sse_response", "web_routes")

web_routes = web.RouteTableDef()
HEARTBEAT_SECONDS = 15.0


def event_row(event: Event) -> dict[str, Any]:
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
    rows = [event_row(e) for e in reversed(bus.recent) if topic in e.topic]
    return page(request, "events.html", {"events": rows[:200], "topic": topic})


async def sse_response(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
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
