"""Bench plugin for bench/scale.py: publish an event per request; its handler records the delay
from the event's outbox write to the handler, so the bench can report p50/p95 under load."""

import time

from aiohttp import web

from host import ApiRequest, Event, Plugin, Routes

from .models import Lag

v1 = Routes()


@v1.post("/benchlag/events", public=True)
async def publish(request: ApiRequest) -> web.Response:
    await request.publish("benchlag.tick", {})
    return web.json_response({}, status=201)


@v1.get("/benchlag/lags", public=True)
async def lags(request: ApiRequest) -> web.Response:
    return web.json_response(await Lag.all().values_list("lag", flat=True))


async def record(event: Event) -> None:
    await Lag.create(event_id=event.id, lag=time.time() - event.published_at)


plugin = Plugin(
    name="benchlag",
    version="1",
    models="benchlag.models",
    rest={"v1": v1},
    events={"benchlag.tick": record},
)
