"""The `plughost` command line. Every subcommand explains itself with --help."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeAlias

from host import serve
from host.app import HOST_APPS, database_config, find_plugins, with_host_apps
from host.auth.models import ApiKey, User
from host.auth.users import add_api_key, add_user, ensure_first_admin, set_roles
from host.config import ConfigError, Settings, load_settings
from host.data.db import close_db, init_db
from host.data.makemigrations import make_migrations
from host.data.migrate import MigrationError, apply_migrations
from host.datalock import DataDirLocked, lock_data_dir
from host.gateway.check import check_files, files_to_check
from host.gateway.explain import explain
from host.gateway.policy import UpstreamPolicy
from host.http.logs import configure_logging
from host.http.runtime import install_event_loop
from host.preflight import (
    StartupError,
    bind_socket,
    check_broker,
    check_database,
    describe_startup_failure,
)
from host.progress import Progress
from host.scaffold import ScaffoldError, new_plugin

__all__ = ("COMMANDS", "Command", "Subcommands", "main")

Command = Callable[[argparse.Namespace, Settings], int | Awaitable[int]]
"""What a subcommand runs (its parser's `func` default): an exit code, or a coroutine of one."""
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
COMMANDS = "plughost.commands"
"""Entry point group of commands that other packages add (`plughost worker` comes from workers/):
each names a `register(subcommands)` that adds one subparser whose `func` default is a Command."""


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.child_fd is not None:  # started by the master of `serve --workers N`
        return serve.run_child(settings, args.child_fd, args.ready_fd)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    try:
        workers = serve.worker_count(args.workers)
    except ValueError:
        print("error: --workers must be a number from 1 to 64, or auto", file=sys.stderr)
        return 2
    try:  # the one-line errors: a busy port first (instant), then the services it needs
        sock = bind_socket(host, port)
        asyncio.run(_check_services(settings, check_database, check_broker))
        lock = lock_data_dir(settings)  # held (open) until this process exits
    except (StartupError, DataDirLocked) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    install_event_loop(settings.event_loop)
    try:
        if workers == 1:
            return serve.run_single(settings, sock, host)
        return serve.run_master(settings, sock, host, workers)
    except Exception as exc:  # start-up work failed after the checks (database lost, plugin...)
        logging.getLogger("plughost").debug("start-up failed", exc_info=exc)
        print(f"error: {describe_startup_failure(exc)}", file=sys.stderr)
        return 1
    finally:
        if lock is not None:
            lock.close()


def _cmd_reload(args: argparse.Namespace, settings: Settings) -> int:
    ok, message = serve.reload(settings.data_dir, args.timeout)
    print(message if ok else f"error: {message}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


async def _check_services(
    settings: Settings, *checks: Callable[[Settings], Awaitable[None]]
) -> None:
    for check in checks:
        await check(settings)


async def _with_db(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    try:
        await check_database(settings)
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    config = database_config(settings, find_plugins(settings).loaded)
    db = await init_db(config)
    try:
        return await work()
    finally:
        await close_db(db)


async def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    plugins = find_plugins(settings).loaded

    async def work() -> int:
        try:
            applied = await apply_migrations(
                database_config(settings, plugins),
                with_host_apps(plugins),
                dev=settings.dev,
                then=lambda: ensure_first_admin(settings.data_dir, settings.admin_password),
            )
        except MigrationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        for name in applied:
            print(f"applied {name}")
        print(f"database is up to date ({len(applied)} migration(s) applied)")
        return 0

    return await _with_db(settings, work)


async def _cmd_makemigrations(args: argparse.Namespace, settings: Settings) -> int:
    registry = find_plugins(settings)
    known = [*HOST_APPS, *registry.loaded]
    by_name = {p.name: p for p in known}
    if args.all:
        targets = [p for p in known if p.models_module]
    else:
        if not args.plugins:
            print("error: name a plugin (or give --all)", file=sys.stderr)
            return 2
        targets = []
        for name in args.plugins:
            if name not in by_name:
                rec = registry.get(name)
                why = f" (skipped: {rec.reason})" if rec and rec.reason else ""
                print(f"error: no loadable plugin or host app {name!r}{why}", file=sys.stderr)
                return 1
            targets.append(by_name[name])
    # the scratch databases' "applied migration" lines are noise here
    logging.getLogger("plughost.migrate").setLevel(logging.WARNING)
    bar = Progress(targets, "makemigrations", lambda p: p.name)
    for plugin in bar:
        try:
            made = await make_migrations(
                plugin, known, name=args.name, base_apps=HOST_APPS, check=args.check
            )
        except MigrationError as exc:
            bar.write(f"error: {exc}", sys.stderr)
            return 1
        if not made.written:
            bar.write(f"{plugin.name}: no changes")
        for path in made.written:
            bar.write(f"{plugin.name}: wrote {path}")
    return 0


def _cmd_new_plugin(args: argparse.Namespace, settings: Settings) -> int:
    folder = args.dir if args.dir is not None else settings.plugins_dir
    try:
        created = new_plugin(args.name, folder, migrations=not args.no_migrations)
    except ScaffoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in created:
        print(f"created {path}")
    print(f"next: .venv/bin/python -m pytest {folder / args.name}   (its test passes now)")
    print(
        f"after changing models.py: plughost makemigrations {args.name} && plughost migrate, "
        "then restart plughost serve (plugins are mounted at start-up)"
    )
    return 0


def _cmd_plugins(args: argparse.Namespace, settings: Settings) -> int:
    logging.getLogger("plughost.plugins").setLevel(logging.ERROR)  # the table below says it
    registry = find_plugins(settings)
    rows = [r.as_dict() for r in registry.records]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            line = f"{row['status']:8} {row['name']:20} {row['version'] or '-':10} {row['source']}"
            print(line + (f"\n         reason: {row['reason']}" if "reason" in row else ""))
    return 1 if args.strict and registry.skipped else 0


async def _cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        if args.users_command == "add":
            password = args.password or _prompt_password()
            if await User.exists(username=args.username):
                print(f"error: user {args.username!r} already exists", file=sys.stderr)
                return 1
            try:
                await add_user(args.username, password, args.roles, tenant=args.tenant)
            except ValueError as exc:
                print(f"error: --tenant {exc}", file=sys.stderr)
                return 2
            where = f" in tenant {args.tenant!r}" if args.tenant else " (platform: any tenant)"
            print(f"created user {args.username!r} with roles {sorted(set(args.roles))}{where}")
        elif args.users_command == "set-roles":
            if not await User.exists(username=args.username):
                print(f"error: no user {args.username!r}", file=sys.stderr)
                return 1
            user = await set_roles(args.username, args.roles)
            print(f"user {user.username!r} now has roles {user.roles}")
        else:
            for user in await User.all().order_by("username"):
                state = "" if user.active else " (inactive)"
                tenant = f" tenant={user.tenant}" if user.tenant else ""
                print(f"{user.username:20} {','.join(user.roles)}{tenant}{state}")
        return 0

    return await _with_db(settings, work)


async def _cmd_apikeys(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        if args.apikeys_command == "add":
            try:
                row, key = await add_api_key(args.name, args.roles, tenant=args.tenant)
            except ValueError as exc:
                print(f"error: --tenant {exc}", file=sys.stderr)
                return 2
            print(f"API key {row.name!r} (id {row.id}) with roles {row.roles}:")
            print(key)
            print("Send it as the X-API-Key header. It is shown only now.", file=sys.stderr)
        elif args.apikeys_command == "revoke":
            updated = await ApiKey.filter(id=args.id).update(active=False)
            if not updated:
                print(f"error: no API key with id {args.id}", file=sys.stderr)
                return 1
            print(f"revoked API key {args.id}")
        else:
            for row in await ApiKey.all().order_by("id"):
                state = "" if row.active else " (revoked)"
                print(f"{row.id:5} {row.name:20} {row.prefix:14} {','.join(row.roles)}{state}")
        return 0

    return await _with_db(settings, work)


def _cmd_routes(args: argparse.Namespace, settings: Settings) -> int:
    policy = UpstreamPolicy.from_settings(settings)
    if args.routes_command == "explain":
        return _routes_explain(args, settings)
    return check_files(files_to_check(args.files, settings.routes_dir), policy=policy)


def _routes_explain(args: argparse.Namespace, settings: Settings) -> int:
    files: dict[str, tuple[str, bytes]] = {}
    for path in sorted(settings.routes_dir.glob("*.json")):
        if not path.name.startswith("."):
            files[path.stem.lower()] = (str(path), path.read_bytes())
    result = explain(files, args.method, args.path, app=args.app)
    print(json.dumps(result.as_dict(), indent=2) if args.json else result.text())
    return 0 if result.status < 400 else 1


def _prompt_password() -> str:
    if not sys.stdin.isatty():
        value = sys.stdin.readline().rstrip("\n")
        if value:
            return value
        raise SystemExit("error: give --password or type the password on standard input")
    return getpass.getpass("Password: ")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plughost",
        description=(
            "plughost: a plugin host server. Settings come from PLUGHOST_* environment variables "
            "(or plughost.toml): PLUGHOST_HOST, PLUGHOST_PORT, PLUGHOST_DATA_DIR, PLUGHOST_DB_URL, "
            "PLUGHOST_BROKER_URL, PLUGHOST_ROUTES_DIR, PLUGHOST_PLUGINS_DIR, PLUGHOST_PLUGIN_PATH, "
            "PLUGHOST_SECRET_KEY, PLUGHOST_ADMIN_PASSWORD, PLUGHOST_LOG_FORMAT, PLUGHOST_LOG_LEVEL, "
            "PLUGHOST_ACCESS_LOG. All of them: host/config.py; see README.md."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "serve",
        help="serve HTTP (and, embedded, run the job worker)",
        description="Serve the API, gateway, GraphQL and admin UI. Binds the port, checks the "
        "database (PLUGHOST_DB_URL) and broker (PLUGHOST_BROKER_URL), applies pending migrations "
        "(dev), mounts the plugins, then prints 'serving on URL'. A problem with any of these is "
        "one line naming the setting, and exit status 1. Logs go to standard error (text on a "
        "terminal, else JSON; PLUGHOST_LOG_FORMAT). One server per SQLite data folder.",
    )
    p.add_argument(
        "--host", default=None, help="address to bind (default PLUGHOST_HOST, 127.0.0.1)"
    )
    p.add_argument(
        "--port", type=int, default=None, help="port to bind (default PLUGHOST_PORT, 8080)"
    )
    p.add_argument(
        "--workers",
        default="1",
        help="server processes on the port (default 1; auto = one per core); SIGTERM drains, "
        "SIGHUP rolls them onto a freshly loaded plugin set",
    )
    p.add_argument("--child-fd", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser(
        "reload",
        help="roll `serve --workers N` onto a freshly loaded plugin set (as SIGHUP does); waits",
        description="Send SIGHUP to the `plughost serve --workers N` master of this data dir: new "
        "processes start with the plugins found now (pending migrations first); once all are "
        "ready the old ones drain one at a time. A set that fails to load keeps the old "
        "processes serving. Prints the outcome; exit 1 when the roll was aborted.",
    )
    p.add_argument("--timeout", type=float, default=180.0, help="seconds to wait (default 180)")
    p.set_defaults(func=_cmd_reload)

    p = sub.add_parser(
        "migrate",
        help="apply pending migrations of the host and every plugin, in dependency order",
        description="Apply pending migrations; creates the first admin user when none exists.",
    )
    p.set_defaults(func=_cmd_migrate)

    p = sub.add_parser(
        "makemigrations",
        help="write a plugin's next migration for SQLite and PostgreSQL (no server needed)",
        description=(
            "Diff a plugin's models against its last migration and write the next one into "
            "<plugin>/migrations/sqlite/ and <plugin>/migrations/postgres/. Needs no server: the "
            "SQLite file is proven on a temp file, the PostgreSQL one is rendered offline. --check "
            "also proves the PostgreSQL file on a temp database on PLUGHOST_MIGRATIONS_PG (else "
            "PLUGHOST_TEST_PG, else postgres://postgres@127.0.0.1:5432/postgres) and fails "
            "without writing when that server is unreachable. See docs/migrations.md."
        ),
    )
    p.add_argument("plugins", nargs="*", metavar="PLUGIN", help="plugin or host app name(s)")
    p.add_argument("--all", action="store_true", help="every host app and loaded plugin")
    p.add_argument("--name", default="update", help="short name of the migration (default update)")
    p.add_argument(
        "--check",
        action="store_true",
        help="also apply the PostgreSQL file on a scratch database (needs a server)",
    )
    p.set_defaults(func=_cmd_makemigrations)

    p = sub.add_parser(
        "new-plugin",
        help="scaffold a plugin folder: model, migrations, REST route, GraphQL, bus handler, test",
        description="Create plugins/NAME with a working example of every part of the contract.",
    )
    p.add_argument("name", help="the plugin name (lowercase letters, digits, _)")
    p.add_argument("--dir", type=Path, default=None, help="parent folder (default: plugins dir)")
    p.add_argument(
        "--no-migrations", action="store_true", help="skip writing the initial migrations"
    )
    p.set_defaults(func=_cmd_new_plugin)

    p = sub.add_parser(
        "plugins",
        help="list the plugins found, loaded and skipped (with the reason)",
        description="Discover plugins as the server would and say what it would load.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--strict", action="store_true", help="exit 1 when any plugin is skipped")
    p.set_defaults(func=_cmd_plugins)

    p = sub.add_parser("users", help="manage users: add, list, set-roles")
    users = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    a = users.add_parser("add", help="create a user (password from --password or stdin)")
    a.add_argument("username")
    a.add_argument("--password", help="the password (else read from standard input)")
    a.add_argument("--role", dest="roles", action="append", default=[], help="a role (repeat)")
    a.add_argument("--tenant", default=None, help="the one tenant the user works in (default: any)")
    users.add_parser("list", help="list users and their roles")
    s = users.add_parser("set-roles", help="replace a user's roles")
    s.add_argument("username")
    s.add_argument("roles", nargs="*", help="the new roles (none removes all)")
    p.set_defaults(func=_cmd_users)

    p = sub.add_parser("routes", help="gateway route files (routes.d): check, explain")
    routes = p.add_subparsers(dest="routes_command", required=True, metavar="ACTION")
    c = routes.add_parser(
        "check",
        help="validate route files offline; errors as file:line:col, exit 1 on any error",
        description="Validate routes.d files as the server would (default: every *.json in "
        "PLUGHOST_ROUTES_DIR). Prints file:line:col: error: ... and exits 1 on any error.",
    )
    c.add_argument("files", nargs="*", help="files to check (default: the routes folder)")
    e = routes.add_parser(
        "explain",
        help="which route a call matches and why, where it goes, which roles it needs",
        description="Explain METHOD PATH against the route files in PLUGHOST_ROUTES_DIR as the "
        "gateway would serve it: the app (the /apps/APP/ prefix, else --app as the X-App-Name "
        "header), the matching route with its file:line:col, other routes that match and why they "
        "lose (specificity, priority), the mapped location or upstream URL and the roles. "
        "Exit 1 when the call would get no route (404/405/400).",
    )
    e.add_argument("--app", default=None, help="the micro-app, as the X-App-Name header names it")
    e.add_argument("--json", action="store_true", help="print JSON instead of text")
    e.add_argument("method", help="GET, POST, ...")
    e.add_argument("path", help="the path the client calls, e.g. /clients/7 or /apps/mobile/me")
    p.set_defaults(func=_cmd_routes)

    p = sub.add_parser("apikeys", help="manage API keys for machines: add, list, revoke")
    keys = p.add_subparsers(dest="apikeys_command", required=True, metavar="ACTION")
    a = keys.add_parser("add", help="create a key (printed once; send it as X-API-Key)")
    a.add_argument("name", help="what the key is for")
    a.add_argument("--role", dest="roles", action="append", default=[], help="a role (repeat)")
    a.add_argument("--tenant", default=None, help="the one tenant the key works in (default: any)")
    keys.add_parser("list", help="list keys (never their secrets)")
    r = keys.add_parser("revoke", help="revoke a key by id")
    r.add_argument("id", type=int)
    p.set_defaults(func=_cmd_apikeys)

    _add_installed_commands(sub)
    return parser


def _add_installed_commands(sub: Subcommands) -> None:
    """Commands from installed packages (entry point group COMMANDS); one that fails to load is
    reported and left out, so the rest of the command line still works."""
    for entry in sorted(entry_points(group=COMMANDS), key=lambda e: e.name):
        try:
            entry.load()(sub)
        except Exception as exc:
            print(
                f"warning: command {entry.name!r} ({entry.value}) not loaded: {exc!r}",
                file=sys.stderr,
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    result: Any = args.func(args, settings)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
