"""The admin UI's own table (Tortoise app "host_admin"): history of route files saved through it."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ("AdminSession", "RouteVersion")


class RouteVersion(Model):
    """One version of a routes.d file as written by the admin UI (or found on disk before)."""

    id = fields.IntField(primary_key=True)
    app = fields.CharField(max_length=100, db_index=True)
    content = fields.TextField()
    """The whole file; empty for a deletion."""
    hash = fields.CharField(max_length=64)
    author = fields.CharField(max_length=150)
    action = fields.CharField(max_length=20)
    """initial (what was on disk before the first UI edit) | save | create | rollback | delete"""
    note = fields.CharField(max_length=200, default="")
    applied_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        app = "host_admin"
        table = "host_admin_route_version"
        ordering = ("-id",)


class AdminSession(Model):
    """A signed-in admin UI session. The cookie (signed) names it; this row says whether it is
    still good, so a logout on one host instance is refused on every other, and survives restarts."""

    id = fields.IntField(primary_key=True)
    sid = fields.CharField(max_length=64, unique=True)
    username = fields.CharField(max_length=150, db_index=True)
    created_at = fields.FloatField()
    expires_at = fields.FloatField(db_index=True)
    revoked_at = fields.FloatField(null=True)

    class Meta:
        app = "host_admin"
        table = "host_admin_session"
