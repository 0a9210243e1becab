"""Migrations through the CLI: every shipped app on SQLite and PostgreSQL, from empty and from the
previous release with rows present, concurrent runs, makemigrations, broken and missing migrations.

Everything runs `plughost` (or a small Python script) in subprocesses on temp databases: each
process initialises Tortoise once for one dialect, as the real server does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from host.app import HOST_APPS

REPO = Path(__file__).resolve().parent.parent
PLUGHOST = str(REPO / ".venv" / "bin" / "plughost")
DIALECT_URLS = ("sqlite", "postgres")
DEMO_PLUGINS = ("clients", "loans", "savings")


def _migration_dirs() -> dict[str, Path]:
    """Every table-owning app shipped in the repo (host apps, the admin UI plugin, then the demo
    plugins) → its migrations dir."""
    dirs = {app.name: app.migrations_dir for app in HOST_APPS if app.migrations_dir is not None}
    dirs["host_admin"] = REPO / "admin" / "migrations"
    for folder in sorted((REPO / "plugins").iterdir()):
        if (folder / "models.py").is_file():
            dirs[folder.name] = folder / "migrations"
    return dirs


MIGRATION_DIRS = _migration_dirs()
SHIPPED = list(MIGRATION_DIRS)


def env_for(
    tmp: Path, db_url: str = "", plugins: Path | None = None, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    env.update(
        PLUGHOST_DATA_DIR=str(tmp / "var"),
        PLUGHOST_DB_URL=db_url,
        PLUGHOST_PLUGINS_DIR=str(plugins or REPO / "plugins"),
        PLUGHOST_ROUTES_DIR=str(tmp / "routes.d"),
        PLUGHOST_ADMIN_PASSWORD="migrations-test-password",
        PLUGHOST_SECRET_KEY="migrations-test-secret-key-0123456789",
        PLUGHOST_LOG_FORMAT="text",
    )
    for key in ("PLUGHOST_TEST_PG", "PLUGHOST_MIGRATIONS_PG"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra)
    return env


def plughost(
    *args: str, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [PLUGHOST, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


PROBE = """
import asyncio, json, sys
from tortoise import Tortoise
from host.app import database_config, find_plugins, with_host_apps
from host.config import load_settings

async def main():
    settings = load_settings()
    plugins = find_plugins(settings).loaded
    await Tortoise.init(config=database_config(settings, plugins))
    try:
        conn = Tortoise.get_connection("default")
        out = {"aerich": [], "counts": {}}
        for row in await conn.execute_query_dict("SELECT app, version FROM aerich ORDER BY id"):
            out["aerich"].append([row["app"], row["version"]])
        for app in with_host_apps(plugins):
            for model in (Tortoise.apps[app.name].values() if app.name in Tortoise.apps else []):
                # selecting every column the model knows proves the schema matches the models
                cols = ", ".join(f'"{c}"' for c in model._meta.fields_db_projection.values())
                rows = await conn.execute_query_dict(f'SELECT {cols} FROM "{model._meta.db_table}"')
                out["counts"][model._meta.db_table] = len(rows)
    finally:
        await Tortoise.close_connections()
    print(json.dumps(out))

asyncio.run(main())
"""


def probe(env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def shipped_files(dialect: str, apps: list[str] = SHIPPED) -> list[list[str]]:
    """[app, file] of every shipped migration for a dialect, in apply order."""
    out = []
    for app in apps:
        folder = MIGRATION_DIRS[app] / dialect
        files = sorted(folder.glob("[0-9]*_*.py"), key=lambda p: int(p.name.split("_")[0]))
        out += [[app, f.name] for f in files]
    return out


@pytest.fixture(params=DIALECT_URLS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(dialect, url): a temp SQLite file, or a fresh PostgreSQL database (skips without PG)."""
    if request.param == "sqlite":
        return "sqlite", f"sqlite://{tmp_path / 'db.sqlite3'}"
    return "postgres", request.getfixturevalue("pg_url")


def test_shipped_migrations_exist_for_both_dialects() -> None:
    for app in ("host", *DEMO_PLUGINS):
        assert shipped_files("sqlite", [app]), f"{app} ships no migrations"
    for app in SHIPPED:  # the two dialect folders hold the same files
        sqlite = [f for _, f in shipped_files("sqlite", [app])]
        assert sqlite == [f for _, f in shipped_files("postgres", [app])], app


