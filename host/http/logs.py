"""Logging set-up: JSON lines (or text) carrying the request id and tenant of the current call."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from host.context import current_context

__all__ = ("configure_logging",)


class ContextFilter(logging.Filter):
    """Adds request_id, trace_id and tenant from the current request context to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = current_context()
        if ctx is not None:
            record.request_id = ctx.request_id
            record.trace_id = ctx.trace_id
            record.tenant = ctx.tenant
        return True


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("tortoise").setLevel(logging.WARNING)
