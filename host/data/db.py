"""Database: one Tortoise connection ("default") shared by the host and every plugin.

Each plugin is its own Tortoise app (label = plugin name) on that one connection, so models may
point at another plugin's and one transaction can span them all (see shared notes on Tortoise).
`unit_of_work` is the transaction the pipeline opens around every state-changing call; it keeps
the work to run after commit (bus events) and drops it on rollback.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.models import Model
from tortoise.transactions import in_transaction

from host.problems import Problem

__all__ = (
    "CONNECTION",
    "DB_INT_MAX",
    "close_db",
    "db_int",
    "defer_until_commit",
    "get_or_404",
    "init_db",
    "tortoise_config",
    "unit_of_work",
    "unstorable_value",
)

M = TypeVar("M", bound=Model)
log = logging.getLogger("plughost.db")
CONNECTION = "default"

AfterCommit = Callable[[], None]
_after_commit: contextvars.ContextVar[list[AfterCommit] | None] = contextvars.ContextVar(
    "plughost_after_commit", default=None
)


def tortoise_config(db_url: str, apps: Iterable[tuple[str, list[str]]]) -> dict[str, Any]:
    """Tortoise config: the given (label, model modules) apps plus aerich's bookkeeping app."""
    config: dict[str, Any] = {
        "connections": {CONNECTION: db_url},
        "apps": {
            label: {"models": modules, "default_connection": CONNECTION} for label, modules in apps
        },
        "use_tz": True,
        "timezone": "UTC",
    }
    config["apps"]["aerich"] = {"models": ["aerich.models"], "default_connection": CONNECTION}
    return config


async def init_db(config: dict[str, Any]) -> TortoiseContext:
    """Initialise Tortoise; keep the returned context to close it with `close_db`.

    The global fallback makes the models usable from tasks that did not inherit the start-up task's
    context (aiohttp's clean-up, pytest fixture teardown, worker loops).
    """
    # Tortoise caches INSERT statements per connection *name*, not per dialect: a process that
    # opens "default" on SQLite and later on PostgreSQL (tests, makemigrations) would reuse SQLite SQL
    EXECUTOR_CACHE.clear()
    return await Tortoise.init(config=config, _enable_global_fallback=True)


async def close_db(context: TortoiseContext | None = None) -> None:
    """Close every connection; by the context object, since clean-up may run in another task."""
    if context is not None:
        await context.close_connections()
    else:
        await Tortoise.close_connections()


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[None]:
    """A transaction (a savepoint when nested) whose after-commit work runs only if it commits.

    Work deferred inside a nested unit joins its parent's list when the nested unit succeeds and is
    dropped when it fails, so only the outermost commit releases it.
    """
    pending: list[AfterCommit] = []
    token = _after_commit.set(pending)
    try:
        async with in_transaction(CONNECTION):
            yield
    except BaseException:
        _after_commit.reset(token)
        raise
    _after_commit.reset(token)
    parent = _after_commit.get()
    if parent is not None:
        parent.extend(pending)
        return
    for work in pending:
        try:
            work()
        except Exception:
            log.exception("after-commit work failed")


def defer_until_commit(work: AfterCommit) -> bool:
    """Queue `work` for after the current unit of work commits; False when there is none."""
    pending = _after_commit.get()
    if pending is None:
        return False
    pending.append(work)
    return True


DB_INT_MAX = 2**31 - 1
"""The largest value every supported database stores in an integer column (PostgreSQL's int4;
SQLite's are 64-bit). Ids, offsets and filters beyond it can match nothing."""


def db_int(raw: str) -> int | None:
    """A client-sent id as an int the database can take, or None when it cannot be one.

    Only ASCII digits count: `str.isdigit` accepts '²' (which `int` then refuses) and `int` reads
    Arabic-Indic or fullwidth digits, so `/clients/٣` would be client 3.
    """
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if value <= DB_INT_MAX else None


def unstorable_value(exc: BaseException) -> bool:
    """True for the errors a client's value causes in the driver: too long for its column (Tortoise
    validates filters too), a number out of the column's range (SQLite: OverflowError; PostgreSQL:
    asyncpg DataError, which Tortoise wraps in OperationalError), a NUL character in text."""
    from tortoise.exceptions import OperationalError
    from tortoise.exceptions import ValidationError as FieldValidationError

    if isinstance(exc, FieldValidationError | OverflowError):
        return True
    if isinstance(exc, OperationalError):
        try:
            from asyncpg.exceptions import DataError
        except ImportError:  # pragma: no cover - asyncpg ships with tortoise-orm[asyncpg]
            return False
        return isinstance(exc.__cause__, DataError)
    return False


def in_unit_of_work() -> bool:
    return _after_commit.get() is not None


async def get_or_404(model: type[M], /, *related: str, **filters: Any) -> M:
    """The one row matching `filters` (with `related` fetched), or a 404 problem naming it.

    `await get_or_404(Client, "office", id=7)` → "Client with identifier 7 does not exist"."""
    row = await model.get_or_none(**filters)
    if row is None:
        what = ", ".join(f"{k}={v}" for k, v in filters.items())
        if list(filters) == ["id"]:
            what = f"identifier {filters['id']}"
        raise Problem(404, f"{_label(model)} with {what} does not exist")
    if related:
        await row.fetch_related(*related)
    return row


def _label(model: type[Model]) -> str:
    """`SavingsAccount` -> "Savings account" (or the model's Meta.label when it has one)."""
    label = getattr(model._meta, "label", None)
    if isinstance(label, str) and label:
        return label
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", model.__name__)
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else model.__name__
