from tortoise import fields
from tortoise.models import Model


class Lag(Model):
    """Seconds from an event's outbox write (just before its commit) to its handler's start."""

    id = fields.IntField(primary_key=True)
    event_id = fields.BigIntField()
    lag = fields.FloatField()

    class Meta:
        app = "benchlag"
        table = "benchlag_lag"
