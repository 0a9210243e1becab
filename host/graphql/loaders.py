"""A small per-request DataLoader: many `load(key)` calls in one tick become one batch call.

GraphQL resolves `clients { loans }` field by field; without batching, each client's `loans` would be
one query (N+1). Resolvers call `await loader.load(client.id)`; the loader gathers the keys asked
for while the executor starts the sibling resolvers and calls the batch function once with all of
them. Results are cached per loader, and a loader lives for one request only (no stale data, no
cross-tenant leaks).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from tortoise.models import Model

__all__ = ("BatchFn", "DataLoader", "children_by")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BatchFn = Callable[[list[K]], Awaitable[Sequence[V]]]
"""Takes distinct keys, returns one value per key in the same order (e.g. a list per client id)."""


class DataLoader(Generic[K, V]):
    def __init__(self, batch_fn: BatchFn[K, V], *, max_batch: int = 1000) -> None:
        self._batch_fn = batch_fn
        self._max_batch = max_batch
        self._cache: dict[K, asyncio.Future[V]] = {}
        self._queue: list[K] = []
        self._tasks: set[asyncio.Task[None]] = set()  # strong references while dispatching
        self.batches = 0
        """How many times the batch function ran (tests and metrics)."""

    def load(self, key: K) -> asyncio.Future[V]:
        future = self._cache.get(key)
        if future is not None:
            return future
        loop = asyncio.get_running_loop()
        future = self._cache[key] = loop.create_future()
        self._queue.append(key)
        if len(self._queue) == 1:
            # two hops: let every sibling resolver that was started in this tick enqueue its key
            loop.call_soon(self._start_dispatch, loop)
        return future

    def _start_dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        task = loop.create_task(self._dispatch())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def load_many(self, keys: Sequence[K]) -> list[V]:
        return list(await asyncio.gather(*(self.load(k) for k in keys)))

    async def _dispatch(self) -> None:
        queue, self._queue = self._queue, []
        for start in range(0, len(queue), self._max_batch):
            await self._run(queue[start : start + self._max_batch])

    async def _run(self, keys: list[K]) -> None:
        self.batches += 1
        try:
            values = list(await self._batch_fn(keys))
            if len(values) != len(keys):
                raise ValueError(
                    f"batch function returned {len(values)} values for {len(keys)} keys"
                )
        except Exception as exc:
            for key in keys:
                failed = self._cache.pop(key)  # dropped from the cache: a later load retries
                if not failed.done():
                    failed.set_exception(exc)
            return
        for key, value in zip(keys, values, strict=True):
            future = self._cache[key]
            if not future.done():
                future.set_result(value)


M = TypeVar("M", bound="Model")


def children_by(model: type[M], foreign_key: str) -> BatchFn[int, list[M]]:
    """A batch function for a one-to-many field: the `model` rows of each key, oldest first.

    Define it once at module level (the request's loader is found by the function itself):
    `loans_by_client = children_by(Loan, "client_id")`. For a `TenantScoped` model the query is
    the request's tenant's alone (the model's manager filters it; the loader runs in that context).
    """

    async def load(keys: list[int]) -> list[list[M]]:
        grouped: dict[int, list[M]] = defaultdict(list)
        for row in await model.filter(**{f"{foreign_key}__in": keys}).order_by("id"):
            grouped[getattr(row, foreign_key)].append(row)
        return [grouped.get(key, []) for key in keys]

    load.__qualname__ = f"{model.__name__}_by_{foreign_key}"
    return load
