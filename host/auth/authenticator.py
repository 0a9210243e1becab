"""Identity: who is calling, and what they may do.

Users log in with a password (argon2id hashes) and get a signed JWT, or send HTTP Basic as
Fineract clients do; machines send an API key.
`Identity` is what the rest of the host sees; it never carries a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
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

from host.auth import throttle
from host.auth.models import ApiKey, RevokedToken, User
from host.context import RequestContext, use_context
from host.cpu import run_cpu
from host.problems import Problem

__all__ = (
    "ADMIN_ROLE",
    "AUTH",
    "Authenticator",
    "Identity",
    "bind_tenant",
    "check_roles",
    "check_tenant_name",
    "hash_password",
    "hash_password_off_loop",
    "require_roles",
    "tenant_for",
    "verify_password",
    "verify_password_off_loop",
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
    tenant: str | None = None
    """The one tenant this identity may act in; None: any (a platform user or key)."""
    token_id: str | None = field(default=None, compare=False)
    """The access token's `jti` (user tokens), for logout."""
    token_version: int = field(default=0, compare=False)
    expires: float = field(default=0.0, compare=False)

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def has_any_role(self, roles: Iterable[str]) -> bool:
        """True when no role is required, the identity is admin, or it holds one of `roles`."""
        wanted = set(roles)
        return not wanted or self.is_admin or bool(wanted & self.roles)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


async def hash_password_off_loop(password: str) -> str:
    """`hash_password` in the CPU pool: argon2 must never run on the event loop."""
    return await run_cpu(hash_password, password)


