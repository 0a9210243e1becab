"""The `plughost` command line. Every subcommand explains itself with --help."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from host.config import ConfigError, Settings, load_settings

__all__ = ("main",)

Command = Callable[[argparse.Namespace, Settings], int | Awaitable[int]]


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from aiohttp import web

    from host.app import create_app
    from host.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    app = create_app(settings)
    print(f"plughost serving on http://{host}:{port}  (Ctrl-C to stop)", file=sys.stderr)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0


async def _with_db(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    from host.app import database_config, find_plugins
    from host.db import close_db, init_db

    config = database_config(settings, find_plugins(settings).loaded)
    db = await init_db(config)
    try:
        return await work()
    finally:
        await close_db(db)


async def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from host.app import database_config, find_plugins, with_host_apps
    from host.migrate import apply_migrations
    from host.users import ensure_first_admin

    plugins = find_plugins(settings).loaded

    async def work() -> int:
        applied = await apply_migrations(
            database_config(settings, plugins), with_host_apps(plugins)
        )
        for name in applied:
            print(f"applied {name}")
        print(f"database is up to date ({len(applied)} migration(s) applied)")
        await ensure_first_admin(settings.data_dir, settings.admin_password)
        return 0

    return await _with_db(settings, work)


def _cmd_plugins(args: argparse.Namespace, settings: Settings) -> int:
    from host.app import find_plugins

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
    from host.models import User
    from host.users import add_user, set_roles

    async def work() -> int:
        if args.users_command == "add":
            password = args.password or _prompt_password()
            if await User.exists(username=args.username):
                print(f"error: user {args.username!r} already exists", file=sys.stderr)
                return 1
            await add_user(args.username, password, args.roles)
            print(f"created user {args.username!r} with roles {sorted(set(args.roles))}")
        elif args.users_command == "set-roles":
            if not await User.exists(username=args.username):
                print(f"error: no user {args.username!r}", file=sys.stderr)
                return 1
            user = await set_roles(args.username, args.roles)
            print(f"user {user.username!r} now has roles {user.roles}")
        else:
            for user in await User.all().order_by("username"):
                state = "" if user.active else " (inactive)"
                print(f"{user.username:20} {','.join(user.roles)}{state}")
        return 0

    return await _with_db(settings, work)


def _prompt_password() -> str:
    import getpass

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
            "(or plughost.toml): PLUGHOST_DATA_DIR, PLUGHOST_DB_URL, PLUGHOST_BROKER_URL, "
            "PLUGHOST_ROUTES_DIR, PLUGHOST_PLUGIN_PATH, PLUGHOST_SECRET_KEY, "
            "PLUGHOST_ADMIN_PASSWORD. See README.md."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="serve HTTP (and, embedded, run the job worker)")
    p.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port to bind (default 8080)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser(
        "migrate",
        help="apply pending migrations of the host and every plugin, in dependency order",
        description="Apply pending migrations; creates the first admin user when none exists.",
    )
    p.set_defaults(func=_cmd_migrate)

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
    users.add_parser("list", help="list users and their roles")
    s = users.add_parser("set-roles", help="replace a user's roles")
    s.add_argument("username")
    s.add_argument("roles", nargs="*", help="the new roles (none removes all)")
    p.set_defaults(func=_cmd_users)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result: Any = args.func(args, settings)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
