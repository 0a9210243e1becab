from tortoise import fields
from tortoise.models import Model


class Client(Model):
    id = fields.IntField(primary_key=True)
    firstname = fields.CharField(max_length=100, default="")
    lastname = fields.CharField(max_length=100, default="")

    class Meta:
        app = "clients"
        table = "clients_client"
