"""Tortoise app "host_batch": stored answers for `Idempotency-Key` (batches and batch items)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ("IdempotencyRecord",)


class IdempotencyRecord(Model):
    """One key per scope (kind, tenant, caller): in flight until `response` is stored."""

    id = fields.IntField(primary_key=True)
    scope = fields.CharField(max_length=300)
    key = fields.CharField(max_length=255)
    fingerprint = fields.CharField(max_length=64)
    state = fields.CharField(max_length=16, default="in_flight")  # in_flight | done
    status = fields.IntField(null=True)
    response = fields.TextField(null=True)
    """The stored answer as JSON text (a batch's item list, or one item's answer)."""
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        app = "host_batch"
        table = "host_batch_idempotency"
        unique_together = (("scope", "key"),)
