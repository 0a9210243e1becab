"""Clients plugin tables (Tortoise app "clients"): offices and clients, after Mifos/Fineract's m_client.

Tables are named `clients_<model>` so that every plugin's tables sit side by side in one database
without clashing. Office 1 ("Head Office") is created by the plugin's set-up hook when missing.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from host import TenantScoped

__all__ = ("Client", "Office")


class Office(Model):
    """A branch; every client belongs to one (Mifos `officeId`)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    external_id = fields.CharField(max_length=100, unique=True, null=True)
    opening_date = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        app = "clients"
        table = "clients_office"


class Client(TenantScoped):
    """A person served by the institution: a first and a last name, or a full name (an entity).

    Clients belong to a tenant (offices are shared reference data, like products)."""

    id = fields.IntField(primary_key=True)
    office: fields.ForeignKeyRelation[Office] = fields.ForeignKeyField(
        "clients.Office", related_name="clients", on_delete=fields.RESTRICT
    )
    office_id: int
    firstname = fields.CharField(max_length=100, null=True)
    middlename = fields.CharField(max_length=100, null=True)
    lastname = fields.CharField(max_length=100, null=True)
    fullname = fields.CharField(max_length=300, null=True)
    display_name = fields.CharField(max_length=400)
    external_id = fields.CharField(max_length=100, null=True)
    """Unique within the tenant (another tenant may use the same one)."""
    mobile_no = fields.CharField(max_length=50, null=True)
    active = fields.BooleanField(default=False)
    activation_date = fields.DateField(null=True)
    submitted_on_date = fields.DateField(null=True)
    closed_on_date = fields.DateField(null=True)
    """Set by `command=close`: the client is closed (Fineract status 600)."""
    legal_form_id = fields.IntField(null=True)
    """Fineract's legal form: 1 person, 2 entity (None when the caller did not say)."""
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        app = "clients"
        table = "clients_client"
        ordering = ("id",)
        unique_together = (("tenant", "external_id"),)
