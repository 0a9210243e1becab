"""The admin UI at /admin: server-rendered pages over the host's own REST API.

A plugin like any other, found through this distribution's `plughost.plugins` entry point (the host
never imports it). Its `install` hook mounts a sub-application on `/admin` whose every page runs
behind the admin's guards (readable error pages, session and role check, CSRF). Pages read and act through the internal API in-process
(`admin.client.call`), as the logged-in admin, so the UI gets exactly the API's rules and errors.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from admin import auth, events, jobs, plugins, routes
from admin.render import error_middleware
from admin.state import MAIN_APP
from host import Plugin

__all__ = ("ADMIN_DIR", "plugin")

ADMIN_DIR = Path(__file__).resolve().parent


Page = Callable[[web.Request], Awaitable[web.StreamResponse]]
GUARDS = (error_middleware, auth.session_middleware, auth.csrf_middleware)
"""aiohttp-style middlewares around every admin page, outermost first."""


def guarded(page: Page) -> Page:
    """`page` behind GUARDS.

    They wrap each page rather than being the sub-app's `middlewares`: aiohttp runs a sub-app's
    middleware machinery on the parent app's every request once any sub-app has middlewares, and
    the parent serves the whole API (measured: about 12,500 instructions per API call, a fifth of
    a bare aiohttp request; docs/performance.md).
    """
    for guard in reversed(GUARDS):
        page = functools.update_wrapper(functools.partial(guard, handler=page), page)
    return page


def _install(app: web.Application) -> None:
    """Mount /admin on the host app (called once by `create_app`, before start)."""
    sub = web.Application()
    sub[MAIN_APP] = app
    env = aiohttp_jinja2.setup(
        sub,
        loader=jinja2.FileSystemLoader(str(ADMIN_DIR / "templates")),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,  # a missing field renders empty, never a 500
    )
    env.globals["static"] = lambda name: f"/admin/static/{name}"
    sub.router.add_static("/static", ADMIN_DIR / "static", name="static")
    sub.router.add_get("/", guarded(_home))
    for module in (auth, plugins, events, routes, jobs):
        for route in module.web_routes:
            assert isinstance(route, web.RouteDef)
            sub.router.add_route(route.method, route.path, guarded(route.handler), **route.kwargs)
    sub.router.add_route("*", "/{tail:.*}", guarded(_no_such_page))  # last: an error page
    # "/admin" without the slash would not reach the sub-app: send it to the home page
    app.router.add_get("/admin", _to_home)
    app.add_subapp("/admin", sub)


async def _to_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/")


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/routes")


async def _no_such_page(request: web.Request) -> web.StreamResponse:
    """404 (or 405 naming the methods the path has) as a readable page, behind the guards."""
    allowed: set[str] = set()
    this = request.match_info.route.resource
    for resource in request.app.router.resources():
        if resource is not this:
            allowed |= (await resource.resolve(request))[1]
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()


plugin = Plugin(
    name="host_admin",  # the Tortoise app (and migration history) of route versions
    version="1",
    models="admin.models",
    install=_install,
    description="The admin UI at /admin: routes, jobs, plugins, events",
)
