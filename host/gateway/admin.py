"""Admin endpoints for routes.d (role admin): status, reload, and a versioned file API.

The file API is at `/admin/routes/files/{app}`, which takes any app name; its first path,
`/admin/routes/{app}`, is kept, for every name but those of its sibling endpoints (`status`...).

The file API is what the admin UI edits through: GET gives the text and an ETag (content hash);
PUT and DELETE need `If-Match` with that ETag (412 when someone saved in between, so no edit is
lost; the check and the rename happen under a lock every process and instance shares, see
`host.gateway.writelock`), validate with the same compiler the watcher uses (422 with line/column, nothing written),
and write atomically (temp file + rename in the same folder) so the watcher never reads half a file.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from host.auth import ADMIN_ROLE
from host.gateway.explain import explain
from host.gateway.schema import SCHEMA_PATH
from host.gateway.state import GATEWAY, Gateway
from host.gateway.table import APP_NAME, compile_table, content_hash
from host.gateway.writelock import routes_write_lock
from host.pipeline import ApiRequest, Routes
from host.problems import Problem

__all__ = ("routes",)

routes = Routes()
ADMIN = (ADMIN_ROLE,)
TAGS = ("gateway",)
_FILE_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RouteFile"}}},
}
_SCHEMAS = {"RouteFile": json.loads(SCHEMA_PATH.read_text())}


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": description,
    }


_IF_MATCH = _header("If-Match", "The ETag read before: the change applies only to that version")


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


_APP_QUERY = _query(
    "app",
    {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"},
    "The app the text is the file of",
)
_EXPLAIN_QUERY = [
    _APP_QUERY,
    _query(
        "method",
        {"type": "string", "enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]},
        "The method to try (default GET)",
    ),
    _query("path", {"type": "string", "pattern": "^/"}, "The path to try", required=True),
]


# answers (for the API document) ------------------------------------------------------------------
class FileProblem(BaseModel):
    """An error or warning in a route file, where it is (1-based line and column)."""

    message: str
    line: int
    column: int
    pointer: str = ""


class AppFileStatus(BaseModel):
    """One app's route file: what is served (`hash`), what is on disk, the last error."""

    app: str
    file: str
    state: str
    hash: str | None
    file_hash: str | None
    applied_at: str | None
    checked_at: str | None
    routes: int
    last_error: dict[str, Any] | None
    errors: list[FileProblem]
    warnings: list[FileProblem]


class RoutesStatus(BaseModel):
    dir: str
    reloads: int
    apps: list[AppFileStatus]


class RoutesReloaded(RoutesStatus):
    reload: dict[str, list[str]]
    """The apps applied, failed and removed by this reload."""


class Validation(BaseModel):
    valid: bool
    routes: int
    errors: list[FileProblem]
    warnings: list[FileProblem]


class Explained(BaseModel):
    """What the gateway would answer (`status`, before roles), and why (`explanation`)."""

    method: str
    path: str
    status: int
    app: str | None
    app_path: str
    route: dict[str, Any] | None
    explanation: list[str]


class Saved(BaseModel):
    app: str
    hash: str
    warnings: list[FileProblem]
    status: AppFileStatus | None


ANY_FILE = {"description": "The file's text as saved (a RouteFile, unless edited by hand)"}


@routes.get("/admin/routes/status", roles=ADMIN, tags=TAGS, response=RoutesStatus)
async def routes_status(request: ApiRequest) -> web.Response:
    """Every app's route file: hash, applied time, routes, last error (line/column)."""
    gateway = request.app[GATEWAY]
    return web.json_response(_status(gateway))


@routes.post("/admin/routes/reload", roles=ADMIN, tags=TAGS, response=RoutesReloaded)
async def routes_reload(request: ApiRequest) -> web.Response:
    """Re-read and re-validate every file now (as SIGHUP does)."""
    gateway = request.app[GATEWAY]
    summary = await gateway.store.reload(force=True, reason="api")
    return web.json_response({"reload": summary, **_status(gateway)})


