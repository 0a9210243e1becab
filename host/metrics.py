"""Prometheus metrics, in a registry owned by the app (no process-global registry)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ("METRICS", "Metrics")


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

        # label children by (method, route, status class): `labels()` costs a lock and a dict
        # lookup with tuple building on every call; the set of routes is small and fixed
        self._answered: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, started: float) -> None:
        """Count one answered HTTP call by route template, and time it."""
        key = (method, route, status // 100)
        children = self._answered.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, f"{status // 100}xx"),
                self.latency.labels(route),
            )
            if len(self._answered) < 10_000:  # never unbounded, whatever clients send
                self._answered[key] = children
        children[0].inc()
        children[1].observe(time.perf_counter() - started)

    def render(self) -> bytes:
        return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)
