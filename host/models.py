"""The host's own tables (Tortoise app "host"): users and API keys.

Other host concepts (jobs, idempotency records, route history) add their models in their own modules
and list them in `HOST_MODEL_MODULES`, so the host app has one migration history like any plugin.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

HOST_MODEL_MODULES: list[str] = ["host.models"]


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=150, unique=True)
    password_hash = fields.CharField(max_length=255)
    roles: list[str] = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

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

    class Meta:
        app = "host"
        table = "host_api_key"
