"""Admin sessions: login with the API's users and argon2 hashes, a signed session cookie, CSRF.

The session is a cookie signed (HMAC-SHA256) with a key derived from the host's secret key: no
session table, so several host instances sharing the secret accept each other's sessions. It holds
the user name, a random session id and an expiry; the user's roles are read from the database on
every request, so removing the `admin` role or deactivating the user takes effect at once. The
session id also has a row in the database (`AdminSession`), checked on every request: logging out
revokes that row, so the session is refused by every host instance and stays refused after a
restart (a per-process list would forget it). Expired rows are pruned at login.

CSRF: every state-changing request carries a token (form field `_csrf` or header `X-CSRF-Token`)
equal to HMAC(key, session id); the login form uses a double-submit cookie instead, as there is no
session yet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from admin.render import page
from admin.state import ADMIN, ADMIN_USER, MAIN_APP, AdminUser
from host.auth import ADMIN_ROLE
from host.keys import AUTH, SETTINGS
from host.problems import Problem

__all__ = ("AdminUser", "csrf_middleware", "session_middleware", "web_routes")

COOKIE = "plughost_admin"
LOGIN_COOKIE = "plughost_admin_login"
SESSION_SECONDS = 8 * 3600
PUBLIC_PATHS = ("/admin/login", "/admin/static/")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

web_routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _key(app: web.Application) -> bytes:
    secret = app[MAIN_APP][SETTINGS].resolved_secret_key().encode()
    return hmac.new(secret, b"plughost-admin-session-v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_session(key: bytes, claims: dict[str, Any]) -> str:
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    mac = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{mac}"


def read_session(key: bytes, cookie: str, now: float | None = None) -> dict[str, Any] | None:
    """The claims of a well-signed, unexpired cookie; None otherwise."""
    body, _, mac = cookie.partition(".")
    try:
        expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
        if not mac or not hmac.compare_digest(mac, expected):
            return None
        claims = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("u"), str):
        return None
    if float(claims.get("exp", 0)) < (time.time() if now is None else now):
        return None
    return claims


def csrf_token(key: bytes, sid: str) -> str:
    return hmac.new(key, f"csrf:{sid}".encode(), hashlib.sha256).hexdigest()


def is_https(request: web.Request) -> bool:
    if request.secure:
        return True
    trust = request.app[MAIN_APP][SETTINGS].trust_forwarded
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return trust and proto == "https"


def client_address(request: web.Request) -> str:
    if request.app[MAIN_APP][SETTINGS].trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.remote or "unknown"


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/admin",
        httponly=True,
        samesite="Lax",
        secure=is_https(request),
        max_age=SESSION_SECONDS,
    )


def current_user(request: web.Request) -> AdminUser:
    user = request.get(ADMIN_USER)
    if user is None:
        raise Problem(401, "Log in first")
    return user


def _is_public(path: str) -> bool:
    return path == PUBLIC_PATHS[0] or path.startswith(PUBLIC_PATHS[1])


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every admin page needs a valid session of an active user holding the `admin` role."""
    if _is_public(request.path):
        return await handler(request)
    key = _key(request.app)
    claims = read_session(key, request.cookies.get(COOKIE, ""))
    if claims is None or not await _session_valid(str(claims.get("sid", "")), claims["u"]):
        return _to_login(request)
    from host.models import User

    user = await User.get_or_none(username=claims["u"], active=True)
    if user is None:
        return _to_login(request)
    if ADMIN_ROLE not in user.roles:
        raise Problem(403, f"The user {user.username!r} does not have the admin role")
    sid = str(claims["sid"])
    request[ADMIN_USER] = AdminUser(
        username=user.username,
        roles=frozenset(user.roles),
        sid=sid,
        expires=float(claims["exp"]),
        csrf=csrf_token(key, sid),
    )
    return await handler(request)


async def _session_valid(sid: str, username: str) -> bool:
    from admin.models import AdminSession

    return await AdminSession.exists(
        sid=sid, username=username, revoked_at=None, expires_at__gt=time.time()
    )


async def _open_session(username: str) -> dict[str, Any]:
    from admin.models import AdminSession

    now = time.time()
    claims = {"u": username, "sid": secrets.token_urlsafe(16), "exp": int(now) + SESSION_SECONDS}
    await AdminSession.filter(expires_at__lt=now).delete()
    await AdminSession.create(
        sid=claims["sid"], username=username, created_at=now, expires_at=claims["exp"]
    )
    return claims


def _to_login(request: web.Request) -> web.StreamResponse:
    if request.headers.get("Accept", "") == "text/event-stream":
        raise Problem(401, "Log in first")
    target = request.path_qs if request.method == "GET" else "/admin/"
    location = "/admin/login?" + _urlencode({"next": target})
    raise web.HTTPSeeOther(location)


def _urlencode(values: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(values)


async def _sent_token(request: web.Request) -> str:
    header = request.headers.get("X-CSRF-Token", "")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get("_csrf", "")
        return value if isinstance(value, str) else ""
    return ""


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a state-changing request without the session's CSRF token (403)."""
    if request.method not in UNSAFE:
        return await handler(request)
    sent = await _sent_token(request)
    if request.path == "/admin/login":
        expected = request.cookies.get(LOGIN_COOKIE, "")
    else:
        user = request.get(ADMIN_USER)
        expected = user.csrf if user is not None else ""
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Problem(
            403,
            "The form was refused: its security token (CSRF) is missing or does not match "
            "your session. Reload the page and try again.",
            title="Forbidden: bad or missing CSRF token",
        )
    return await handler(request)


def _safe_next(value: str) -> str:
    """Only local admin paths: never an open redirect."""
    if value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin/"


@web_routes.get("/login")
async def login_form(request: web.Request) -> web.StreamResponse:
    return _login_page(request, next_=_safe_next(request.query.get("next", "")))


def _login_page(
    request: web.Request, *, next_: str, error: str = "", username: str = "", status: int = 200
) -> web.StreamResponse:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        {"next": next_, "error": error, "username": username, "login_csrf": token},
        status=status,
    )
    _set_cookie(request, response, LOGIN_COOKIE, token)
    return response


@web_routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    next_ = _safe_next(str(form.get("next", "")))
    state = request.app[ADMIN]
    address = client_address(request)
    wait = state.throttle.retry_after(username, address)
    if wait:
        response = _login_page(
            request,
            next_=next_,
            username=username,
            error=f"Too many failed attempts. Try again in {wait} seconds.",
            status=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    identity = await request.app[MAIN_APP][AUTH].check_password(username, password)
    if identity is None:
        state.throttle.failed(username, address)
        return _login_page(
            request,
            next_=next_,
            username=username,
            error="Unknown user name or wrong password.",
            status=401,
        )
    state.throttle.succeeded(username, address)
    if ADMIN_ROLE not in identity.roles:
        raise Problem(403, f"The user {identity.subject!r} does not have the admin role")
    claims = await _open_session(identity.subject)
    response = web.Response(status=303, headers={"Location": next_})
    _set_cookie(request, response, COOKIE, sign_session(_key(request.app), claims))
    response.del_cookie(LOGIN_COOKIE, path="/admin")
    return response


@web_routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    from admin.models import AdminSession

    user = current_user(request)
    await AdminSession.filter(sid=user.sid).update(revoked_at=time.time())
    response = web.Response(status=303, headers={"Location": "/admin/login"})
    response.del_cookie(COOKIE, path="/admin")
    return response
