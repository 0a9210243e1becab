"""Routes pages: reload status, edit with validation and diff, conflict on concurrent edits, history.

Everything goes through the gateway's admin API in-process (`/api/v1/admin/routes/...`): the file is
written by the gateway (atomically, with the version check of `If-Match`), and applied by its watcher.
The admin UI keeps the history of versions saved through it (`admin.models.RouteVersion`).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from admin.auth import current_user
from admin.client import ApiResult, call
from admin.models import RouteVersion
from admin.render import page
from host.problems import Problem

__all__ = ("FileProblem", "diff_lines", "web_routes")

web_routes = web.RouteTableDef()
API = "/api/v1/admin/routes"
APP_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NEW_APP_TEMPLATE = """{
  "version": 1,
  "routes": [
  ]
}
"""


@dataclass(frozen=True)
class FileProblem:
    """One validation error to show: message, line, column and the offending line of text."""

    message: str
    line: int = 0
    column: int = 0
    source: str = ""

    @property
    def caret(self) -> str:
        return " " * max(self.column - 1, 0) + "^" if self.column else ""


def diff_lines(
    old: str, new: str, old_name: str = "current", new_name: str = "yours"
) -> list[tuple[str, str]]:
    """A unified diff as (css class, line) pairs; empty when equal."""
    out: list[tuple[str, str]] = []
    for line in difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""
    ):
        if line.startswith(("+++", "---")):
            kind = "meta"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_app_name(app: str) -> str:
    app = app.lower()
    if not APP_NAME.match(app):
        raise Problem(400, "An app name is 1-64 characters: a-z, 0-9, '_', '-'")
    return app


def _api_path(app: str, suffix: str = "") -> str:
    """The app's file in the file API (`files/{app}`: any name, `status` and `reload` included)."""
    return f"{API}/files/{quote(app, safe='')}{suffix}"


def file_problems(result: ApiResult, text: str) -> list[FileProblem]:
    """The validation errors an API answer carries, each with its line of `text`."""
    data = result.data if isinstance(result.data, dict) else {}
    raw = data.get("errors")
    if raw is None and isinstance(data.get("error"), dict):
        raw = [data["error"]]
    if not isinstance(raw, list) or not raw:
        return [FileProblem(result.detail)]
    lines = text.splitlines()
    out = []
    for err in raw:
        if not isinstance(err, dict):
            out.append(FileProblem(str(err)))
            continue
        line = int(err.get("line") or 0)
        column = int(err.get("column") or err.get("col") or 0)
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        out.append(FileProblem(str(err.get("message", err)), line, column, source))
    return out


def when(value: Any) -> str:
    """A time from the API (ISO text or Unix seconds) as 'YYYY-MM-DD HH:MM:SS UTC'."""
    if value in (None, ""):
        return ""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def status_rows(data: Any) -> list[dict[str, Any]]:
    """Normalise the gateway's status answer to one row per app."""
    items: Any = data
    if isinstance(data, dict):
        items = data.get("apps", data.get("items", data))
    if isinstance(items, dict):
        items = [{"app": name, **(v if isinstance(v, dict) else {})} for name, v in items.items()]
    rows = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        error = item.get("error") or item.get("last_error")
        errors = item.get("errors") or ([error] if error else [])
        first = errors[0] if errors else None
        if isinstance(first, str):
            first = {"message": first}
        rows.append(
            {
                "app": str(item.get("app") or item.get("name") or ""),
                "file": str(item.get("file") or item.get("path") or ""),
                "hash": str(item.get("hash") or item.get("content_hash") or ""),
                "applied_at": when(item.get("applied_at") or item.get("applied")),
                "checked_at": when(item.get("checked_at") or item.get("loaded_at")),
                "routes": item.get("routes")
                if not isinstance(item.get("routes"), list)
                else len(item["routes"]),
                "error": first,
                "error_count": len(errors),
                "state": "error"
                if first
                else (
                    "applied"
                    if item.get("hash") or item.get("content_hash") or item.get("applied_at")
                    else str(item.get("state", "unknown"))
                ),
            }
        )
    return sorted(rows, key=lambda r: r["app"])


