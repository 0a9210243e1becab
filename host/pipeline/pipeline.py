"""The pipeline: the stages declared once, composed once at start-up, frozen while serving.

    pipeline = Pipeline(stages=(context_stage, route_stage, identity_stage, ...))
    pipeline.mount(routes)        # start-up: every route of the host's parts and the plugins
    pipeline.build(app)           # start-up: compose the chain; from now on nothing changes
    await pipeline.run(call)      # HTTP edge, batch items, job items, admin UI: one pass each

Like Starlette's middleware stack, the chain is built from the declared stages when the app starts,
and changing it afterwards raises: what a call goes through is visible in one list, in order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from host.pipeline.call import Call
from host.pipeline.routes import RouteDef
from host.pipeline.routing import PatternError, Router
from host.problems import Problem, problem_response

__all__ = (
    "PIPELINE",
    "Endpoint",
    "Pipeline",
    "PipelineFrozen",
    "StageFactory",
    "build_router",
    "response_json_bytes",
)

Endpoint = Callable[[Call], Awaitable[web.StreamResponse]]
StageFactory = Callable[[web.Application, Endpoint], Endpoint]
"""`(app, next) -> endpoint`: called once at start-up; the endpoint it returns runs per call."""


class PipelineFrozen(RuntimeError):
    """The pipeline was changed after start-up (stages and routes are fixed while serving)."""


def build_router(routes: Sequence[RouteDef]) -> tuple[Router[RouteDef], list[str]]:
    """Compile route definitions; a bad or duplicate one is reported, never mounted.

    A resource router: a path's methods are those of its most specific pattern, as the API
    document (OpenAPI: concrete paths before templated ones) lists them, and so `Allow` says."""
    router: Router[RouteDef] = Router(resources=True)
    errors: list[str] = []
    for route in routes:
        try:
            router.add(route.full_path, [route.method], route)
        except PatternError as exc:
            errors.append(f"plugin {route.plugin or 'host'!r}: {exc}")
    return router, errors


async def _not_started(call: Call) -> web.StreamResponse:
    return problem_response(Problem(503, "The server is starting; try again shortly"))


class Pipeline:
    def __init__(self, stages: Sequence[StageFactory], endpoint: Endpoint) -> None:
        self.stages: tuple[StageFactory, ...] = tuple(stages)
        self._endpoint = endpoint
        self.run: Endpoint = _not_started
        """One pass for a call; never raises for a call's own errors (they are problem responses).
        The composed chain itself once built (no extra call layer per request)."""
        self._frozen = False
        self.router: Router[RouteDef] = Router(resources=True)
        self.routes: tuple[RouteDef, ...] = ()

    @property
    def frozen(self) -> bool:
        return self._frozen

    def mount(self, routes: Sequence[RouteDef]) -> list[str]:
        """Set the internal routes (start-up); returns the errors of routes not mounted."""
        self._check_open("mount routes")
        router, errors = build_router(routes)
        self.router, self.routes = router, tuple(routes)
        return errors

    def build(self, app: web.Application) -> None:
        """Compose the declared stages around the endpoint, innermost last; then freeze."""
        self._check_open("build the pipeline")
        run = self._endpoint
        for stage in reversed(self.stages):
            run = stage(app, run)
        self.run, self._frozen = run, True

    def _check_open(self, what: str) -> None:
        if self._frozen:
            raise PipelineFrozen(f"cannot {what}: the pipeline is fixed once the app has started")


PIPELINE = web.AppKey("pipeline", Pipeline)


def response_json_bytes(response: web.StreamResponse) -> bytes:
    """The body of a buffered response (what batch and job items store)."""
    if isinstance(response, web.Response):
        body = response.body
        if isinstance(body, bytes | bytearray):
            return bytes(body)
        if body is None:
            return b""
        value = getattr(body, "_value", b"")
        return value if isinstance(value, bytes) else b""
    return b""