@routes.post(
    "/admin/routes/validate",
    roles=ADMIN,
    tags=TAGS,
    max_body=8 << 20,
    response=Validation,
    # any text: checking it against the route file schema is what this endpoint does
    openapi={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"description": "A route file's text"}}},
        },
        "parameters": [_APP_QUERY],
    },
)
async def routes_validate(request: ApiRequest) -> web.Response:
    """Validate a file's text without writing it (`?app=` names it; default `check`)."""
    name = request.query.get("app", "check").lower()
    result = await asyncio.to_thread(
        compile_table, name, request.body, request.app[GATEWAY].store.policy
    )
    return web.json_response(
        {
            "valid": result.ok,
            "routes": len(result.table.routes) if result.table else 0,
            "errors": [e.as_dict() for e in result.errors],
            "warnings": [w.as_dict() for w in result.warnings],
        }
    )


@routes.post(
    "/admin/routes/explain",
    roles=ADMIN,
    tags=TAGS,
    max_body=8 << 20,
    response=Explained,
    openapi={"parameters": _EXPLAIN_QUERY},
)
async def routes_explain(request: ApiRequest) -> web.Response:
    """Explain `?method=&path=` against a file's text before it is saved (`?app=` names the app
    whose file the body replaces; the other apps' files are read from the routes folder)."""
    gateway = request.app[GATEWAY]
    app = request.query.get("app", "").lower()
    method, path = request.query.get("method", "GET"), request.query.get("path", "")
    if not path.startswith("/"):
        raise Problem(400, "Give the path to try as ?path=/..., starting with '/'")
    if app and not APP_NAME.match(app):
        raise Problem(400, f"Bad app name {app!r}")

    def work() -> dict[str, Any]:
        files: dict[str, tuple[str, bytes]] = {}
        for file in sorted(gateway.store.directory.glob("*.json")):
            if not file.name.startswith(".") and (raw := _read(file)) is not None:
                files[file.stem.lower()] = (file.name, raw)
        if app:
            files[app] = (f"{app}.json (edited)", request.body)
        return explain(files, method, path, app=app or None).as_dict()

    return web.json_response(await asyncio.to_thread(work))


FILES = "/admin/routes/files/{app}"
"""The file API: one path for every app name."""
FILE_ALIAS = "/admin/routes/{app}"
"""Its first path, kept for clients of it: every app name but `RESERVED`, which its sibling
endpoints (`/admin/routes/status`...) take."""
_ALIAS = {
    "deprecated": True,
    "description": "The file API's first path, kept: it cannot name the apps `status`, `reload`, "
    "`validate` or `explain` (400 reserved-app-name); `/api/v1/admin/routes/files/{app}` can.",
}


@routes.get(FILES, roles=ADMIN, tags=TAGS, response=ANY_FILE)
async def routes_read(request: ApiRequest) -> web.Response:
    """The file's text, with its ETag for a later PUT/DELETE."""
    gateway, app = request.app[GATEWAY], _app_name(request)
    raw = _read(_file(gateway, app))
    if raw is None:
        raise Problem(404, f"No route file for app {app!r}")
    return web.Response(body=raw, content_type="application/json", headers={"ETag": _etag(raw)})


_PUT = {
    "requestBody": _FILE_BODY,
    "schemas": _SCHEMAS,
    "parameters": [
        _IF_MATCH,
        _header("If-None-Match", "`*`: create; fails if the file exists"),
    ],
    "responses": {
        "200": {"description": "Saved and applied"},
        "201": {"description": "Created and applied"},
    },
}


@routes.put(FILES, roles=ADMIN, tags=TAGS, max_body=8 << 20, response=Saved, openapi=_PUT)
async def routes_write(request: ApiRequest) -> web.Response:
    """Create or replace the file: If-Match (or If-None-Match: * to create), validated, atomic."""
    gateway, app = request.app[GATEWAY], _app_name(request)
    result = await asyncio.to_thread(
        compile_table, app, request.body, request.app[GATEWAY].store.policy
    )
    if not result.ok:
        first = result.errors[0]
        raise Problem(
            422,
            f"The route file is invalid ({len(result.errors)} error(s)); first at line "
            f"{first.line} column {first.column}: {first.message}",
            slug="invalid-route-file",
            errors=[e.as_dict() for e in result.errors],
        )
    async with gateway.write_lock, routes_write_lock(gateway.store.directory):
        path = _file(gateway, app)
        current = _read(path)
        _check_precondition(request, current)
        try:
            await asyncio.to_thread(_write_atomic, path, request.body)
        except OSError as exc:
            raise Problem(
                409, f"The routes folder cannot be written ({exc.strerror})", slug="read-only"
            ) from None
        await gateway.store.reload(reason="admin")
    status = gateway.store.status.get(app)
    return web.json_response(
        {
            "app": app,
            "hash": content_hash(request.body),
            "warnings": [w.as_dict() for w in result.warnings],
            "status": status.as_dict() if status else None,
        },
        status=201 if current is None else 200,
        headers={"ETag": _etag(request.body)},
    )