async def read_file(request: web.Request, app: str) -> tuple[str, str] | None:
    """(text, etag) of an app's file, or None when it does not exist."""
    result = await call(request, "GET", _api_path(app))
    if result.status == 404:
        return None
    if not result.ok:
        raise Problem(result.status if result.status >= 400 else 502, result.detail)
    return result.text, result.headers.get("ETag", "")


async def write_file(request: web.Request, app: str, text: str, *, etag: str | None) -> ApiResult:
    """PUT the file with the version check: If-Match the version edited, If-None-Match for new."""
    headers = {"Content-Type": "application/json"}
    if etag:
        headers["If-Match"] = etag
    else:
        headers["If-None-Match"] = "*"
    return await call(request, "PUT", _api_path(app), body=text.encode(), headers=headers)


async def record(request: web.Request, app: str, text: str, action: str, note: str = "") -> None:
    await RouteVersion.create(
        app=app,
        content=text,
        hash=text_hash(text) if text else "",
        author=current_user(request).username,
        action=action,
        note=note,
    )


async def record_initial(request: web.Request, app: str, text: str) -> None:
    """Before the first UI edit of an app, keep what was on disk so that it can be rolled back to."""
    if text and not await RouteVersion.exists(app=app):
        await RouteVersion.create(
            app=app,
            content=text,
            hash=text_hash(text),
            author="(on disk)",
            action="initial",
            note="the file before its first edit in the admin UI",
        )


# pages ---------------------------------------------------------------------------------------
@web_routes.get("/routes")
async def routes_list(request: web.Request) -> web.StreamResponse:
    result = await call(request, "GET", f"{API}/status")
    rows = status_rows(result.data) if result.ok else []
    unavailable = "" if result.ok else result.detail
    return page(
        request,
        "routes_list.html",
        {
            "rows": rows,
            "unavailable": unavailable,
            "flash": request.query.get("flash", ""),
            "template": NEW_APP_TEMPLATE,
        },
    )


@web_routes.post("/routes")
async def routes_collection(request: web.Request) -> web.StreamResponse:
    """The list page's forms: `action=reload` (every file now) or `action=create` (a new app).

    They post to the collection, not under /routes/{app}, so that no app name is reserved.
    """
    form = await request.post()
    if form.get("action") == "reload":
        return await routes_reload(request)
    return await routes_create(request)


async def routes_reload(request: web.Request) -> web.StreamResponse:
    result = await call(request, "POST", f"{API}/reload")
    if not result.ok:
        raise Problem(result.status, f"Reload failed: {result.detail}")
    raise web.HTTPSeeOther("/admin/routes?flash=reloaded")


