"""`plughost makemigrations`: one command writes a plugin's next migration for every dialect.

For each dialect a scratch database is built (a temp SQLite file; a temp PostgreSQL database
created and dropped on a server), the existing migrations of the plugin and of what it requires
are applied there, then aerich diffs the plugin's models against the state of its last migration.
The new file is applied to the scratch database to prove it works, and only when every dialect
succeeded are the files written, under one shared name, so the dialect folders never drift apart.

A plugin's first migration is written here rather than by aerich's `init_db`, whose SQL covers
every table on the connection: ours holds only the plugin's own tables (see docs/migrations.md).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from aerich.migrate import Migrate
from aerich.models import MAX_VERSION_LENGTH
from aerich.utils import get_models_describe
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from host.data.db import CONNECTION, tortoise_config
from host.data.migrate import (
    DIALECTS,
    MigrationError,
    TableOwner,
    app_models,
    apply_file,
    apply_migrations,
    create_tables_sql,
    dialect_dir,
    drop_tables_sql,
    migration_files,
    migration_text,
)

__all__ = ("DEFAULT_PG", "MadeMigration", "make_migrations", "pg_server_url", "requirement_chain")

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
NAME_OK = "abcdefghijklmnopqrstuvwxyz0123456789_"
App = TypeVar("App", bound=TableOwner)


def pg_server_url() -> str:
    """The PostgreSQL server for scratch databases (PLUGHOST_MIGRATIONS_PG, then the test one)."""
    url = os.environ.get("PLUGHOST_MIGRATIONS_PG") or os.environ.get("PLUGHOST_TEST_PG")
    return (url or DEFAULT_PG).replace("postgresql://", "postgres://", 1)


@dataclass
class MadeMigration:
    app: str
    written: list[Path] = field(default_factory=list)
    """The files written (one per dialect); empty when the models did not change."""


def requirement_chain(target: App, known: Sequence[App]) -> list[App]:
    """The target's requirements (transitively) in dependency order, then the target itself."""
    by_name = {p.name: p for p in known}
    out: list[App] = []

    def visit(plugin: App, path: tuple[str, ...]) -> None:
        for name in plugin.requires:
            if name in path:
                raise MigrationError(f"cyclic requirement: {' -> '.join((*path, name))}")
            if name not in by_name:
                raise MigrationError(f"plugin {plugin.name!r} requires {name!r}, which is absent")
            visit(by_name[name], (*path, name))
        if plugin not in out:
            out.append(plugin)

    visit(target, (target.name,))
    return out


def _slug(name: str) -> str:
    slug = "".join(c if c in NAME_OK else "_" for c in name.lower()).strip("_")
    return slug or "update"


async def make_migrations(
    target: TableOwner,
    known: Sequence[TableOwner],
    name: str = "update",
    pg_url: str | None = None,
    base_apps: Sequence[TableOwner] = (),
    check: bool = False,
) -> MadeMigration:
    """Write the target's next migration into every dialect folder (or nothing when unchanged).

    `known` resolves the target's requirements; `base_apps` (the host's apps) are always present
    at run time, so a plugin's models may point at them without listing them in `requires`.
    The SQLite file is always proven on a scratch file; the PostgreSQL one is rendered offline
    (aerich's DDL classes need a dialect, not a server) unless `check` asks for the round trip on
    a scratch PostgreSQL database.
    """
    if not target.models_module:
        raise MigrationError(f"plugin {target.name!r} declares no models")
    base = target.migrations_dir
    if base is None:
        raise MigrationError(f"plugin {target.name!r}: no migrations folder (no package dir)")
    chain = requirement_chain(target, known)
    if target not in base_apps:
        chain = [app for app in base_apps if app not in chain] + chain
    existing = {d: migration_files(base / d) for d in DIALECTS}
    names = {d: [f.name for f in files] for d, files in existing.items()}
    if len({tuple(v) for v in names.values()}) != 1:
        detail = "; ".join(f"{d}: {v or 'none'}" for d, v in names.items())
        raise MigrationError(
            f"plugin {target.name!r}: the dialect folders are out of step ({detail}); "
            "make them hold the same files before adding one"
        )
    files = existing[DIALECTS[0]]
    number = files[-1].number + 1 if files else 0
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    filename = f"0_{stamp}_init.py" if number == 0 else f"{number}_{stamp}_{_slug(name)}.py"
    if len(filename) > MAX_VERSION_LENGTH:
        raise MigrationError(f"migration name too long: {filename}")

    contents: dict[str, tuple[str, bool]] = {}
    with tempfile.TemporaryDirectory(prefix="plughost-mk-") as tmp:
        for dialect in DIALECTS:
            workdir = Path(tmp) / dialect
            if dialect != "sqlite" and not check:
                contents[dialect] = await _generate_offline(dialect, chain, filename, workdir)
                continue
            async with _scratch_database(dialect, Path(tmp), pg_url) as url:
                contents[dialect] = await _generate(url, chain, filename, workdir)
    result = MadeMigration(target.name)
    if not any(changed for _, changed in contents.values()):
        return result
    for dialect, (text, _) in contents.items():
        folder = base / dialect
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / filename
        path.write_text(text, encoding="utf-8")
        result.written.append(path)
    return result


