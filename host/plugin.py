"""The plugin contract: one `plugin = Plugin(...)` object at the top of a plugin package.

Everything a plugin brings is declared here, so the host can validate it before mounting anything and
report a precise reason when it cannot (see docs/plugins.md).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from host.auth import Identity
from host.context import RequestContext
from host.pipeline import Routes

if TYPE_CHECKING:
    from host.bus import Bus, EventHandler
    from host.config import Settings

__all__ = (
    "HEALTH",
    "Chunked",
    "GraphQL",
    "HealthCheck",
    "Plugin",
    "PluginContext",
    "PluginError",
    "Workflow",
    "WorkflowContext",
    "chunked",
)

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
VERSION_KEY = re.compile(r"^(v[1-9][0-9]?)?$")
"""`rest` keys: "v1", "v2"... mounted under /api/<version>; "" mounts at the paths as written."""

Resolver = Callable[..., Any]


class PluginError(Exception):
    """A plugin that cannot be mounted; the message names the plugin and what is wrong."""


@dataclass(frozen=True)
class GraphQL:
    """SDL fragment (may `extend type` another plugin's types) and resolvers by type and field."""

    sdl: str
    resolvers: Mapping[str, Mapping[str, Resolver]] = field(default_factory=dict)


@dataclass
class WorkflowContext:
    """What a plan or step sees: the app, the run's parameters and who it runs as."""

    app: web.Application
    params: dict[str, Any]
    identity: Identity
    tenant: str
    job_id: int | None = None
    context: RequestContext | None = None


Plan = Callable[[WorkflowContext], Awaitable[list[dict[str, Any]]]]
Step = Callable[[WorkflowContext, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Chunked:
    plan: Plan
    step: Step

    async def __call__(self, ctx: WorkflowContext) -> list[Any]:
        """Run every chunk in-process (handy in tests and scripts; the job runner does not)."""
        return [await self.step(ctx, chunk) for chunk in await self.plan(ctx)]


def chunked(plan: Plan, step: Step) -> Chunked:
    return Chunked(plan=plan, step=step)


@dataclass(frozen=True)
class Workflow:
    """A named batch workflow a plugin offers to the job runner (see workers/)."""

    name: str
    run: Callable[..., Any]
    description: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    schedule: str | None = None  # a cron expression, when it should run by itself


@dataclass(frozen=True)
class PluginContext:
    """What a plugin's `setup` receives: enough to prepare its data, nothing of the host's insides."""

    name: str
    settings: Settings
    bus: Bus


@dataclass(frozen=True)
class Plugin:
    name: str
    version: str
    requires: Sequence[str] = ()
    models: str | ModuleType | None = None
    """Dotted module holding the Tortoise models; each model's Meta.app must equal `name`."""
    migrations: str | Path | None = None
    """Folder of this plugin's migrations; default: `migrations/` beside the package."""
    graphql: GraphQL | None = None
    rest: Mapping[str, Routes] = field(default_factory=dict)
    """Endpoints per API version: {"v1": routes, "v2": routes_v2}, mounted under /api/<version>."""
    events: Mapping[str, EventHandler | Sequence[EventHandler]] = field(default_factory=dict)
    """Bus handlers by topic pattern ("clients.*")."""
    workflows: Sequence[Workflow] = ()
    setup: Callable[[PluginContext], Awaitable[None] | None] | None = None
    """Called once at start-up after the database is ready; raising skips the plugin."""
    install: Callable[[web.Application], None] | None = None
    """Internal: the host's own parts (and the admin UI) use it to put their state on the app, add
    health checks and start-up/clean-up work (`cleanup_ctx`). Called once by `create_app`, before
    start. Third-party plugins use `setup`; this hook is not part of the public contract."""
    description: str = ""
    package_dir: Path | None = None
    """Filled in by the loader: where the package lives on disk."""

    @property
    def models_module(self) -> str | None:
        if isinstance(self.models, ModuleType):
            return self.models.__name__
        return self.models

    @property
    def migrations_dir(self) -> Path | None:
        if self.migrations is not None:
            path = Path(self.migrations)
            if not path.is_absolute() and self.package_dir is not None:
                path = self.package_dir / path
            return path
        if self.package_dir is not None and self.models is not None:
            return self.package_dir / "migrations"
        return None

    def handlers(self) -> list[tuple[str, EventHandler]]:
        out: list[tuple[str, EventHandler]] = []
        for pattern, handlers in self.events.items():
            if callable(handlers):
                out.append((pattern, handlers))
            else:
                out.extend((pattern, h) for h in handlers)
        return out


def validate(plugin: Any, where: str) -> Plugin:
    """Check the declaration itself (no imports, no database); raise PluginError naming the field."""
    if not isinstance(plugin, Plugin):
        raise PluginError(f"{where}: `plugin` must be a host.Plugin, got {type(plugin).__name__}")
    p = plugin
    if not NAME.match(p.name):
        raise PluginError(f"{where}: name {p.name!r} must match {NAME.pattern}")
    if not isinstance(p.version, str) or not p.version:
        raise PluginError(f"plugin {p.name!r}: version must be a non-empty string")
    if isinstance(p.requires, str) or not all(isinstance(r, str) for r in p.requires):
        raise PluginError(f"plugin {p.name!r}: requires must be a list of plugin names")
    if p.name in p.requires:
        raise PluginError(f"plugin {p.name!r}: requires itself")
    for version, routes in p.rest.items():
        if not VERSION_KEY.match(version):
            raise PluginError(f"plugin {p.name!r}: rest key {version!r} must look like 'v1'")
        if not isinstance(routes, Routes):
            raise PluginError(f"plugin {p.name!r}: rest[{version!r}] must be a host.Routes")
        for route in routes.defs:
            where_ = f"rest[{version!r}] {route.method} {route.path}"
            _check_callable(p.name, where_, route.handler, "async def handler(request)", True)
    for pattern, handler in p.handlers():
        _check_callable(p.name, f"events[{pattern!r}]", handler, "def handler(event)", None)
    if p.graphql is not None and not isinstance(p.graphql, GraphQL):
        raise PluginError(f"plugin {p.name!r}: graphql must be a host.GraphQL")
    if p.setup is not None:
        _check_callable(p.name, "setup", p.setup, "def setup(context)", None)
    names: set[str] = set()
    for i, workflow in enumerate(p.workflows):
        if not isinstance(workflow, Workflow):
            raise PluginError(f"plugin {p.name!r}: workflows[{i}] must be a host.Workflow")
        if workflow.name in names:
            raise PluginError(f"plugin {p.name!r}: workflow {workflow.name!r} is declared twice")
        names.add(workflow.name)
        if not callable(workflow.run):
            raise PluginError(f"plugin {p.name!r}: workflow {workflow.name!r}: run is not callable")
    return p


def _check_callable(
    plugin: str, field_: str, target: Any, expected: str, must_be_async: bool | None
) -> None:
    """A hook must be callable with exactly one argument (and a coroutine function if required)."""
    if not callable(target):
        raise PluginError(f"plugin {plugin!r}: {field_} is not callable; expected `{expected}`")
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # a builtin without a signature: accept it
        return
    try:
        signature.bind(None)
    except TypeError:
        raise PluginError(
            f"plugin {plugin!r}: {field_} has the signature {signature}; expected `{expected}`"
        ) from None
    if must_be_async and not _is_async(target):
        raise PluginError(f"plugin {plugin!r}: {field_} must be `async def`; expected `{expected}`")


def _is_async(target: Any) -> bool:
    while isinstance(target, functools.partial):
        target = target.func
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004
    )


HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
HEALTH = web.AppKey("health_checks", dict[str, HealthCheck])
"""name -> check, shown on /healthz; the host's parts add theirs (the gateway adds "routes")."""