def test_every_app_migrates_from_empty(db: tuple[str, str], tmp_path: Path) -> None:
    dialect, url = db
    env = env_for(tmp_path, url)
    out = plughost("migrate", env=env).stdout
    expected = shipped_files(dialect)
    for app, name in expected:
        assert f"applied {app}/{name}" in out
    state = probe(env)
    assert sorted(map(tuple, state["aerich"])) == sorted(map(tuple, expected))
    assert "clients_client" in state["counts"] and "loans_loan" in state["counts"]
    again = plughost("migrate", env=env).stdout
    assert "(0 migration(s) applied)" in again


def _previous_release(tmp: Path) -> Path:
    """A copy of the plugins whose migrations stop at each app's first file (the 0.1 schema)."""
    plugins = tmp / "prev-plugins"
    shutil.copytree(
        REPO / "plugins", plugins, ignore=shutil.ignore_patterns("__pycache__", "tests")
    )
    for path in plugins.glob("*/migrations/*/*.py"):
        if not path.name.startswith("0_"):
            path.unlink()
    return plugins


FILL = """
import asyncio, sys
from tortoise import Tortoise
from host.data.db import tortoise_config
from host.config import load_settings

async def columns(conn, dialect, table):
    if dialect == "sqlite":
        rows = await conn.execute_query_dict(f'PRAGMA table_info("{table}")')
        return [(r["name"], r["type"].upper(), bool(r["notnull"]), r["dflt_value"] is not None, bool(r["pk"])) for r in rows]
    rows = await conn.execute_query_dict(
        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_name = $1 ORDER BY ordinal_position", [table])
    return [(r["column_name"], r["data_type"].upper(), r["is_nullable"] == "NO",
             r["column_default"] is not None, r["column_name"] == "id") for r in rows]

def value(name, kind):
    if name.endswith("_id") or kind.startswith(("INT", "BIGINT", "SMALLINT", "SERIAL")):
        return 1
    if "BOOL" in kind: return True
    if kind.startswith(("NUMERIC", "DECIMAL", "REAL", "DOUBLE")): return 1
    if kind.startswith("DATE"): return "2026-01-02"
    if "TIMESTAMP" in kind or "TIME" in kind: return "2026-01-02 03:04:05+00:00"
    if "JSON" in kind: return "{}"
    return "1"

async def main():
    settings = load_settings()
    await Tortoise.init(config=tortoise_config(settings.database_url, []))
    conn = Tortoise.get_connection("default")
    dialect = conn.schema_generator.DIALECT
    if dialect == "sqlite":
        tables = [r["name"] for r in await conn.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    else:
        tables = [r["tablename"] for r in await conn.execute_query_dict(
            "SELECT tablename FROM pg_tables WHERE schemaname='public'")]
    pending = [t for t in tables if t != "aerich"]
    filled = []
    while pending:  # a row per table (FKs -> id 1); retry those pointing at still-empty tables
        progress = False
        for table in list(pending):
            # required columns without a default; an integer primary key fills itself
            cols = [c for c in await columns(conn, dialect, table)
                    if c[2] and not c[3] and not (c[4] and c[1].startswith(("INT", "SERIAL")))]
            names = [c[0] for c in cols]
            marks = ", ".join(["?" if dialect == "sqlite" else f"${i + 1}" for i in range(len(cols))])
            vals = [value(c[0], c[1]) for c in cols]
            if dialect == "postgres":
                import datetime, decimal
                conv = []
                for c, v in zip(cols, vals):
                    if c[1].startswith("DATE"): v = datetime.date(2026, 1, 2)
                    elif "TIMESTAMP" in c[1]: v = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
                    elif c[1].startswith("NUMERIC"): v = decimal.Decimal(1)
                    conv.append(v)
                vals = conv
            sql = f'INSERT INTO "{table}" ({", ".join(chr(34) + n + chr(34) for n in names)}) VALUES ({marks})'
            try:
                await conn.execute_query(sql, vals)
            except Exception:
                continue
            pending.remove(table); filled.append(table); progress = True
        if not progress:
            await Tortoise.close_connections()
            sys.exit(f"cannot fill {pending}")
    await Tortoise.close_connections()
    print(" ".join(filled))

asyncio.run(main())
"""


