"""The live per-app route tables and their status, swapped atomically on reload.

Requests read `store.tables` once (an immutable mapping replaced as a whole), so a call sees the old
table or the new one, never a mix. Each file is compiled on its own: a bad file keeps its app's last
good table (or no table, at start-up) and records the error; the other apps load and update as usual.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from host.gateway.policy import UpstreamPolicy
from host.gateway.schema import FileError
from host.gateway.table import APP_NAME, AppTable, CompileResult, compile_table, content_hash

__all__ = ("AppStatus", "RouteStore", "scan")

log = logging.getLogger("plughost.gateway")


@dataclass
class AppStatus:
    """What an operator needs to know about one app's file."""

    app: str
    file: str
    digest: str | None = None
    """Hash of the content being served (None: nothing applied yet)."""
    file_digest: str | None = None
    """Hash of the content last read from disk (differs from digest while the file is invalid)."""
    applied_at: float | None = None
    checked_at: float | None = None
    routes: int = 0
    errors: list[FileError] = field(default_factory=list)
    warnings: list[FileError] = field(default_factory=list)

    @property
    def last_error(self) -> FileError | None:
        return self.errors[0] if self.errors else None

    @property
    def state(self) -> str:
        if not self.errors:
            return "ok"
        return "stale" if self.digest else "failed"

    def as_dict(self) -> dict[str, Any]:
        err = self.last_error
        return {
            "app": self.app,
            "file": self.file,
            "state": self.state,
            "hash": self.digest,
            "file_hash": self.file_digest,
            "applied_at": _iso(self.applied_at),
            "checked_at": _iso(self.checked_at),
            "routes": self.routes,
            "last_error": None
            if err is None
            else {"message": err.message, "line": err.line, "column": err.column},
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
        }


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


def scan(directory: Path) -> dict[str, tuple[Path, bytes]]:
    """`<app>.json` files (following symlinks, as in ConfigMap volumes) -> (path, bytes).

    Dot files (editor temp files, `..data`, `..2026_...`) are skipped; a file that vanishes while
    being read is left for the next scan.
    """
    out: dict[str, tuple[Path, bytes]] = {}
    try:
        entries = sorted(directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return out
    for path in entries:
        if path.name.startswith(".") or not path.name.endswith(".json"):
            continue
        try:
            out[path.name] = (path, path.read_bytes())
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            continue
    return out


class RouteStore:
    """The gateway's tables (`tables`), their status, and the one reload procedure."""

    def __init__(self, directory: Path, policy: UpstreamPolicy | None = None) -> None:
        self.directory = directory
        self.policy = policy or UpstreamPolicy()
        self.tables: Mapping[str, AppTable] = MappingProxyType({})
        self.status: dict[str, AppStatus] = {}
        self.reloads = 0
        self._lock = asyncio.Lock()

    def get(self, app: str) -> AppTable | None:
        return self.tables.get(app)

    async def reload(self, *, force: bool = False, reason: str = "change") -> dict[str, list[str]]:
        """Rescan the directory and apply what changed; returns {applied, failed, removed}."""
        async with self._lock:
            files = await asyncio.to_thread(scan, self.directory)
            work = self._pending(files, force)
            results = await asyncio.to_thread(_compile_all, work, self.policy) if work else {}
            return self._apply(files, results, reason)

    def _pending(
        self, files: dict[str, tuple[Path, bytes]], force: bool
    ) -> dict[str, tuple[str, bytes]]:
        """file name -> (app, bytes) for files whose content differs from what was last read."""
        work: dict[str, tuple[str, bytes]] = {}
        for filename, (_, raw) in files.items():
            app = filename[: -len(".json")].lower()
            status = self.status.get(app)
            digest = content_hash(raw)
            if force or status is None or status.file_digest != digest or status.file != filename:
                work[filename] = (app, raw)
        return work

    def _apply(
        self,
        files: dict[str, tuple[Path, bytes]],
        results: dict[str, tuple[str, CompileResult | FileError, str]],
        reason: str,
    ) -> dict[str, list[str]]:
        now = time.time()
        tables = dict(self.tables)
        summary: dict[str, list[str]] = {"applied": [], "failed": [], "removed": []}
        present = {name[: -len(".json")].lower() for name in files}
        for filename, (app, result, digest) in sorted(results.items()):
            status = self.status.get(app)
            if status is not None and status.file != filename and status.file in files:
                log.error("%s ignored: %s already defines app %r", filename, status.file, app)
                continue
            if status is None or status.file != filename:
                status = self.status[app] = AppStatus(app=app, file=filename)
            status.file_digest, status.checked_at = digest, now
            if isinstance(result, FileError):
                status.errors, status.warnings = [result], []
            elif result.table is None:
                status.errors, status.warnings = result.errors, []
            else:
                tables[app] = result.table
                status.digest, status.applied_at = digest, now
                status.routes, status.errors = len(result.table.routes), []
                status.warnings = result.warnings
                summary["applied"].append(app)
                for warning in result.warnings:
                    log.warning("route file warning: %s", warning.format(filename, "warning"))
                continue
            summary["failed"].append(app)
            for error in status.errors:
                log.error(
                    "route file not applied (%s keeps its last good table): %s",
                    app,
                    error.format(filename),
                )
        for app in [a for a in self.status if a not in present]:
            tables.pop(app, None)
            del self.status[app]
            summary["removed"].append(app)
        if summary["applied"] or summary["removed"]:
            self.tables = MappingProxyType(tables)
            self.reloads += 1
            if reason != "start-up":  # the start-up line (with route counts) is the gateway's
                log.info(
                    "routes reloaded (%s): applied %s; failed %s; removed %s",
                    reason,
                    *(", ".join(summary[k]) or "none" for k in ("applied", "failed", "removed")),
                    extra={**summary, "_plain_text": True},
                )
        return summary

    def health(self) -> dict[str, Any]:
        apps = {
            name: {
                "state": s.state,
                "hash": s.digest,
                "applied_at": _iso(s.applied_at),
                "routes": s.routes,
                "last_error": s.as_dict()["last_error"],
            }
            for name, s in sorted(self.status.items())
        }
        bad = any(s.errors for s in self.status.values())
        return {"status": "error" if bad else "ok", "dir": str(self.directory), "apps": apps}


def _compile_all(
    work: dict[str, tuple[str, bytes]], policy: UpstreamPolicy
) -> dict[str, tuple[str, CompileResult | FileError, str]]:
    """Runs in a worker thread: compiling 10,000 routes must not stall the event loop."""
    out: dict[str, tuple[str, CompileResult | FileError, str]] = {}
    for filename, (app, raw) in work.items():
        digest = content_hash(raw)
        if not APP_NAME.match(app):
            error = FileError(
                f"{filename!r} is not a valid app name (a-z, 0-9, '_', '-'; up to 64)", 1, 1
            )
            out[filename] = (app, error, digest)
        else:
            out[filename] = (app, compile_table(app, raw, policy), digest)
    return out
