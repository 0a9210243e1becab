"""Prometheus metrics, in a registry owned by the app (no process-global registry)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ("LAG_INTERVAL", "Metrics", "loop_lag_probe")

LAG_INTERVAL = 0.25
"""Seconds between two event-loop lag samples."""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "plughost_http_requests",
            "HTTP requests answered, by method, route template and status class",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "plughost_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.plugins = Gauge(
            "plughost_plugins", "Plugins by status", ["status"], registry=self.registry
        )
        self.bus_events = Counter(
            "plughost_bus_events", "Events published on the bus", ["topic"], registry=self.registry
        )
        self.batch_items = Counter(
            "plughost_batch_items",
            "Batch items run, by status class",
            ["status"],
            registry=self.registry,
        )

        self._lag_max = 0.0
        self.loop_lag = Gauge(
            "plughost_event_loop_lag_seconds",
            "How late the event loop ran a timer in the last sample (anything that blocks the "
            "loop shows here: every request waits that long)",
            registry=self.registry,
        )
        self.loop_lag_max = Gauge(
            "plughost_event_loop_lag_max_seconds",
            "The largest event-loop lag seen since the process started",
            registry=self.registry,
        )
        self.loop_lag_samples = Counter(
            "plughost_event_loop_lag_samples",
            "Event-loop lag samples taken",
            registry=self.registry,
        )

    def observe_lag(self, lag: float) -> None:
        lag = max(0.0, lag)
        self.loop_lag.set(lag)
        self.loop_lag_samples.inc()
        if lag > self._lag_max:
            self._lag_max = lag
            self.loop_lag_max.set(lag)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def loop_lag_probe(
    get_metrics: web.AppKey[Metrics], interval: float = LAG_INTERVAL
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A `cleanup_ctx` entry sampling event-loop lag: sleep `interval`, measure how late it woke."""

    async def probe(app: web.Application) -> AsyncIterator[None]:
        metrics = app[get_metrics]

        async def sample() -> None:
            loop = asyncio.get_running_loop()
            while True:
                started = loop.time()
                await asyncio.sleep(interval)
                metrics.observe_lag(loop.time() - started - interval)

        task = asyncio.create_task(sample(), name="plughost-loop-lag")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return probe
