"""Prometheus metrics, in a registry owned by the app (no process-global registry)."""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import AsyncIterator, Callable, Iterable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ("LAG_INTERVAL", "METRICS", "Metrics", "loop_lag_probe")


LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HttpStats(Collector):
    """HTTP calls by method, route template and status class, and their latency by route.

    Counted in plain dicts on the event loop and turned into Prometheus families when scraped:
    prometheus_client's `labels()` and per-value locks cost more than a trivial request's handler,
    and every count here happens on the one event-loop thread (so no lock is needed)."""

    def __init__(self) -> None:
        self._calls: dict[tuple[str, str, int], int] = {}  # (method, route, status) -> count
        self._latency: dict[str, list[float]] = {}  # route -> [bucket counts..., +Inf, sum]

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)  # the status class is worked out when scraped, not here
        calls = self._calls
        if key in calls:
            calls[key] += 1
        elif len(calls) < 10_000:  # never unbounded, whatever clients send
            calls[key] = 1
        else:
            return
        series = self._latency.get(route)
        if series is None:
            series = self._latency[route] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        series[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        series[-1] += seconds

    def collect(self) -> Iterable[Metric]:
        calls = CounterMetricFamily(
            "plughost_http_requests",
            "HTTP requests answered, by method, route template and status class",
            labels=["method", "route", "status"],
        )
        by_class: dict[tuple[str, str, str], int] = {}
        for (method, route, status), count in list(self._calls.items()):
            key = (method, route, _STATUS_CLASS[status // 100] if status < 600 else "5xx")
            by_class[key] = by_class.get(key, 0) + count
        for (method, route, status_class), count in by_class.items():
            calls.add_metric([method, route, status_class], count)
        yield calls
        latency = HistogramMetricFamily(
            "plughost_http_request_duration_seconds",
            "Time to answer an HTTP request",
            labels=["route"],
        )
        for route, series in list(self._latency.items()):
            cumulative: list[tuple[str, float]] = []
            running = 0.0
            bounds: tuple[float, ...] = (*LATENCY_BUCKETS, float("inf"))
            for bound, in_bucket in zip(bounds, series, strict=False):
                running += in_bucket
                cumulative.append((_bound(bound), running))
            latency.add_metric([route], cumulative, sum_value=series[-1])
        yield latency


_STATUS_CLASS = ("0xx", "1xx", "2xx", "3xx", "4xx", "5xx")


def _bound(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(value)


LAG_INTERVAL = 0.25
"""Seconds between two event-loop lag samples."""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http = HttpStats()
        self.registry.register(self.http)
        self.plugins = Gauge(
            "plughost_plugins", "Plugins by status", ["status"], registry=self.registry
        )
        self.bus_events = Counter(
            "plughost_bus_events",
            "Events delivered by the bus (after commit), by topic",
            ["topic"],
            registry=self.registry,
        )
        self.batch_items = Counter(
            "plughost_batch_items",
            "Batch items run, by status class",
            ["status"],
            registry=self.registry,
        )
        self.job_items = Counter(
            "plughost_job_items",
            "Job item runs, by the state each ended in (done, failed, queued for a retry, lost)",
            ["state"],
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


METRICS = web.AppKey("metrics", Metrics)


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
