"""Start-up checks that turn the common set-up mistakes into one line naming the setting to fix.

A port already in use, a database or broker that does not answer: without these checks each one
surfaces as dozens of lines of traceback from deep inside aiohttp, asyncpg or pika, often *after* the
server already printed "serving on". Each check raises `StartupError`, whose message is the single
line the CLI prints before exiting non-zero.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from urllib.parse import urlsplit, urlunsplit

from tortoise.backends.base.config_generator import expand_db_url

from host.config import Settings
from host.data.migrate import MigrationError

__all__ = (
    "StartupError",
    "bind_socket",
    "check_broker",
    "check_database",
    "describe_startup_failure",
    "redact",
)

TIMEOUT = 5.0


class StartupError(Exception):
    """A problem the operator fixes in the environment; str() is the whole one-line message."""


def redact(url: str) -> str:
    """The URL without its password, so it can be printed and logged."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket now, so a busy port is reported before any start-up work."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(
            f"cannot bind: the address {host!r} does not resolve ({exc.strerror}); "
            "fix PLUGHOST_HOST or --host"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(512)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is already in use: stop the other server or choose "
                "another port with PLUGHOST_PORT or --port"
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise StartupError(
                f"no permission to bind port {port} on {host}: use a port above 1023 "
                "(PLUGHOST_PORT or --port)"
            ) from None
        raise StartupError(
            f"cannot bind {host}:{port} ({exc.strerror}): fix PLUGHOST_HOST/--host "
            "or PLUGHOST_PORT/--port"
        ) from None
    sock.setblocking(False)
    return sock


async def check_database(settings: Settings) -> None:
    """PostgreSQL must answer; the SQLite data folder must be writable."""
    url = settings.database_url
    if url.startswith("sqlite://"):
        folder = settings.data_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StartupError(
                f"the data folder {folder} is not writable ({exc.strerror}): "
                "fix PLUGHOST_DATA_DIR or its permissions"
            ) from None
        return
    import asyncpg

    try:
        # read the URL as Tortoise will (its pool options, e.g. ?maxsize=, are no server settings)
        cred = expand_db_url(url)["credentials"]
        conn = await asyncpg.connect(
            host=cred.get("host"),
            port=cred.get("port"),
            user=cred.get("user"),
            password=cred.get("password"),
            database=cred.get("database"),
            ssl=cred.get("ssl"),
            timeout=TIMEOUT,
        )
    except Exception as exc:  # refused, unknown host, bad password, missing database...
        raise StartupError(
            f"the database at {redact(url)} does not answer ({_reason(exc)}): start it or fix "
            "PLUGHOST_DB_URL"
        ) from None
    await conn.close()


async def check_broker(settings: Settings) -> None:
    """A Redis or RabbitMQ broker must accept a TCP connection (the embedded one always does)."""
    url = settings.broker_url
    if not url or url.startswith("stub"):
        return
    parts = urlsplit(url)
    default = 6379 if parts.scheme.startswith("redis") else 5672
    host, port = parts.hostname or "127.0.0.1", parts.port or default
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise StartupError(
            f"the broker at {redact(url)} does not answer ({_reason(exc)}): start it, fix "
            "PLUGHOST_BROKER_URL, or leave it empty for the embedded broker"
        ) from None
    writer.close()
    await writer.wait_closed()


def describe_startup_failure(exc: BaseException) -> str:
    """A one-line message for an error that escaped start-up (the checks above missed it)."""
    if isinstance(exc, MigrationError):  # names the plugin and the file already
        return str(exc)
    return (
        f"start-up failed: {_reason(exc)} "
        "(PLUGHOST_LOG_LEVEL=DEBUG logs the traceback; `plughost plugins` lists plugin problems)"
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {TIMEOUT:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