@asynccontextmanager
async def _scratch_database(dialect: str, tmp: Path, pg_url: str | None) -> AsyncIterator[str]:
    if dialect == "sqlite":
        yield f"sqlite://{tmp / 'scratch.sqlite3'}"
        _remove_scratch_files(tmp)
        return
    import asyncpg  # the PostgreSQL driver loads only when a PostgreSQL scratch database is made

    server = pg_url or pg_server_url()
    dbname = f"plughost_mk_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise MigrationError(
            f"PostgreSQL at {server} is unreachable ({type(exc).__name__}: {exc}); makemigrations "
            "writes the sqlite and postgres files together and needs a server for a scratch "
            "database: set PLUGHOST_MIGRATIONS_PG=postgres://user@host:port/db"
        ) from exc
    try:
        await admin.execute(f'CREATE DATABASE "{dbname}"')
        try:
            yield server.rsplit("/", 1)[0] + "/" + dbname
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    finally:
        await admin.close()


def _joined(operators: list[str]) -> str:
    """aerich's layout of a diff's statements in a migration file."""
    return ";\n        ".join(operators) + ";" if operators else ""


def _remove_scratch_files(tmp: Path) -> None:
    for leftover in tmp.glob("scratch.sqlite3*"):
        leftover.unlink()


def _reset_aerich_state() -> None:
    """aerich keeps the diff's operators on the Migrate class and never clears them."""
    Migrate.upgrade_operators = []
    Migrate.downgrade_operators = []
    Migrate._upgrade_fk_m2m_index_operators = []
    Migrate._downgrade_fk_m2m_index_operators = []
    Migrate._upgrade_m2m = []
    Migrate._downgrade_m2m = []
    Migrate._rename_fields = {}
    Migrate._rename_models = {}
    Migrate._last_version_content = None


