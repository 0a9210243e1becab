"""The one hook between the batch endpoint and the jobs component.

The batch endpoint answers `?async=true` (or `Prefer: respond-async`) by calling `app[ASYNC_BATCH]`,
which the jobs component sets; batch never imports jobs, so jobs can build on batch's parser.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

__all__ = ("ASYNC_BATCH", "AsyncBatchSubmit")

AsyncBatchSubmit = Callable[[Any, list[Any], bool], Awaitable[web.StreamResponse]]
"""`await submit(request, items, enclosing)` stores a parsed batch as a job; answers 202 + Location."""
ASYNC_BATCH: web.AppKey[AsyncBatchSubmit] = web.AppKey("async_batch")
