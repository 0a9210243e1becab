"""Plugin discovery and load order.

Plugins come from the entry point group `plughost.plugins` and from package folders under the
plugin directories (`plugins/` and `PLUGHOST_PLUGIN_PATH`). A plugin that fails to import, declares
itself wrongly, or whose requirement is missing or cyclic is skipped with its reason; the host and
the other plugins go on. Loading is ordered so that every plugin comes after what it requires.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from aiohttp import web

from host.plugin import Plugin, PluginError, validate

__all__ = ("REGISTRY", "PluginRecord", "PluginRegistry", "discover", "load_order")

log = logging.getLogger("plughost.plugins")
ENTRY_POINT_GROUP = "plughost.plugins"


@dataclass
class PluginRecord:
    """What the host knows about one plugin: found where, loaded or skipped and why."""

    name: str
    source: str
    plugin: Plugin | None = None
    version: str = ""
    status: str = "found"  # found | loaded | skipped
    reason: str = ""

    def skip(self, reason: str) -> None:
        self.status, self.reason = "skipped", reason
        log.warning(
            "plugin skipped: %s (%s)",
            self.name,
            reason,
            extra={"plugin": self.name, "reason": reason, "_plain_text": True},
        )

    def as_dict(self) -> dict[str, str]:
        out = {"name": self.name, "version": self.version, "status": self.status}
        out["source"] = self.source
        if self.reason:
            out["reason"] = self.reason
        if self.plugin is not None and self.plugin.requires:
            out["requires"] = ", ".join(self.plugin.requires)
        return out


@dataclass
class PluginRegistry:
    """The app's plugins: every record, and the loaded ones in load order."""

    records: list[PluginRecord] = field(default_factory=list)

    @property
    def loaded(self) -> list[Plugin]:
        return [r.plugin for r in self.records if r.status == "loaded" and r.plugin is not None]

    @property
    def skipped(self) -> list[PluginRecord]:
        return [r for r in self.records if r.status == "skipped"]

    def get(self, name: str) -> PluginRecord | None:
        return next((r for r in self.records if r.name == name), None)

    def skip_with_dependents(self, name: str, reason: str) -> None:
        """Skip a plugin that failed late (set-up) and everything that requires it."""
        doomed = {name}
        changed = True
        while changed:
            changed = False
            for rec in self.records:
                live = rec.status == "loaded" and rec.plugin and rec.name not in doomed
                if live and rec.plugin and doomed & set(rec.plugin.requires):
                    doomed.add(rec.name)
                    changed = True
        for rec in self.records:
            if rec.name == name:
                rec.skip(reason)
            elif rec.name in doomed and rec.status == "loaded":
                rec.skip(f"requires {name!r}, which was skipped")


def _short_error(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _from_module(module_name: str, source: str) -> PluginRecord:
    record = PluginRecord(name=module_name, source=source)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a broken plugin must never take the host down
        record.skip(f"import failed: {_short_error(exc)}")
        return record
    if not hasattr(module, "plugin"):
        record.skip("the package has no `plugin` object")
        return record
    try:
        plugin = validate(module.plugin, f"package {module_name!r}")
    except PluginError as exc:
        record.skip(str(exc))
        return record
    package_dir = Path(module.__file__).parent if module.__file__ else None
    record.plugin = replace(plugin, package_dir=package_dir)
    record.name, record.version = plugin.name, plugin.version
    return record


def _folder_packages(folder: Path) -> Iterable[str]:
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and (p / "__init__.py").is_file() and p.name.isidentifier()
    )


def discover(plugin_dirs: Iterable[Path], *, entry_points: bool = True) -> list[PluginRecord]:
    """Find plugins; each folder is put on sys.path so its packages import as top-level names."""
    records: list[PluginRecord] = []
    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            records.append(_from_module(ep.module, f"entry point {ep.name}"))
    for folder in plugin_dirs:
        folder = folder.resolve()
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
        for name in _folder_packages(folder):
            existing = sys.modules.get(name)
            origin = getattr(existing, "__file__", None) or ""
            if existing is not None and not origin.startswith(str(folder)):
                rec = PluginRecord(name=name, source=str(folder / name))
                rec.skip(f"the name {name!r} is already taken by {origin or 'a built-in module'}")
                records.append(rec)
                continue
            records.append(_from_module(name, str(folder / name)))
    _skip_duplicates(records)
    return records


def _skip_duplicates(records: list[PluginRecord]) -> None:
    seen: dict[str, PluginRecord] = {}
    for rec in records:
        if rec.plugin is None:
            continue
        if rec.name in seen:
            rec.plugin = None
            rec.skip(f"a plugin named {rec.name!r} was already found at {seen[rec.name].source}")
        else:
            seen[rec.name] = rec


def load_order(records: list[PluginRecord]) -> list[PluginRecord]:
    """Mark loadable plugins 'loaded' in dependency order (ties by name); skip the rest with why.

    Returns every record, loaded ones first in load order, then the skipped ones.
    """
    candidates = {r.name: r for r in records if r.plugin is not None and r.status != "skipped"}
    ordered: list[PluginRecord] = []
    done: set[str] = set()
    pending = dict(candidates)
    while pending:
        ready = sorted(n for n, r in pending.items() if r.plugin and set(r.plugin.requires) <= done)
        if not ready:
            break
        for name in ready:
            rec = pending.pop(name)
            rec.status = "loaded"
            ordered.append(rec)
            done.add(name)
    # what is left either needs something absent/skipped or sits on a cycle
    changed = True
    while changed:
        changed = False
        for name, rec in list(pending.items()):
            assert rec.plugin is not None
            missing = [r for r in rec.plugin.requires if r not in candidates]
            failed = [
                r
                for r in rec.plugin.requires
                if r in candidates and r not in pending and candidates[r].status == "skipped"
            ]
            if missing or failed:
                why = missing or failed
                rec.skip(
                    f"requires {why[0]!r}, which is " + ("not available" if missing else "skipped")
                )
                pending.pop(name)
                changed = True
    for name in sorted(pending):
        rec = pending[name]
        rec.skip(f"cyclic requirement: {' -> '.join(_cycle_from(name, pending))}")
    return ordered + [r for r in records if r.status == "skipped"]


def _cycle_from(start: str, pending: dict[str, PluginRecord]) -> list[str]:
    path, node = [start], start
    while True:
        plugin = pending[node].plugin
        assert plugin is not None
        nxt = next((r for r in plugin.requires if r in pending), None)
        if nxt is None:
            return path
        if nxt in path:
            return [*path[path.index(nxt) :], nxt]
        path.append(nxt)
        node = nxt


REGISTRY = web.AppKey("plugins", PluginRegistry)
"""Every plugin found at start-up, loaded or skipped with its reason."""