async def routes_create(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    app = str(form.get("app", "")).strip().lower()
    text = str(form.get("content", "") or NEW_APP_TEMPLATE)
    if not APP_NAME.match(app):
        return _edit_page(
            request,
            app,
            text,
            etag="",
            new=True,
            problems=[FileProblem("An app name is 1-64 characters: a-z, 0-9, '_', '-'")],
            status=400,
        )
    result = await write_file(request, app, text, etag=None)
    if result.ok:
        await record(request, app, text, "create")
        raise web.HTTPSeeOther(f"/admin/routes/{quote(app)}?flash=created")
    if result.status in (409, 412):
        return _edit_page(
            request,
            app,
            text,
            etag="",
            new=True,
            status=409,
            problems=[FileProblem(f"An app named {app!r} exists already: edit it instead")],
        )
    return _edit_page(
        request, app, text, etag="", new=True, problems=file_problems(result, text), status=422
    )


@web_routes.get("/routes/{app}")
async def routes_edit(request: web.Request) -> web.StreamResponse:
    app = check_app_name(request.match_info["app"])
    found = await read_file(request, app)
    if found is None:
        raise Problem(404, f"There is no routes file for the app {app!r}")
    text, etag = found
    status = await _app_status(request, app)
    return _edit_page(
        request, app, text, etag=etag, app_status=status, flash=request.query.get("flash", "")
    )


async def _app_status(request: web.Request, app: str) -> dict[str, Any] | None:
    result = await call(request, "GET", f"{API}/status")
    if not result.ok:
        return None
    return next((r for r in status_rows(result.data) if r["app"] == app), None)


def _edit_page(
    request: web.Request,
    app: str,
    text: str,
    *,
    etag: str,
    new: bool = False,
    problems: list[FileProblem] | None = None,
    warnings: list[Any] | None = None,
    diff: list[tuple[str, str]] | None = None,
    checked: bool = False,
    app_status: dict[str, Any] | None = None,
    flash: str = "",
    status: int = 200,
    explained: list[str] | None = None,
    try_method: str = "GET",
    try_path: str = "",
) -> web.Response:
    return page(
        request,
        "routes_edit.html",
        {
            "app": app,
            "content": text,
            "etag": etag,
            "new": new,
            "problems": problems or [],
            "warnings": warnings or [],
            "diff": diff,
            "checked": checked,
            "app_status": app_status,
            "flash": flash,
            "explained": explained,
            "try_method": try_method,
            "try_path": try_path,
        },
        status=status,
    )


@web_routes.post("/routes/{app}")
async def routes_save(request: web.Request) -> web.StreamResponse:
    """Check (validate + diff) or save an edit; a version mismatch gives the conflict page."""
    app = check_app_name(request.match_info["app"])
    form = await request.post()
    text = str(form.get("content", "")).replace("\r\n", "\n")
    etag = str(form.get("etag", ""))
    action = str(form.get("action", "save"))
    current = await read_file(request, app)
    current_text = current[0] if current else ""
    if action == "try":
        return await _try_path(request, app, text, etag, form)
    if action == "check":
        result = await call(
            request,
            "POST",
            f"{API}/validate",
            body=text.encode(),
            headers={"Content-Type": "application/json"},
            query={"app": app},
        )
        problems = [] if result.ok and not _has_errors(result) else file_problems(result, text)
        data = result.data if isinstance(result.data, dict) else {}
        warnings = [w for w in data.get("warnings") or [] if isinstance(w, dict)]
        if current is not None and etag and current[1] != etag:
            warnings.insert(
                0,
                {
                    "message": "Someone saved this file after you opened it: saving now gives a "
                    "conflict page (your text is kept). The diff below is against their version."
                },
            )
        return _edit_page(
            request,
            app,
            text,
            etag=etag,
            problems=problems,
            warnings=warnings,
            diff=diff_lines(current_text, text),
            checked=not problems,
            status=200 if not problems else 422,
        )
    if current is not None:
        await record_initial(request, app, current_text)
    result = await write_file(request, app, text, etag=etag or None)
    if result.ok:
        await record(request, app, text, "save")
        raise web.HTTPSeeOther(f"/admin/routes/{quote(app)}?flash=saved")
    if result.status in (409, 412):
        return _conflict_page(request, app, text, current)
    if result.status == 404:
        raise Problem(
            404, f"The app {app!r} was deleted meanwhile; create it again to keep your text"
        )
    return _edit_page(
        request,
        app,
        text,
        etag=etag,
        problems=file_problems(result, text),
        diff=diff_lines(current_text, text),
        status=422,
    )


async def _try_path(
    request: web.Request, app: str, text: str, etag: str, form: Any
) -> web.Response:
    """The "try a path" box: explain a call against the text being edited, nothing saved."""
    method = str(form.get("try_method", "GET")).upper() or "GET"
    path = str(form.get("try_path", "")).strip() or "/"
    if not path.startswith("/"):
        path = "/" + path
    result = await call(
        request,
        "POST",
        f"{API}/explain",
        body=text.encode(),
        headers={"Content-Type": "application/json"},
        query={"app": app, "method": method, "path": path},
    )
    data = result.data if isinstance(result.data, dict) else {}
    lines = [str(x) for x in data.get("explanation") or [str(data.get("detail", "no answer"))]]
    return _edit_page(
        request, app, text, etag=etag, explained=lines, try_method=method, try_path=path
    )


def _has_errors(result: ApiResult) -> bool:
    data = result.data
    if isinstance(data, dict):
        if data.get("valid") is False or data.get("ok") is False:
            return True
        return bool(data.get("errors"))
    return False


def _conflict_page(
    request: web.Request, app: str, text: str, current: tuple[str, str] | None
) -> web.Response:
    current_text, current_etag = current if current else ("", "")
    return page(
        request,
        "routes_conflict.html",
        {
            "app": app,
            "content": text,
            "current": current_text,
            "current_etag": current_etag,
            "diff": diff_lines(current_text, text, "saved by someone else", "yours"),
        },
        status=409,
    )


@web_routes.post("/routes/{app}/delete")
async def routes_delete(request: web.Request) -> web.StreamResponse:
    app = check_app_name(request.match_info["app"])
    form = await request.post()
    etag = str(form.get("etag", ""))
    current = await read_file(request, app)
    if current is None:
        raise Problem(404, f"There is no routes file for the app {app!r}")
    await record_initial(request, app, current[0])
    headers = {"If-Match": etag} if etag else {}
    result = await call(request, "DELETE", _api_path(app), headers=headers)
    if result.status in (409, 412):
        return _conflict_page(request, app, current[0], current)
    if not result.ok:
        raise Problem(result.status, f"Delete failed: {result.detail}")
    await record(request, app, "", "delete")
    raise web.HTTPSeeOther("/admin/routes?flash=deleted")


@web_routes.get("/routes/{app}/history")
async def routes_history(request: web.Request) -> web.StreamResponse:
    app = check_app_name(request.match_info["app"])
    versions = await RouteVersion.filter(app=app).order_by("-id").limit(100)
    found = await read_file(request, app)
    current_hash = text_hash(found[0]) if found else ""
    rows = []
    for i, v in enumerate(versions):
        before = versions[i + 1].content if i + 1 < len(versions) else ""
        rows.append(
            {
                "id": v.id,
                "action": v.action,
                "author": v.author,
                "when": v.applied_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                "hash": v.hash,
                "note": v.note,
                "current": bool(v.hash) and v.hash == current_hash,
                "deleted": not v.content,
                "diff": diff_lines(before, v.content, "before", f"version {v.id}"),
            }
        )
    return page(
        request,
        "routes_history.html",
        {"app": app, "rows": rows, "exists": found is not None, "etag": found[1] if found else ""},
    )


@web_routes.post("/routes/{app}/rollback/{version}")
async def routes_rollback(request: web.Request) -> web.StreamResponse:
    """Write a previous version back (a new save, so the rollback itself is in the history)."""
    app = check_app_name(request.match_info["app"])
    try:
        version_id = int(request.match_info["version"])
    except ValueError:
        raise Problem(404, "No such version") from None
    version = await RouteVersion.get_or_none(id=version_id, app=app)
    if version is None or not version.content:
        raise Problem(404, f"Version {request.match_info['version']} of {app!r} does not exist")
    current = await read_file(request, app)
    result = await write_file(request, app, version.content, etag=current[1] if current else None)
    if result.status in (409, 412):
        return _conflict_page(request, app, version.content, await read_file(request, app))
    if not result.ok:
        return _edit_page(
            request,
            app,
            version.content,
            etag=current[1] if current else "",
            problems=file_problems(result, version.content),
            status=422,
        )
    await record(request, app, version.content, "rollback", note=f"back to version {version.id}")
    raise web.HTTPSeeOther(f"/admin/routes/{quote(app)}?flash=rolled+back+to+version+{version.id}")
