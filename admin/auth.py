"""Admin sessions: login with the API's users and argon2 hashes, a signed session cookie, CSRF.

The session is a cookie signed (HMAC-SHA256) with a key derived from the host's secret key: no
session table, so several host instances sharing the secret accept each other's sessions. It holds
the user name, a random session id and an expiry; the user's roles are read from the database on
every request, so removing the `admin` role or deactivating the user takes effect at once. Logging
out revokes the session id in the database, shared by every instance (and deletes the cookie). Failed
logins are counted in the database too (host/throttle.py), shared with the API login.

CSRF: every state-changing request carries a token (form field `_csrf` or header `X-CSRF-Token`)
equal to HMAC(key, session id); the login form uses a double-submit cookie instead, as there is no
session yet.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from admin.render import page
from admin.state import ADMIN_USER, MAIN_APP, AdminUser
from host.auth import ADMIN_ROLE, AUTH, throttle
from host.auth.models import User
from host.config import SETTINGS
from host.forwarded import client_address as forwarded_client
from host.forwarded import peer_trusted
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
    # X-Forwarded-Proto counts only when a trusted proxy sent the request
    if not peer_trusted(request.remote, request.app[MAIN_APP][SETTINGS].proxy_networks):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"


def client_address(request: web.Request) -> str:
    """The TCP peer, or the rightmost untrusted X-Forwarded-For hop behind a trusted proxy."""
    return forwarded_client(
        request.remote,
        request.headers.getall("X-Forwarded-For", []),
        request.app[MAIN_APP][SETTINGS].proxy_networks,
    )


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
    user: AdminUser | None = request.get(ADMIN_USER)
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
    if claims is None:
        return _to_login(request)
    from host.auth.models import RevokedToken

    # logged-out sessions are kept in the database, so every instance refuses them
    if await RevokedToken.exists(jti=_revocation_id(str(claims.get("sid")))):
        return _to_login(request)
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


def _revocation_id(sid: str) -> str:
    return f"admin:{sid}"[:64]


def _to_login(request: web.Request) -> web.StreamResponse:
    if request.headers.get("Accept", "") == "text/event-stream":
        raise Problem(401, "Log in first")
    target = request.path_qs if request.method == "GET" else "/admin/"
    location = "/admin/login?" + _urlencode({"next": target})
    raise web.HTTPSeeOther(location)


def _urlencode(values: dict[str, str]) -> str:
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
    settings = request.app[MAIN_APP][SETTINGS]
    address = client_address(request)
    window = settings.login_window_seconds
    wait = await throttle.retry_after(
        username, address, limit=settings.login_max_failures, window=window
    )
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
        await throttle.record_failure(username, address, window=window)
        return _login_page(
            request,
            next_=next_,
            username=username,
            error="Unknown user name or wrong password.",
            status=401,
        )
    await throttle.clear(username, address)
    if ADMIN_ROLE not in identity.roles:
        raise Problem(403, f"The user {identity.subject!r} does not have the admin role")
    claims = {
        "u": identity.subject,
        "sid": secrets.token_urlsafe(16),
        "exp": int(time.time()) + SESSION_SECONDS,
    }
    response = web.Response(status=303, headers={"Location": next_})
    _set_cookie(request, response, COOKIE, sign_session(_key(request.app), claims))
    response.del_cookie(LOGIN_COOKIE, path="/admin")
    return response


@web_routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:

    user = current_user(request)
    from host.auth.models import RevokedToken

    await RevokedToken.get_or_create(
        jti=_revocation_id(user.sid),
        defaults={
            "subject": user.username,
            "expires_at": dt.datetime.fromtimestamp(user.expires, dt.UTC),
        },
    )
    await RevokedToken.filter(expires_at__lt=dt.datetime.now(dt.UTC)).delete()
    response = web.Response(status=303, headers={"Location": "/admin/login"})
    response.del_cookie(COOKIE, path="/admin")
    return response
