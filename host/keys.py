"""Typed keys for what the app object holds (aiohttp `AppKey`s, never string keys).

Values are set once in `create_app`; what changes while serving is a mutable holder behind the key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:  # the AppKey type arguments below are strings, read by type checkers only
    from host.auth import Authenticator  # noqa: F401
    from host.bus import Bus  # noqa: F401
    from host.config import Settings  # noqa: F401
    from host.loader import PluginRegistry  # noqa: F401
    from host.metrics import Metrics  # noqa: F401
    from host.pipeline import Pipeline  # noqa: F401


SETTINGS = web.AppKey["Settings"]("settings")
REGISTRY = web.AppKey["PluginRegistry"]("plugins")
BUS = web.AppKey["Bus"]("bus")
AUTH = web.AppKey["Authenticator"]("auth")
PIPELINE = web.AppKey["Pipeline"]("pipeline")
METRICS = web.AppKey["Metrics"]("metrics")

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
# name -> check; components add theirs (the gateway adds "routes")
HEALTH = web.AppKey("health_checks", dict[str, HealthCheck])

# set by host.jobs.install: `await app[ASYNC_BATCH](request, items, enclosing)` stores a parsed
# batch (host.batch.model.BatchItem list) as a job and answers 202 + Location; the batch endpoint
# calls it for `?async=true` or `Prefer: respond-async`
AsyncBatchSubmit = Callable[[Any, list[Any], bool], Awaitable[web.StreamResponse]]
ASYNC_BATCH: web.AppKey[AsyncBatchSubmit] = web.AppKey("async_batch")
