"""Identity: who is calling, and what they may do.

Users log in with a password (argon2id hashes) and get a signed JWT, or send HTTP Basic as
Fineract clients do; machines send an API key.
`Identity` is what the rest of the host sees; it never carries a secret.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from host.auth.models import ApiKey, User
from host.problems import Problem

__all__ = (
    "ADMIN_ROLE",
    "AUTH",
    "Authenticator",
    "Identity",
    "check_roles",
    "hash_password",
    "require_roles",
    "verify_password",
)

ADMIN_ROLE = "admin"
_HASHER = PasswordHasher()
# verifying against a dummy hash keeps "no such user" as slow as "wrong password"
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(8))
WWW_AUTHENTICATE = 'Bearer realm="plughost"'


@dataclass(frozen=True, slots=True)
class Identity:
    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)
    kind: str = "user"  # user | apikey | job
    scope: str | None = None  # e.g. "job:42" for a job credential

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def has_any_role(self, roles: Iterable[str]) -> bool:
        """True when no role is required, the identity is admin, or it holds one of `roles`."""
        wanted = set(roles)
        return not wanted or self.is_admin or bool(wanted & self.roles)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def unauthenticated(detail: str = "Authentication required") -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def check_roles(identity: Identity | None, roles: Iterable[str], *, public: bool = False) -> None:
    """The pipeline's role check: 401 without identity, 403 without a permitted role."""
    if public:
        return
    if identity is None:
        raise unauthenticated()
    roles = tuple(roles)
    if not identity.has_any_role(roles):
        raise Problem(403, f"Requires one of the roles: {', '.join(sorted(roles))}")


_MISSING = object()


def require_roles(who: Any, *roles: str) -> Identity:
    """The one role check for plugin code, REST and GraphQL alike; returns the caller's identity.

    `who` is the handler's `request`, a resolver's `info`, or an `Identity` (or None). Roles are
    names, any one of which suffices (admin holds them all): `require_roles(request, "a", "b")`.
    """
    bad = [r for r in roles if not isinstance(r, str)]
    if bad:
        raise TypeError(
            f"require_roles(who, *roles) takes role names as separate strings, got {bad[0]!r}"
        )
    identity = _identity_of(who)
    check_roles(identity, roles)
    assert identity is not None  # check_roles raised otherwise
    return identity


def _identity_of(who: Any) -> Identity | None:
    if who is None or isinstance(who, Identity):
        return who
    found = getattr(who, "identity", _MISSING)
    if found is _MISSING:  # a GraphQL resolver's info: the identity is on its context
        found = getattr(getattr(who, "context", None), "identity", _MISSING)
    if found is _MISSING or not (found is None or isinstance(found, Identity)):
        raise TypeError(f"require_roles: cannot find the caller's identity on {who!r}")
    return found