_DELETE = {
    "parameters": [{**_IF_MATCH, "required": True}],
    "responses": {"204": {"description": "Deleted"}},
}


@routes.delete(FILES, roles=ADMIN, tags=TAGS, openapi=_DELETE)
async def routes_delete(request: ApiRequest) -> web.Response:
    """Remove the file (If-Match required); the app stops being served."""
    gateway, app = request.app[GATEWAY], _app_name(request)
    async with gateway.write_lock, routes_write_lock(gateway.store.directory):
        path = _file(gateway, app)
        current = _read(path)
        if current is None:
            raise Problem(404, f"No route file for app {app!r}")
        _check_precondition(request, current)
        try:
            path.unlink()
        except OSError as exc:
            raise Problem(
                409, f"The routes folder cannot be written ({exc.strerror})", slug="read-only"
            ) from None
        await gateway.store.reload(reason="admin")
    return web.Response(status=204)


routes.get(FILE_ALIAS, roles=ADMIN, tags=TAGS, response=ANY_FILE, openapi=_ALIAS)(routes_read)
routes.put(
    FILE_ALIAS,
    roles=ADMIN,
    tags=TAGS,
    max_body=8 << 20,
    response=Saved,
    openapi={**_PUT, **_ALIAS},
)(routes_write)
routes.delete(FILE_ALIAS, roles=ADMIN, tags=TAGS, openapi={**_DELETE, **_ALIAS})(routes_delete)


def _status(gateway: Gateway) -> dict[str, Any]:
    store = gateway.store
    return {
        "dir": str(store.directory),
        "reloads": store.reloads,
        "apps": [s.as_dict() for _, s in sorted(store.status.items())],
    }


RESERVED = frozenset({"status", "reload", "validate", "explain"})
"""Names of the admin endpoints beside `FILE_ALIAS`: `/admin/routes/status` is the status (a GET),
never an app's file, so on that path no method reaches a file of that name (`Status` neither)."""


def _app_name(request: ApiRequest) -> str:
    app = request.match_info["app"].lower()
    if not APP_NAME.match(app):
        raise Problem(400, "An app name is 1-64 characters: a-z, 0-9, '_', '-'")
    if app in RESERVED and request.route is not None and request.route.path == FILE_ALIAS:
        raise Problem(
            400,
            f"{app!r} names an admin endpoint on this path; the file of app {app!r} is at "
            f"/api/v1/admin/routes/files/{app}",
            slug="reserved-app-name",
        )
    return app


def _file(gateway: Gateway, app: str) -> Path:
    status = gateway.store.status.get(app)
    return gateway.store.directory / (status.file if status else f"{app}.json")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


def _etag(raw: bytes) -> str:
    return f'"{content_hash(raw)}"'


def _check_precondition(request: ApiRequest, current: bytes | None) -> None:
    if_match = request.headers.get("If-Match")
    if_none = request.headers.get("If-None-Match")
    if current is None:
        if if_match is not None:
            raise Problem(412, "The file does not exist (If-Match cannot match)")
        return
    if if_none is not None and if_none.strip() == "*":
        raise Problem(412, "The file already exists (If-None-Match: *)")
    if if_match is None:
        raise Problem(
            428,
            "Send If-Match with the ETag from GET, so that a concurrent edit is not overwritten",
            slug="precondition-required",
        )
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and _etag(current) not in tags:
        raise Problem(
            412,
            "The file changed since you read it; reload it and apply your edit again",
            slug="edit-conflict",
            current_etag=_etag(current),
        )


def _write_atomic(path: Path, data: bytes) -> None:
    """Temp file (a dot file, ignored by the watcher) in the same folder, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