async def verify_password_off_loop(password_hash: str | None, password: str) -> bool:
    """`verify_password` in the CPU pool (~125 ms of CPU per check)."""
    return await run_cpu(verify_password, password_hash, password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


_TENANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_tenant_name(tenant: str | None) -> str | None:
    """A tenant name as X-Tenant accepts it (ValueError otherwise); None stays None."""
    if tenant is not None and not _TENANT_NAME.match(tenant):
        raise ValueError(f"{tenant!r} is not a tenant name (letters, digits, _ . -; up to 64)")
    return tenant


def tenant_for(identity: Identity | None, requested: str | None) -> str | None:
    """The tenant a call runs in: a bound identity's own (403 when X-Tenant names another one),
    else what X-Tenant asked for (None: the default)."""
    if identity is None or identity.tenant is None:
        return requested
    if requested is not None and requested != identity.tenant:
        raise Problem(
            403,
            f"This identity belongs to tenant {identity.tenant!r} and cannot act in {requested!r}",
            slug="tenant-forbidden",
        )
    return identity.tenant


def bind_tenant(
    identity: Identity | None, headers: Mapping[str, str], ctx: RequestContext
) -> RequestContext:
    """The request context with the tenant the identity is bound to (also the current context);
    403 when X-Tenant names another tenant. Called right after the identity is known."""
    requested = headers.get("X-Tenant", "").strip() or None
    tenant = tenant_for(identity, requested)
    if tenant is None or tenant == ctx.tenant:
        return ctx
    bound = ctx.with_tenant(tenant)
    use_context(bound)
    return bound


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


UserState = tuple[bool, frozenset[str], int, str | None]
"""(active, roles, token version, tenant) of a user, as the token check reads it."""


class Authenticator:
    """Issues and checks credentials. One per app; holds the signing key."""

    algorithm = "HS256"

    def __init__(
        self,
        secret_key: str,
        token_ttl: int = 3600,
        cache_size: int = 4096,
        user_cache_seconds: float = 5.0,
        login_limit: int = 5,
        login_window: float = 300.0,
    ) -> None:
        self._key = secret_key
        self.token_ttl = token_ttl
        # a user token is checked against its user (exists, active, token version, current roles)
        # and its jti against the revocations; both answers are kept this long, so changes made
        # by any instance take effect within seconds without a query per request
        self.user_cache_seconds = user_cache_seconds
        self._users: dict[str, tuple[float, UserState | None]] = {}
        self._revoked: dict[str, tuple[float, bool]] = {}
        # verified tokens -> (identity, expiry): a client sends the same token many times, and
        # checking an HMAC signature costs more than the rest of a trivial request
        self._verified: dict[str, tuple[Identity, float]] = {}
        self._cache_size = cache_size
        self._basic: dict[str, tuple[Identity, float]] = {}
        # wrong Basic passwords count in the login throttle's table, like every login
        self.login_limit, self.login_window = login_limit, login_window

    # tokens ---------------------------------------------------------------------------------
    def issue_token(
        self,
        subject: str,
        roles: Iterable[str],
        *,
        ttl: int | None = None,
        kind: str = "user",
        scope: str | None = None,
        version: int = 0,
        tenant: str | None = None,
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
        if version:
            claims["ver"] = version
        if tenant is not None:
            claims["tenant"] = tenant
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
            tenant=claims.get("tenant"),
            token_id=str(claims["jti"]) if claims.get("jti") else None,
            token_version=int(claims.get("ver") or 0),
            expires=float(claims["exp"]),
        )
        return identity, float(claims["exp"])

    # user tokens follow their user ------------------------------------------------------------
    async def current_user(self, identity: Identity) -> Identity:
        """A user token's identity as its user is now: 401 when the user is gone, deactivated or
        the token was revoked (logout, "everywhere"), with the user's current roles otherwise."""
        if identity.kind != "user":
            return identity
        state = await self._user_state(identity.subject)
        if state is None or not state[0]:
            raise unauthenticated("The user of this access token no longer exists or is inactive")
        _active, roles, version, tenant = state
        if identity.token_version != version:
            raise unauthenticated("The access token was revoked; log in again")
        if identity.token_id and await self._is_revoked(identity.token_id):
            raise unauthenticated("The access token was revoked; log in again")
        if roles == identity.roles and tenant == identity.tenant:
            return identity
        return Identity(
            subject=identity.subject,
            roles=roles,
            kind=identity.kind,
            scope=identity.scope,
            tenant=tenant,
            token_id=identity.token_id,
            token_version=identity.token_version,
            expires=identity.expires,
        )

    async def _user_state(self, username: str) -> UserState | None:
        now = time.monotonic()
        cached = self._users.get(username)
        if cached is not None and cached[0] > now:
            return cached[1]
        row = await User.get_or_none(username=username)
        state = (
            None
            if row is None
            else (row.active, frozenset(row.roles), row.token_version, row.tenant)
        )
        if len(self._users) >= self._cache_size:
            self._users.clear()
        self._users[username] = (now + self.user_cache_seconds, state)
        return state

    async def _is_revoked(self, jti: str) -> bool:
        now = time.monotonic()
        cached = self._revoked.get(jti)
        if cached is not None and cached[0] > now:
            return cached[1]
        revoked = await RevokedToken.exists(jti=jti)
        if len(self._revoked) >= self._cache_size:
            self._revoked.clear()
        self._revoked[jti] = (now + self.user_cache_seconds, revoked)
        return revoked

    async def revoke(self, identity: Identity, *, everywhere: bool = False) -> None:
        """Log a user token out (its jti, in the database); `everywhere`: every token of the user
        (bumps the user's token version). Takes effect here at once, elsewhere within the cache
        time."""
        import datetime as dt

        from tortoise.expressions import F

        if identity.kind != "user":
            raise Problem(400, "Only user access tokens can be logged out; revoke API keys instead")
        if everywhere:
            await User.filter(username=identity.subject).update(
                token_version=F("token_version") + 1
            )
            self._users.pop(identity.subject, None)
        if identity.token_id:
            expires = dt.datetime.fromtimestamp(identity.expires or time.time(), dt.UTC)
            await RevokedToken.get_or_create(
                jti=identity.token_id,
                defaults={"subject": identity.subject, "expires_at": expires},
            )
            await RevokedToken.filter(expires_at__lt=dt.datetime.now(dt.UTC)).delete()
            self._revoked[identity.token_id] = (time.monotonic() + self.token_ttl, True)

    def forget_user(self, username: str) -> None:
        """Drop the cached state of a user changed by this process (roles, deactivation)."""
        self._users.pop(username, None)

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
        # a prefix that cannot be one of ours never reaches the database (whose error would
        # quote it); new_api_key makes 12 hex digits, the column holds 16
        well_formed = 0 < len(prefix) <= 16 and prefix.isascii() and prefix.isalnum() and secret
        row = await ApiKey.get_or_none(prefix=prefix, active=True) if well_formed else None
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if row is None or not hmac.compare_digest(row.secret_hash, digest):
            raise unauthenticated("The API key is invalid")
        return Identity(
            subject=f"apikey:{row.name}",
            roles=frozenset(row.roles),
            kind="apikey",
            tenant=row.tenant,
        )

    async def identify(
        self, headers: Mapping[str, str], address: str = "unknown"
    ) -> Identity | None:
        """Who sent these headers: None when no credential was sent, 401 when a bad one was.
        `address` is the caller's (host.forwarded.client_address): Basic logins are throttled
        per user name and address."""
        authorization = headers.get("Authorization", "")
        if authorization or "Authorization" in headers:  # sent but blank is a bad credential too
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                return await self.current_user(self.verify_token(value.strip()))
            if scheme.lower() == "apikey" and value.strip():
                return await self.verify_api_key(value.strip())
            if scheme.lower() == "basic" and value.strip():
                return await self.verify_basic(value.strip(), address)
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

    async def verify_basic(self, value: str, address: str = "unknown") -> Identity:
        """`Authorization: Basic base64(username:password)` for API users.

        The argon2 check runs in a thread (it takes tens of milliseconds, never on the event
        loop); a success is cached under a keyed hash of the credential, never the credential.
        Wrong passwords are throttled as the API and admin logins are (host.auth.throttle): the
        failures of a user name from an address are rows in the database, so every process
        counts them, and more than `login_limit` in `login_window` seconds answer 429.
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
        window = self.login_window
        wait = await throttle.retry_after(username, address, limit=self.login_limit, window=window)
        if wait:
            raise Problem(
                429,
                f"Too many failed logins for this user from this address; try again in {wait} s",
                slug="too-many-logins",
                headers={"Retry-After": str(wait)},
            )
        identity = await self.check_password(username, password)
        if identity is None:
            await throttle.record_failure(username, address, window=window)
            raise unauthenticated("Unknown username or wrong password")
        await throttle.clear(username, address)
        if len(self._basic) >= self._cache_size:
            self._basic.clear()
        self._basic[key] = (identity, now + self.basic_ttl)
        return identity

    # users ----------------------------------------------------------------------------------
    @staticmethod
    async def check_password(username: str, password: str) -> Identity | None:
        """The identity for a username and password, or None. The argon2 check always runs in
        the bounded CPU pool."""
        plausible = 0 < len(username) <= 150 and "\x00" not in username
        user = await User.get_or_none(username=username, active=True) if plausible else None
        valid = await verify_password_off_loop(user.password_hash if user else None, password)
        if not valid or user is None:
            return None
        return Identity(
            subject=user.username,
            roles=frozenset(user.roles),
            kind="user",
            tenant=user.tenant,
            token_version=user.token_version,
        )


AUTH = web.AppKey("auth", Authenticator)
