"""Database: one Tortoise connection ("default") shared by the host and every plugin.

Each plugin is its own Tortoise app (label = plugin name) on that one connection, so models may
point at another plugin's and one transaction can span them all (see shared notes on Tortoise).
`unit_of_work` is the transaction the pipeline opens around every state-changing call; it keeps
the work to run after commit (bus events) and drops it on rollback. It also keeps rows *staged*
for the commit (the bus's outbox rows): they are written just before the outermost COMMIT, all of
one kind in one statement, so a batch of 100 items pays two INSERTs for its events, not 200.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiosqlite
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.models import Model
from tortoise.transactions import in_transaction

from host.data import sqlite as sqlite_engine
from host.data.folding import FoldingConnection
from host.problems import Problem

__all__ = (
    "CONNECTION",
    "DB_INT_MAX",
    "close_db",
    "db_int",
    "defer_until_commit",
    "get_or_404",
    "in_unit_of_work",
    "init_db",
    "stage_until_commit",
    "tortoise_config",
    "unit_of_work",
    "unstorable_value",
)

M = TypeVar("M", bound=Model)
T = TypeVar("T")
log = logging.getLogger("plughost.db")
CONNECTION = "default"

AfterCommit = Callable[[], None]
StagedWriter = Callable[[list[T]], Awaitable[None]]
"""Writes every value staged for it in one transaction, inside that transaction (before COMMIT)."""


@dataclass(slots=True)
class _Unit:
    """What one unit of work (or savepoint) holds until its outcome is known."""

    after_commit: list[AfterCommit] = field(default_factory=list)
    staged: list[tuple[StagedWriter[Any], Any]] = field(default_factory=list)
    transaction: Any = None
    """The outermost unit's Tortoise transaction client, until a nested unit looks at it."""
    folding: FoldingConnection | None = None
    """SQLite: the transaction's connection; nested units are savepoints sent with the next
    statement and left on the stack (`_stacked_savepoint`)."""
    savepoints: list[str] = field(default_factory=list)
    """Savepoints of nested units still on the stack, oldest first."""

    def nested_savepoints(self) -> FoldingConnection | None:
        """The FoldingConnection for units nested in this one; None: Tortoise's savepoints.
        Installed when the first nested unit opens, so a transaction without one (a single
        request) runs its statements through aiosqlite's connection untouched."""
        if self.folding is None and self.transaction is not None:
            self.folding = _folding(self.transaction)
            self.transaction = None  # looked at once
        return self.folding

    def join(self, parent: _Unit) -> None:
        parent.after_commit.extend(self.after_commit)
        parent.staged.extend(self.staged)

    async def write_staged(self) -> None:
        """Hand each writer its values, in staging order; one call per writer. A writer may
        defer after-commit work (it lands in this unit) or, rarely, stage more (written next)."""
        while self.staged:
            staged, self.staged = self.staged, []
            by_writer: dict[StagedWriter[Any], list[Any]] = {}
            for writer, value in staged:
                by_writer.setdefault(writer, []).append(value)
            for writer, values in by_writer.items():
                await writer(values)


_unit: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar("plughost_unit", default=None)