async def _generate(
    url: str, chain: list[TableOwner], filename: str, workdir: Path
) -> tuple[str, bool]:
    """Build the scratch schema, make the target's next file; returns (text, has changes)."""
    target = chain[-1]
    config = tortoise_config(url, [(p.name, [p.models_module]) for p in chain if p.models_module])
    # Tortoise caches each model's INSERT SQL by (connection name, table), not by dialect: a second
    # init on another dialect in the same process would reuse the first one's SQL.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=config)
    try:
        client = Tortoise.get_connection(CONNECTION)
        dialect = str(client.schema_generator.DIALECT)
        models = app_models(target.name)
        await apply_migrations(config, chain[:-1], dev=True)
        if migration_files(dialect_dir(target, dialect)):
            await apply_migrations(config, [target])
        if not migration_files(dialect_dir(target, dialect)):
            text = migration_text(
                create_tables_sql(client, models, safe=True),
                drop_tables_sql(client, models),
                get_models_describe(target.name),
            )
            changed = True
        else:
            _reset_aerich_state()
            # aerich reads the last state only when its folder holds the existing files
            history = workdir / target.name
            history.mkdir(parents=True, exist_ok=True)
            for file in migration_files(dialect_dir(target, dialect)):
                shutil.copy(file.path, history / file.name)
            with warnings.catch_warnings():  # aerich imports the files (see import_migration)
                warnings.simplefilter("ignore", SyntaxWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                await Migrate.init(config, target.name, str(workdir))
                label = filename[:-3].split("_", 2)[2]
                changed = bool(await Migrate.migrate(label, empty=False, no_input=True))
            # the file aerich wrote is not escaped for Python: render the same SQL ourselves
            text = migration_text(
                _joined(Migrate.upgrade_operators),
                _joined(Migrate.downgrade_operators),
                get_models_describe(target.name),
            )
            _reset_aerich_state()
        # prove the new file applies on top of the existing ones
        proof = workdir / "proof" / filename
        proof.parent.mkdir(parents=True, exist_ok=True)
        proof.write_text(text, encoding="utf-8")
        await apply_file(client, dialect, target.name, proof)
        shutil.rmtree(proof.parent)
        return text, changed
    finally:
        await Tortoise.close_connections()
        EXECUTOR_CACHE.clear()


OFFLINE_URLS = {"sqlite": "sqlite://:memory:", "postgres": "postgres://offline@127.0.0.1:9/offline"}
"""Connection URLs never opened: Tortoise connects lazily, and DDL rendering needs only the dialect."""


async def _generate_offline(
    dialect: str, chain: list[TableOwner], filename: str, workdir: Path
) -> tuple[str, bool]:
    """The target's next file for `dialect` with no server: the first one from the schema
    generator, later ones from aerich's offline diff against the MODELS_STATE of the last file."""
    target = chain[-1]
    config = tortoise_config(
        OFFLINE_URLS[dialect], [(p.name, [p.models_module]) for p in chain if p.models_module]
    )
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=config)
    try:
        client = Tortoise.get_connection(CONNECTION)
        models = app_models(target.name)
        existing = migration_files(dialect_dir(target, dialect))
        if not existing:
            text = migration_text(
                create_tables_sql(client, models, safe=True),
                drop_tables_sql(client, models),
                get_models_describe(target.name),
            )
            return text, True
        _reset_aerich_state()
        history = workdir / target.name
        history.mkdir(parents=True, exist_ok=True)
        for file in existing:
            shutil.copy(file.path, history / file.name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                await Migrate.init(config, target.name, str(workdir), offline=True)
                label = filename[:-3].split("_", 2)[2]
                changed = bool(
                    await Migrate.migrate(label, empty=False, no_input=True, offline=True)
                )
        except RuntimeError as exc:  # a last file without MODELS_STATE (written by old aerich)
            raise MigrationError(f"plugin {target.name!r}: {exc}; or run with --check") from exc
        text = migration_text(
            _joined(Migrate.upgrade_operators),
            _joined(Migrate.downgrade_operators),
            get_models_describe(target.name),
        )
        _reset_aerich_state()
        return text, changed
    finally:
        await Tortoise.close_connections()
        EXECUTOR_CACHE.clear()


async def write_initial_offline(target: TableOwner) -> list[Path]:
    """Write a plugin's first migration for every dialect without any database server.

    Tortoise opens connections lazily and the schema generator needs none, so the CREATE TABLE
    SQL can be rendered for PostgreSQL offline. Used by `plughost new-plugin` (a plugin without
    requirements); `make_migrations` is the general path.
    """
    if not target.models_module or target.migrations_dir is None:
        raise MigrationError(f"plugin {target.name!r} declares no models or has no package dir")
    if any(migration_files(target.migrations_dir / d) for d in DIALECTS):
        raise MigrationError(f"plugin {target.name!r} already has migrations")
    filename = f"0_{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}_init.py"
    texts: dict[str, str] = {}
    for dialect in DIALECTS:
        EXECUTOR_CACHE.clear()
        await Tortoise.init(
            config=tortoise_config(OFFLINE_URLS[dialect], [(target.name, [target.models_module])])
        )
        try:
            client = Tortoise.get_connection(CONNECTION)
            models = app_models(target.name)
            texts[dialect] = migration_text(
                create_tables_sql(client, models, safe=True),
                drop_tables_sql(client, models),
                get_models_describe(target.name),
            )
        finally:
            await Tortoise.close_connections()
            EXECUTOR_CACHE.clear()
    written = []
    for dialect, text in texts.items():
        folder = target.migrations_dir / dialect
        folder.mkdir(parents=True, exist_ok=True)
        (folder / filename).write_text(text, encoding="utf-8")
        written.append(folder / filename)
    return written
