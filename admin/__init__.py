"""The admin UI at /admin: server-rendered pages over the host's own REST API.

A plugin like any other, found through this distribution's `plughost.plugins` entry point (the host
never imports it). Its `install` hook mounts a sub-application on `/admin` with its own middleware
(session, role check, CSRF, readable error pages). Pages read and act through the internal API in-process
(`admin.client.call`), as the logged-in admin, so the UI gets exactly the API's rules and errors.
"""

from __future__ import annotations

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


def _install(app: web.Application) -> None:
    """Mount /admin on the host app (called once by `create_app`, before start)."""
    sub = web.Application(
        middlewares=[error_middleware, auth.session_middleware, auth.csrf_middleware]
    )
    sub[MAIN_APP] = app
    env = aiohttp_jinja2.setup(
        sub,
        loader=jinja2.FileSystemLoader(str(ADMIN_DIR / "templates")),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,  # a missing field renders empty, never a 500
    )
    env.globals["static"] = lambda name: f"/admin/static/{name}"
    sub.router.add_static("/static", ADMIN_DIR / "static", name="static")
    sub.router.add_get("/", _home)
    for module in (auth, plugins, events, routes, jobs):
        sub.router.add_routes(module.web_routes)
    # "/admin" without the slash would not reach the sub-app: send it to the home page
    app.router.add_get("/admin", _to_home)
    app.add_subapp("/admin", sub)


async def _to_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/")


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/routes")


plugin = Plugin(
    name="host_admin",  # the Tortoise app (and migration history) of route versions
    version="1",
    models="admin.models",
    install=_install,
    description="The admin UI at /admin: routes, jobs, plugins, events",
)
