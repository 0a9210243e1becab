"""The outbox's tables (Tortoise app "host_outbox"): events, and one delivery row per subscription.

An event row is written in the publisher's own transaction, so an event exists exactly when the
change that raised it was committed. Each delivery row is one subscription's progress on one
event: `pending` (due at `due_at`), `running` (leased until `due_at` by `claimed_by`), `done`, or
`dead` (gave up after the last attempt; shown in the admin UI, retried by hand). One column serves
as both the retry time and the lease expiry, so "what may I take now" is one index range.
Times are Unix seconds (floats) written by the processes: the SQL stays the same on both dialects.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ("DELIVERY_STATES", "OutboxDelivery", "OutboxEvent")

DELIVERY_STATES = ("pending", "running", "done", "dead")


class OutboxEvent(Model):
    id = fields.BigIntField(primary_key=True)
    """The event's id everywhere (Event.id): stable across redeliveries, for idempotent handlers."""
    topic = fields.CharField(max_length=200)
    payload = fields.TextField()
    """JSON text (not a JSON column: the same raw SQL then works on both dialects)."""
    tenant = fields.CharField(max_length=64, null=True)
    request_id = fields.CharField(max_length=128, null=True)
    published_at = fields.FloatField(db_index=True)
    origin = fields.CharField(max_length=100, default="")
    """The process that published it (host:pid:nonce)."""

    class Meta:
        app = "host_outbox"
        table = "host_outbox_event"


class OutboxDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    event: fields.ForeignKeyRelation[OutboxEvent] = fields.ForeignKeyField(
        "host_outbox.OutboxEvent", related_name="deliveries", on_delete=fields.CASCADE
    )
    subscription = fields.CharField(max_length=200)
    state = fields.CharField(max_length=8, default="pending")
    attempts = fields.IntField(default=0)
    due_at = fields.FloatField()
    claimed_by = fields.CharField(max_length=100, default="")
    last_error = fields.TextField(null=True)
    done_at = fields.FloatField(null=True)

    class Meta:
        app = "host_outbox"
        table = "host_outbox_delivery"
        unique_together = (("event", "subscription"),)
        indexes = (("state", "due_at"),)
