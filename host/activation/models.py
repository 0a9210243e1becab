"""The activation state of each `plughost serve --workers N` master: one row per instance.

In the database, not in a file of the master: the serving processes answer `/healthz` and the
admin Plugins page from it, and every instance (and the admin UI on any of them) sees every
instance's row.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Activation(Model):
    instance = fields.CharField(max_length=200, primary_key=True)
    """`hostname:port` of the master (two instances on one machine have two ports)."""
    state = fields.CharField(max_length=16)
    """serving | requested (the admin button) | rolling | aborted (the old processes serve on)."""
    generation = fields.IntField(default=0)
    """Of the processes serving now: 0 at start, +1 per completed roll."""
    serving: list[str] = fields.JSONField(default=list)
    """The plugin set serving now, as "name version" strings."""
    attempted: list[str] = fields.JSONField(default=list)
    """The plugin set the last aborted roll tried to load (empty: none, or not reported)."""
    error = fields.TextField(default="")
    """Why the last roll was aborted, one line; cleared by a roll that succeeds (or a restart)."""
    aborted_at = fields.DatetimeField(null=True)
    """When the roll in `error` was aborted."""
    changed_at = fields.DatetimeField()
    """When `state` was last set."""
    rolled_at = fields.DatetimeField(null=True)
    """When the serving set was activated (the master's start, or the last completed roll)."""

    class Meta:
        app = "host_activation"
        table = "host_activation"
