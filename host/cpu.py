"""CPU-heavy work off the event loop, in one small bounded thread pool.

An argon2 check takes ~125 ms of CPU; on the loop, eight clients sending wrong passwords pushed
`/healthz` to seconds. Work sent here runs in at most `THREADS` threads: argon2 releases the GIL
(its C code runs through cffi), so those checks run truly in parallel with the loop; pure-Python work
(parsing and planning a 10,000-item batch) still shares the GIL, but the interpreter switches threads
every few milliseconds, so the loop keeps answering instead of stalling for the whole job. The pool is
bounded so that a flood of logins queues here instead of starting hundreds of threads.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ("THREADS", "run_cpu")

THREADS = max(2, min(4, os.cpu_count() or 1))
P = ParamSpec("P")
R = TypeVar("R")

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="plughost-cpu")
        return _pool


async def run_cpu(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`fn(*args, **kwargs)` in the CPU pool, with the caller's context variables."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_executor(), call)