def tortoise_config(db_url: str, apps: Iterable[tuple[str, list[str]]]) -> dict[str, Any]:
    """Tortoise config: the given (label, model modules) apps plus aerich's bookkeeping app.

    A `sqlite://` URL runs on plughost's SQLite engine (host.data.sqlite), which lets a batch
    lane run one-row INSERTs on the loop's thread (host.data.folding)."""
    connection: str | dict[str, Any] = db_url
    if db_url.startswith("sqlite:"):
        connection = {**expand_db_url(db_url), "engine": sqlite_engine.__name__}
    config: dict[str, Any] = {
        "connections": {CONNECTION: connection},
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

    Work deferred and rows staged inside a nested unit join its parent's when the nested unit
    succeeds and are dropped when it fails (its savepoint rolled back), so only the outermost
    unit writes the staged rows, just before its COMMIT, and runs the work after it. A staged
    write that fails fails the commit: the transaction rolls back, nothing of it is kept.
    """
    parent = _unit.get()
    unit = _Unit()
    token = _unit.set(unit)
    try:
        if parent is None:
            async with in_transaction(CONNECTION) as transaction:
                unit.transaction = transaction
                yield
                await unit.write_staged()
        elif (folding := parent.nested_savepoints()) is not None:
            unit.folding = folding
            async with _stacked_savepoint(parent, folding):
                yield
        else:
            async with in_transaction(CONNECTION):
                yield
    except BaseException:
        _unit.reset(token)
        raise
    _unit.reset(token)
    if parent is not None:
        unit.join(parent)
        return
    for work in unit.after_commit:
        try:
            work()
        except Exception:
            log.exception("after-commit work failed")


_MAX_STACKED = 64
"""Savepoints left on SQLite's stack under one unit before they are released in one statement."""
_savepoint_names = itertools.count(1)


def _folding(transaction: Any) -> FoldingConnection | None:
    """On SQLite, put a FoldingConnection in the transaction client's place (host.data.folding)."""
    real = getattr(transaction, "_connection", None)
    if not isinstance(real, aiosqlite.Connection):
        return None  # PostgreSQL (or a client that keeps it elsewhere): Tortoise's savepoints
    if transaction is not connections.get(CONNECTION):
        return None  # inside a transaction opened with Tortoise's in_transaction: its client runs
        # the statements, and its savepoints are Tortoise's
    # plughost's engine: begun BEGIN IMMEDIATE, on a connection the loop's thread may use
    inline = isinstance(transaction, sqlite_engine.ImmediateTransaction)
    folding = FoldingConnection(real, inline=inline)
    transaction._connection = folding
    return folding


@asynccontextmanager
async def _stacked_savepoint(parent: _Unit, folding: FoldingConnection) -> AsyncIterator[None]:
    """A nested unit on SQLite: a savepoint sent with the unit's first statement (none if the unit
    runs none), and ROLLBACK TO it on failure. On success it is released at once when that costs
    no round trip (`FoldingConnection.release_now`: on the loop's thread), else left on the stack.

    Each statement is a round trip to SQLite's thread, and a batch item (a unit nested in its
    lane's transaction) runs few: SAVEPOINT and RELEASE were two in three. A savepoint left on
    the stack changes nothing that a client can see: ROLLBACK TO a later one still undoes only
    what came after it, ROLLBACK TO an earlier one (an atomicity group) also cancels the later
    ones, and COMMIT commits them all. The stack is kept short (each page write checks every
    open savepoint): the parent releases its children's savepoints in one RELEASE every
    `_MAX_STACKED`.
    """
    conn = connections.get(CONNECTION)
    if len(parent.savepoints) >= _MAX_STACKED:
        await conn.execute_query(f"RELEASE {parent.savepoints[0]}")  # and every later one
        parent.savepoints.clear()
    name = f"plughost_{next(_savepoint_names)}"
    folding.open(name)
    parent.savepoints.append(name)
    try:
        yield
    except BaseException:
        if folding.forget(name):  # never sent: nothing ran after it
            parent.savepoints.remove(name)
        else:
            await conn.execute_query(f"ROLLBACK TO {name}")
        raise
    if folding.release_now(name):
        parent.savepoints.remove(name)


def defer_until_commit(work: AfterCommit) -> bool:
    """Queue `work` for after the current unit of work commits; False when there is none."""
    unit = _unit.get()
    if unit is None:
        return False
    unit.after_commit.append(work)
    return True


def stage_until_commit(writer: StagedWriter[T], value: T) -> bool:
    """Stage `value` for `writer`, which the outermost unit of work calls once, with every value
    staged for it, just before it commits; False when there is no unit of work.

    For rows that must commit with the change but that nothing reads before the commit (the
    outbox): one multi-row INSERT instead of one round trip per row. On SQLite every statement
    is a hop to the database thread, which is most of what a batch item costs.
    """
    unit = _unit.get()
    if unit is None:
        return False
    unit.staged.append((writer, value))
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
    return _unit.get() is not None


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