class Authenticator:
    """Issues and checks credentials. One per app; holds the signing key."""

    algorithm = "HS256"

    def __init__(self, secret_key: str, token_ttl: int = 3600, cache_size: int = 4096) -> None:
        self._key = secret_key
        self.token_ttl = token_ttl
        # verified tokens -> (identity, expiry): a client sends the same token many times, and
        # checking an HMAC signature costs more than the rest of a trivial request
        self._verified: dict[str, tuple[Identity, float]] = {}
        self._cache_size = cache_size
        self._basic: dict[str, tuple[Identity, float]] = {}
        self._basic_failed: dict[str, list[float]] = {}

    # tokens ---------------------------------------------------------------------------------
    def issue_token(
        self,
        subject: str,
        roles: Iterable[str],
        *,
        ttl: int | None = None,
        kind: str = "user",
        scope: str | None = None,
    ) -> tuple[str, int]:
        ttl = ttl or self.token_ttl
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": subject,
            "roles": sorted(set(roles)),
            "kind": kind,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        if scope:
            claims["scope"] = scope
        return jwt.encode(claims, self._key, algorithm=self.algorithm), ttl

    def verify_token(self, token: str) -> Identity:
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        identity, expires = self._decode(token)
        if len(self._verified) >= self._cache_size:
            self._verified.clear()
        self._verified[token] = (identity, expires)
        return identity

    def _decode(self, token: str) -> tuple[Identity, float]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self.algorithm],
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthenticated("The access token has expired") from None
        except jwt.InvalidTokenError:
            raise unauthenticated("The access token is invalid") from None
        identity = Identity(
            subject=str(claims["sub"]),
            roles=frozenset(claims.get("roles") or ()),
            kind=str(claims.get("kind", "user")),
            scope=claims.get("scope"),
        )
        return identity, float(claims["exp"])

    # API keys -------------------------------------------------------------------------------
    @staticmethod
    def new_api_key() -> tuple[str, str, str]:
        """(full key shown once, prefix stored in clear, SHA-256 of the secret part)."""
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        return f"{prefix}.{secret}", prefix, hashlib.sha256(secret.encode()).hexdigest()

    @staticmethod
    async def verify_api_key(key: str) -> Identity:
        prefix, _, secret = key.partition(".")
        row = await ApiKey.get_or_none(prefix=prefix, active=True) if prefix and secret else None
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if row is None or not hmac.compare_digest(row.secret_hash, digest):
            raise unauthenticated("The API key is invalid")
        return Identity(subject=f"apikey:{row.name}", roles=frozenset(row.roles), kind="apikey")

    async def identify(self, headers: Mapping[str, str]) -> Identity | None:
        """Who sent these headers: None when no credential was sent, 401 when a bad one was."""
        authorization = headers.get("Authorization", "")
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                return self.verify_token(value.strip())
            if scheme.lower() == "apikey" and value.strip():
                return await self.verify_api_key(value.strip())
            if scheme.lower() == "basic" and value.strip():
                return await self.verify_basic(value.strip())
            raise unauthenticated("Unsupported Authorization scheme; use Bearer, Basic or ApiKey")
        api_key = headers.get("X-API-Key", "")
        if api_key:
            return await self.verify_api_key(api_key.strip())
        return None

    # HTTP Basic (what Fineract clients send) ------------------------------------------------
    basic_ttl = 60.0
    """A verified Basic credential is trusted this long (a password change or a deactivated user
    takes effect after it): argon2 is meant to be slow, and Fineract clients send Basic on every
    request."""
    basic_failures = 10
    """Failed Basic logins per username within `basic_ttl` before 429 (throttled like logins)."""

    async def verify_basic(self, value: str) -> Identity:
        """`Authorization: Basic base64(username:password)` for API users.

        The argon2 check runs in a thread (it takes tens of milliseconds, never on the event
        loop); a success is cached under a keyed hash of the credential, never the credential.
        """
        key = hmac.new(self._key.encode(), value.encode(), hashlib.sha256).hexdigest()
        now = time.monotonic()
        cached = self._basic.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            username, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise unauthenticated(
                "The Basic credential is not base64 of username:password"
            ) from None
        if not sep or not username:
            raise unauthenticated("The Basic credential is not base64 of username:password")
        failures = [t for t in self._basic_failed.get(username, []) if t > now - self.basic_ttl]
        if len(failures) >= self.basic_failures:
            wait = int(failures[0] + self.basic_ttl - now) + 1
            raise Problem(
                429,
                "Too many failed logins for this user; try again later",
                headers={"Retry-After": str(wait)},
            )
        identity = await self.check_password(username, password, in_thread=True)
        if identity is None:
            self._basic_failed[username] = [*failures, now][-self.basic_failures :]
            if len(self._basic_failed) > self._cache_size:
                self._basic_failed.clear()
            raise unauthenticated("Unknown username or wrong password")
        self._basic_failed.pop(username, None)
        if len(self._basic) >= self._cache_size:
            self._basic.clear()
        self._basic[key] = (identity, now + self.basic_ttl)
        return identity

    # users ----------------------------------------------------------------------------------
    @staticmethod
    async def check_password(
        username: str, password: str, *, in_thread: bool = False
    ) -> Identity | None:
        user = await User.get_or_none(username=username, active=True)
        stored = user.password_hash if user else None
        if in_thread:
            ok = await asyncio.to_thread(verify_password, stored, password)
        else:
            ok = verify_password(stored, password)
        if not ok or user is None:
            return None
        return Identity(subject=user.username, roles=frozenset(user.roles), kind="user")


AUTH = web.AppKey("auth", Authenticator)
