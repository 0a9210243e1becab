"""Counting what the batch runner, the bus and the job runner do, into the app's Prometheus metrics.

Kept apart from those services so each of them calls one function and knows nothing of Prometheus;
an app without metrics (a bare test app, a tool) is simply not counted.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from host.bus import BUS
from host.metrics import METRICS

__all__ = ("count_batch_items", "count_bus_events", "count_job_item")


def count_batch_items(app: web.Application, statuses: Iterable[int]) -> None:
    """One batch's items by status class (`2xx`, `4xx`, ...), counted when the batch finished."""
    metrics = app.get(METRICS)
    if metrics is None:
        return
    for status in statuses:
        metrics.batch_items.labels(f"{status // 100}xx").inc()


def count_job_item(app: web.Application, state: str) -> None:
    """A job item ran and ended in `state`: done, failed, queued (to be retried) or lost."""
    metrics = app.get(METRICS)
    if metrics is not None:
        metrics.job_items.labels(state).inc()


def count_bus_events(app: web.Application) -> None:
    """Count every event the bus delivers (published outside a transaction, or committed)."""
    metrics, bus = app.get(METRICS), app.get(BUS)
    if metrics is None or bus is None:
        return
    counter = metrics.bus_events
    bus.add_listener(lambda event: counter.labels(event.topic).inc())
