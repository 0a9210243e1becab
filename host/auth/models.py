"""The host's own tables (Tortoise app "host"): users and API keys.

Other host components (jobs, idempotency records, route history) are Tortoise apps of their own,
listed in `host.app.HOST_APPS`, each with its own migration history like a plugin.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=150, unique=True)
    password_hash = fields.CharField(max_length=255)
    roles: list[str] = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    tenant = fields.CharField(max_length=64, null=True)
    """The one tenant this user works in; None: a platform user, who may choose any (X-Tenant)."""
    token_version = fields.IntField(default=0)
    """Tokens carry the version they were issued under; bumping it ("log out everywhere")
    invalidates every token of the user at once, in every instance sharing the database."""

    class Meta:
        app = "host"
        table = "host_user"


class ApiKey(Model):
    """A machine credential: `<prefix>.<secret>`; only the secret's SHA-256 is stored."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    prefix = fields.CharField(max_length=16, unique=True)
    secret_hash = fields.CharField(max_length=64)
    roles: list[str] = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    tenant = fields.CharField(max_length=64, null=True)
    """The one tenant this key works in; None: any tenant (a platform key)."""

    class Meta:
        app = "host"
        table = "host_api_key"


class RevokedToken(Model):
    """An access token logged out before it expired (by its `jti`); dropped once it has expired.

    In the database, not in a process: every instance sharing it refuses the token.
    """

    jti = fields.CharField(max_length=64, primary_key=True)
    subject = fields.CharField(max_length=150)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        app = "host"
        table = "host_revoked_token"


class LoginFailure(Model):
    """One failed password check, for the login throttle (API and admin UI share it)."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=150)
    address = fields.CharField(max_length=64)
    failed_at = fields.DatetimeField(db_index=True)

    class Meta:
        app = "host"
        table = "host_login_failure"
        indexes = (("username", "address"),)