def test_upgrade_from_previous_release_with_rows(db: tuple[str, str], tmp_path: Path) -> None:
    dialect, url = db
    old = env_for(tmp_path, url, plugins=_previous_release(tmp_path))
    plughost("migrate", env=old)
    fill = subprocess.run(
        [sys.executable, "-c", FILL], env=old, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert fill.returncode == 0, fill.stderr
    filled = fill.stdout.split()
    assert {"clients_client", "loans_loan"} <= set(filled)

    new = env_for(tmp_path, url)
    out = plughost("migrate", env=new).stdout
    # the previous release is modelled for the plugins (their later files removed); the host's
    # own apps were already at their current migrations there
    plugin_apps = {p.name for p in (tmp_path / "prev-plugins").iterdir()}
    upgrades = [
        (a, f) for a, f in shipped_files(dialect) if not f.startswith("0_") and a in plugin_apps
    ]
    assert upgrades, "the demo plugins ship at least one migration after their first"
    for app, name in upgrades:
        assert f"applied {app}/{name}" in out
    state = probe(new)
    assert sorted(map(tuple, state["aerich"])) == sorted(map(tuple, shipped_files(dialect)))
    # every filled table is still a model's and kept its rows (read with the new models)
    assert set(filled) <= set(state["counts"]), set(filled) - set(state["counts"])
    assert [t for t in filled if state["counts"][t] < 1] == []
    assert state["counts"]["clients_client"] == state["counts"]["loans_loan"] == 1


def test_concurrent_migrate_runs_apply_each_file_once(db: tuple[str, str], tmp_path: Path) -> None:
    dialect, url = db
    env = env_for(tmp_path, url)
    procs = [
        subprocess.Popen(
            [PLUGHOST, "migrate"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    for out, err, code in results:
        assert code == 0, out + err
    applied = [
        line for out, _, _ in results for line in out.splitlines() if line.startswith("applied ")
    ]
    assert len(applied) == len(shipped_files(dialect))  # split between the two, none twice
    state = probe(env)
    assert sorted(map(tuple, state["aerich"])) == sorted(map(tuple, shipped_files(dialect)))
    assert state["counts"]["host_user"] == 1  # one first admin


def _scaffold(tmp: Path, name: str, *extra: str) -> Path:
    plugins = tmp / "plugins"
    plugins.mkdir(exist_ok=True)
    plughost("new-plugin", name, "--dir", str(plugins), *extra, env=env_for(tmp, plugins=plugins))
    return plugins


def test_broken_migration_names_plugin_and_file_and_rolls_back(tmp_path: Path) -> None:
    plugins = _scaffold(tmp_path, "brk")
    bad = plugins / "brk" / "migrations" / "sqlite" / "1_20260101000000_broken.py"
    bad.write_text(
        textwrap.dedent('''
        RUN_IN_TRANSACTION = True
        async def upgrade(db):
            return """CREATE TABLE "brk_half" (id INT); CREATE TABLE "brk_bad" (;"""
        async def downgrade(db):
            return ""
        ''')
    )
    env = env_for(tmp_path, plugins=plugins)
    proc = plughost("migrate", env=env, check=False)
    assert proc.returncode == 1
    assert "'brk'" in proc.stderr and "1_20260101000000_broken.py" in proc.stderr
    assert "Traceback" not in proc.stderr
    # nothing of the failed file stayed: not its first statement (SQLite runs each statement in
    # the transaction), not its aerich row
    db = sqlite3.connect(tmp_path / "var" / "plughost.sqlite3")
    try:
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'brk_half'").fetchall()
        assert db.execute("SELECT version FROM aerich WHERE app = 'brk'").fetchall() == [
            (next((plugins / "brk" / "migrations" / "sqlite").glob("0_*.py")).name,)
        ]
    finally:
        db.close()


def test_plugin_without_migrations_dev_creates_tables_else_fails(tmp_path: Path) -> None:
    plugins = _scaffold(tmp_path, "nomig", "--no-migrations")
    strict = env_for(tmp_path, plugins=plugins, PLUGHOST_DEV="false")
    proc = plughost("migrate", env=strict, check=False)
    assert proc.returncode == 1
    assert "'nomig'" in proc.stderr and "plughost makemigrations nomig" in proc.stderr
    dev = env_for(tmp_path, plugins=plugins, PLUGHOST_DEV="true")
    proc = plughost("migrate", env=dev)
    assert "plughost makemigrations nomig" in proc.stderr  # the warning names the fix
    assert probe(dev)["counts"]["nomig_item"] == 0


def _add_field(plugins: Path, name: str, field: str) -> None:
    models = plugins / name / "models.py"
    models.write_text(models.read_text().replace("    seen = ", f"    {field}\n    seen = "))


def test_makemigrations_needs_no_server_and_check_needs_one(tmp_path: Path) -> None:
    plugins = _scaffold(tmp_path, "nopg")
    _add_field(plugins, "nopg", "extra = fields.CharField(max_length=20, null=True)")
    before = sorted(p.name for p in (plugins / "nopg" / "migrations").rglob("*.py"))
    env = env_for(
        tmp_path, plugins=plugins, PLUGHOST_MIGRATIONS_PG="postgres://nobody@127.0.0.1:9/x"
    )
    proc = plughost("makemigrations", "nopg", "--check", env=env, check=False)
    assert proc.returncode == 1
    assert "PostgreSQL at postgres://nobody@127.0.0.1:9/x is unreachable" in proc.stderr
    assert sorted(p.name for p in (plugins / "nopg" / "migrations").rglob("*.py")) == before

    out = plughost("makemigrations", "nopg", "--name", "extra", env=env).stdout
    written = re.findall(r"nopg: wrote (\S+)", out)
    assert {Path(p).parent.name for p in written} == {"sqlite", "postgres"}
    assert all('"extra"' in Path(p).read_text() for p in written)
    assert "applied nopg/1_" in plughost("migrate", env=env).stdout


@pytest.mark.pg
async def test_makemigrations_after_adding_a_field_writes_both_dialects(
    tmp_path: Path, pg_url: str
) -> None:
    plugins = _scaffold(tmp_path, "grow")
    _add_field(plugins, "grow", "note = fields.CharField(max_length=50, null=True)")
    env = env_for(tmp_path, plugins=plugins, PLUGHOST_MIGRATIONS_PG=os.environ["PLUGHOST_TEST_PG"])
    out = plughost("makemigrations", "grow", "--name", "add_note", env=env).stdout  # offline
    written = re.findall(r"grow: wrote (\S+)", out)
    assert len(written) == 2
    names = {Path(p).name for p in written}
    assert len(names) == 1 and next(iter(names)).startswith("1_")
    assert {Path(p).parent.name for p in written} == {"sqlite", "postgres"}
    for path in written:
        assert '"note"' in Path(path).read_text()
    offline = {Path(p).parent.name: Path(p).read_text() for p in written}
    for url in ("", pg_url):  # the new file applies on both databases
        db_env = env_for(tmp_path / ("pg" if url else "lite"), url, plugins=plugins)
        out = plughost("migrate", env=db_env).stdout
        assert f"applied grow/{next(iter(names))}" in out

    # the PostgreSQL round trip (--check) writes the very same file as the offline rendering
    for path in written:
        Path(path).unlink()
    out = plughost("makemigrations", "grow", "--name", "add_note", "--check", env=env).stdout
    checked = {Path(p).parent.name: Path(p).read_text() for p in re.findall(r"wrote (\S+)", out)}
    assert checked == offline


@pytest.mark.pg
def test_shipped_migrations_match_the_models(tmp_path: Path) -> None:
    """makemigrations on copies of every shipped app's migrations finds nothing to write."""
    if not os.environ.get("PLUGHOST_TEST_PG"):
        pytest.skip("PLUGHOST_TEST_PG is not set; this test needs the real service (CI sets it)")
    script = textwrap.dedent(f"""
        import asyncio, dataclasses, shutil, sys
        from pathlib import Path
        from host.app import HOST_APPS, find_plugins
        from host.config import load_settings
        from host.data.makemigrations import make_migrations
        async def main():
            known = [*HOST_APPS, *find_plugins(load_settings()).loaded]
            copies = []
            for p in known:
                if not p.models_module:
                    continue
                dest = Path({str(tmp_path)!r}) / "copies" / p.name
                shutil.copytree(p.migrations_dir, dest)
                copies.append(dataclasses.replace(p, migrations=dest))
            base = [c for c in copies if c.name in {{h.name for h in HOST_APPS}}]
            # requirements without tables (the mifos library plugin) resolve as they are
            chain = [*copies, *(p for p in known if not p.models_module)]
            for p in copies:
                made = await make_migrations(p, chain, name="check", base_apps=base)
                print(p.name, [str(w) for w in made.written])
        asyncio.run(main())
    """)
    env = env_for(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line]
    assert {line.split()[0] for line in lines} >= {"host", *DEMO_PLUGINS}, proc.stdout
    assert all(line.endswith("[]") for line in lines), proc.stdout


def test_migration_text_escapes_sql_for_python() -> None:
    """Tortoise writes `\\/` in SQLite comments; the file must import cleanly under -W error."""
    import asyncio
    import types
    import warnings

    from host.data.migrate import migration_text, split_statements

    sql = 'CREATE TABLE "x" (a INT) /* first\\/last """ q; */;\nINSERT INTO "x" VALUES (1);'
    module = types.ModuleType("m")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(migration_text(sql, "", {}), "m.py", "exec"), module.__dict__)
    assert asyncio.run(module.upgrade(None)).strip() == sql
    assert split_statements(sql) == [
        'CREATE TABLE "x" (a INT) /* first\\/last """ q; */;',
        'INSERT INTO "x" VALUES (1);',
    ]
