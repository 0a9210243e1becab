"""Prometheus metrics, in a registry owned by the app (no process-global registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ("Metrics",)


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

    def render(self) -> bytes:
        return generate_latest(self.registry)
