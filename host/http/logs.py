"""Logging set-up: readable text on a terminal, JSON lines for machines, one access line per request.

`PLUGHOST_LOG_FORMAT=auto` (the default) picks text when standard error is a terminal and JSON
otherwise (containers, CI, files), because a person reads the first and a log collector parses the
second; `text` or `json` force one. Every line stands on its own: the text format appends the
record's extra fields as `key=value`, so "plugin skipped" carries its plugin and reason in both.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse
from pythonjsonlogger.json import JsonFormatter

from host.context import current_context

__all__ = (
    "ACCESS_LOGGER",
    "AccessLogger",
    "TextFormatter",
    "configure_logging",
    "resolve_format",
)

ACCESS_LOGGER = "plughost.access"
# attributes every LogRecord has; anything else on a record came from `extra=`
_STANDARD = frozenset(
    set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__)
    | {"message", "asctime", "taskName", "color_message"}
)


class ContextFilter(logging.Filter):
    """Adds request_id, trace_id and tenant from the current request context to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = current_context()
        if ctx is not None:
            record.request_id = ctx.request_id
            record.trace_id = ctx.trace_id
            record.tenant = ctx.tenant
        return True


def extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")
    }


def _value(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(_value(v) for v in value) or "-"
    if isinstance(value, Mapping):
        return ",".join(f"{k}:{_value(v)}" for k, v in value.items()) or "-"
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


class JsonLineFormatter(JsonFormatter):
    """JSON lines; drops private markers such as `_plain_text`, which only steer the text format."""

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for key in [k for k in log_data if k.startswith("_")]:
            del log_data[key]


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...`; tracebacks follow on their own lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if getattr(record, "_plain_text", False):  # the message already says it all
            return line
        head, sep, tail = line.partition("\n")  # keep key=value on the message's line
        fields = " ".join(f"{k}={_value(v)}" for k, v in extras(record).items())
        return f"{head} {fields}{sep}{tail}" if fields else line


def resolve_format(fmt: str, stream: TextIO | None = None) -> str:
    """'text' or 'json': `auto` asks whether the log stream is a terminal."""
    if fmt != "auto":
        return fmt
    stream = stream or sys.stderr
    try:
        return "text" if stream.isatty() else "json"
    except (AttributeError, ValueError):
        return "json"


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if resolve_format(fmt, sys.stderr) == "json":
        handler.setFormatter(
            JsonLineFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("tortoise").setLevel(logging.WARNING)


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path, status, milliseconds and request id.

    Runs after the response is sent, outside the request's context, so the request id is read from
    the `X-Request-Id` header the context middleware put on the response.
    """

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        ms = round(time * 1000, 1)
        request_id = response.headers.get("X-Request-Id", "-")
        self.logger.info(
            "%s %s %s %.1fms id=%s",
            request.method,
            request.path,
            response.status,
            ms,
            request_id,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "ms": ms,
                "request_id": request_id,
                "_plain_text": True,
            },
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
