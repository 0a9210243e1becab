"""Schema migrations: aerich-format files per app, one folder per SQL dialect, applied under a lock.

Every table-owning app (the host's own apps and each plugin) keeps its history in
`<migrations_dir>/sqlite/` and `<migrations_dir>/postgres/`, because aerich's SQL is dialect-specific.
Files are aerich's format (`upgrade(db) -> str`, `downgrade`, `MODELS_STATE`, `RUN_IN_TRANSACTION`)
and bookkeeping is aerich's `aerich` table (one row per applied file and app), so aerich's own
tools keep working on a plughost database. The runner is ours instead of `aerich.Command.upgrade`:

- it serialises concurrent runs (PostgreSQL advisory lock; on SQLite an fcntl lock file beside
  the database), which aerich does not;
- on SQLite it runs each statement inside the transaction (aiosqlite's `executescript` commits
  first, so a failing migration would otherwise leave half its statements applied);
- an error names the plugin and the file;
- it handles one app at a time without aerich's class-global `Migrate` state.

Files are made by `plughost makemigrations` (host/data/makemigrations.py); see docs/migrations.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import sqlite3
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from aerich.migrate import MIGRATE_TEMPLATE
from aerich.models import Aerich
from aerich.utils import (
    decompress_dict,
    get_formatted_compressed_data,
    get_models_describe,
    import_py_file,
)
from aiohttp import web
from tortoise import BaseDBAsyncClient, Tortoise, connections
from tortoise.models import Model
from tortoise.transactions import in_transaction

from host.data.db import CONNECTION

__all__ = (
    "DIALECTS",
    "TABLE_APPS",
    "MigrationError",
    "MigrationFile",
    "TableOwner",
    "applied_versions",
    "apply_migrations",
    "create_tables_sql",
    "dialect_of",
    "migration_files",
    "migration_status",
    "migration_text",
)


class TableOwner(Protocol):
    """What migrations need of an app that owns tables; `host.Plugin` is one. The data layer
    depends on this shape, not on the plugin contract (which sits above it)."""

    @property
    def name(self) -> str: ...

    @property
    def requires(self) -> Sequence[str]: ...

    @property
    def models_module(self) -> str | None: ...

    @property
    def migrations_dir(self) -> Path | None: ...


log = logging.getLogger("plughost.migrate")

DIALECTS = ("sqlite", "postgres")
"""Folder names under a plugin's migrations dir; equal to Tortoise's schema generator DIALECT."""

PG_LOCK_KEY = int.from_bytes(b"plughost", "big")  # fits a signed bigint (first byte < 0x80)
FILE_NAME = re.compile(r"^(\d+)_[A-Za-z0-9_]+\.py$")


class MigrationError(Exception):
    """A migration cannot be made or applied; the message names the plugin and the file."""


@dataclass(frozen=True)
class MigrationFile:
    number: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


def migration_files(folder: Path | None) -> list[MigrationFile]:
    """The migration files in one dialect folder, ordered by their leading number."""
    if folder is None or not folder.is_dir():
        return []
    found: dict[int, MigrationFile] = {}
    for path in folder.iterdir():
        match = FILE_NAME.match(path.name)
        if not match or not path.is_file():
            continue
        number = int(match.group(1))
        if number in found:
            raise MigrationError(
                f"{folder}: two migrations numbered {number}: {found[number].name}, {path.name}"
            )
        found[number] = MigrationFile(number, path)
    return [found[n] for n in sorted(found)]


def dialect_of(client: BaseDBAsyncClient) -> str:
    return str(client.schema_generator.DIALECT)


def dialect_dir(plugin: TableOwner, dialect: str) -> Path | None:
    base = plugin.migrations_dir
    return base / dialect if base is not None else None


def app_models(label: str) -> list[type[Model]]:
    """The models Tortoise registered for one app label (empty when the app is not configured)."""
    apps = Tortoise.apps
    if apps is None or label not in apps:
        return []
    return list(apps[label].values())


# schema SQL for a subset of models ---------------------------------------------------------------
def _table_sql_in_fk_order(
    client: BaseDBAsyncClient, models: Sequence[type[Model]], safe: bool
) -> list[dict[str, Any]]:
    generator = client.schema_generator(client)
    wanted = {m._meta.db_table for m in models}
    tables = [generator._get_table_sql(m, safe) for m in models]
    ordered: list[dict[str, Any]] = []
    created: set[str] = set()
    while tables:
        ready = next(
            (t for t in tables if (t["references"] & wanted) <= created | {t["table"]}), None
        )
        if ready is None:
            raise MigrationError(
                "cyclic foreign keys between " + ", ".join(sorted(t["table"] for t in tables))
            )
        tables.remove(ready)
        created.add(ready["table"])
        ordered.append(ready)
    return ordered


def create_tables_sql(client: BaseDBAsyncClient, models: Sequence[type[Model]], safe: bool) -> str:
    """CREATE TABLE (and index, m2m) SQL for exactly these models, in FK order.

    Tortoise's `get_schema_sql` (used by aerich's init) covers every model on the connection; this
    covers one app's, so a plugin's first migration holds its own tables only. References to tables
    outside the set (another plugin's) are taken as existing.
    """
    tables = _table_sql_in_fk_order(client, models, safe)
    m2m = [sql for t in tables for sql in t["m2m_tables"]]
    return "\n".join([t["table_creation_string"] for t in tables] + m2m)


def drop_tables_sql(client: BaseDBAsyncClient, models: Sequence[type[Model]]) -> str:
    """The reverse of `create_tables_sql`: m2m tables first, then the models in reverse FK order."""
    through = [
        f'DROP TABLE IF EXISTS "{table}";'
        for m in models
        for field in m._meta.fields_map.values()
        if (table := getattr(field, "through", None)) and not getattr(field, "_generated", False)
    ]
    tables = _table_sql_in_fk_order(client, models, safe=True)
    drops = [f'DROP TABLE IF EXISTS "{t["table"]}";' for t in reversed(tables)]
    return "\n".join(through + drops)


def migration_text(upgrade_sql: str, downgrade_sql: str, models_state: dict[str, Any]) -> str:
    """A migration file in aerich's format, with the SQL escaped for a Python string literal.

    aerich pastes SQL into a triple-quoted string as is; Tortoise escapes `/` in SQLite comments
    with a backslash, which Python then reports as an invalid escape (an error under `-W error`).
    """

    def literal(sql: str) -> str:
        return sql.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')

    return MIGRATE_TEMPLATE.format(
        upgrade_sql=literal(upgrade_sql),
        downgrade_sql=literal(downgrade_sql),
        models_state=get_formatted_compressed_data(models_state),
    )


def import_migration(path: Path) -> ModuleType:
    """Import a migration file; files written by plain aerich may hold invalid escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return import_py_file(path)


def split_statements(script: str) -> list[str]:
    """Split SQL into statements on `;` boundaries that SQLite itself deems complete."""
    out: list[str] = []
    buf = ""
    for part in script.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip().rstrip(";").strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip().rstrip(";").strip():
        out.append(buf.strip())
    return out


async def run_script(client: BaseDBAsyncClient, sql: str, dialect: str) -> None:
    if dialect == "sqlite":
        for statement in split_statements(sql):
            await client.execute_query(statement)
    elif sql.strip():
        await client.execute_script(sql)


# locking ------------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def migration_lock(client: BaseDBAsyncClient, dialect: str) -> AsyncIterator[None]:
    """Serialise migration runs across processes sharing the database."""
    if dialect == "postgres":
        async with client.acquire_connection() as raw:
            await raw.execute(f"SELECT pg_advisory_lock({PG_LOCK_KEY})")
            try:
                yield
            finally:
                await raw.execute(f"SELECT pg_advisory_unlock({PG_LOCK_KEY})")
        return
    filename = str(getattr(client, "filename", "") or "")
    if dialect != "sqlite" or not filename or ":memory:" in filename or "mode=memory" in filename:
        yield
        return
    lock_path = Path(filename).with_name(Path(filename).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


async def applied_versions(app: str) -> set[str]:
    """The migration files aerich's table records as applied for `app`."""
    # flat=True gives the versions themselves, whatever Tortoise's stub says
    rows: list[Any] = await Aerich.filter(app=app).values_list("version", flat=True)
    return {str(v) for v in rows}


# applying -----------------------------------------------------------------------------------------
async def apply_migrations(
    config: dict[str, Any],
    plugins: Iterable[TableOwner],
    *,
    dev: bool = False,
    then: Callable[[], Awaitable[object]] | None = None,
) -> list[str]:
    """Apply pending migrations of every app, in the given (dependency) order; Tortoise is inited.

    Returns the applied files as "<app>/<file>". A plugin with models but no migrations for the
    database's dialect gets its tables created in dev mode (with a warning); otherwise it is an
    error naming the plugin. Any failure raises MigrationError naming the plugin and the file.
    `then` runs while the lock is still held (first-admin creation: two hosts starting together
    must not both create it).
    """
    client = Tortoise.get_connection(CONNECTION)
    dialect = dialect_of(client)
    applied: list[str] = []
    async with migration_lock(client, dialect):
        await run_script(client, create_tables_sql(client, [Aerich], safe=True), dialect)
        for plugin in plugins:
            for name in await _apply_plugin(client, dialect, plugin, dev=dev):
                applied.append(f"{plugin.name}/{name}")
        if then is not None:
            await then()
    return applied


async def _apply_plugin(
    client: BaseDBAsyncClient, dialect: str, plugin: TableOwner, *, dev: bool
) -> list[str]:
    folder = dialect_dir(plugin, dialect)
    files = migration_files(folder)
    models = app_models(plugin.name) if plugin.models_module else []
    if not files:
        if not models:
            return []
        hint = f"run `plughost makemigrations {plugin.name}`"
        if not dev:
            raise MigrationError(
                f"plugin {plugin.name!r} has models but no {dialect} migrations in {folder}; {hint}"
            )
        log.warning(
            "plugin %s has no migrations: creating its tables directly (dev mode); %s",
            plugin.name,
            hint,
            extra={"plugin": plugin.name, "dialect": dialect},
        )
        await run_script(client, create_tables_sql(client, models, safe=True), dialect)
        return []
    done = await applied_versions(plugin.name)
    applied: list[str] = []
    for file in files:
        if file.name in done:
            continue
        await apply_file(client, dialect, plugin.name, file.path)
        log.info(
            "applied migration %s/%s",
            plugin.name,
            file.name,
            extra={"plugin": plugin.name, "file": file.name, "_plain_text": True},
        )
        applied.append(file.name)
    return applied


async def apply_file(client: BaseDBAsyncClient, dialect: str, app: str, path: Path) -> None:
    """Run one migration file and record it in the `aerich` table, atomically when it allows."""
    try:
        module = import_migration(path)
        state_text = getattr(module, "MODELS_STATE", None)
        state = decompress_dict(state_text) if state_text else get_models_describe(app)
        if getattr(module, "RUN_IN_TRANSACTION", True):
            async with in_transaction(CONNECTION) as conn:
                await run_script(conn, await module.upgrade(conn), dialect)
                await Aerich.create(version=path.name, app=app, content=state, using_db=conn)
        else:
            try:
                await run_script(client, await module.upgrade(client), dialect)
            except Exception:
                if dialect == "sqlite":  # a file that opened its own transaction (a table rebuild)
                    await _undo_sqlite_script(client)
                raise
            await Aerich.create(version=path.name, app=app, content=state)
    except Exception as exc:
        raise MigrationError(
            f"plugin {app!r}: migration {path} failed: {type(exc).__name__}: {exc}"
        ) from exc


async def _undo_sqlite_script(client: BaseDBAsyncClient) -> None:
    """Roll back the transaction a non-transactional file began itself and turn foreign keys
    back on (a SQLite table rebuild switches them off around its own transaction)."""
    with contextlib.suppress(Exception):  # no transaction open: nothing to roll back
        await client.execute_query("ROLLBACK")
    await client.execute_query("PRAGMA foreign_keys = ON")


async def migration_status(apps: Iterable[TableOwner]) -> dict[str, dict[str, list[str]]]:
    """Applied and pending migration files per table-owning app, in the order given.

    Read-only: the files in each app's folder for this database's dialect, against aerich's
    bookkeeping table, as `plughost migrate` compares them."""
    dialect = dialect_of(connections.get(CONNECTION))
    out: dict[str, dict[str, list[str]]] = {}
    for plugin in apps:
        if not plugin.models_module:
            continue
        files = [f.name for f in migration_files(dialect_dir(plugin, dialect))]
        done = await applied_versions(plugin.name)
        out[plugin.name] = {
            "applied": [f for f in files if f in done],
            "pending": [f for f in files if f not in done],
        }
    return out


TABLE_APPS = web.AppKey("table_apps", tuple)
"""The host's own table-owning parts, in migration order (set by `create_app`; plugins follow)."""
