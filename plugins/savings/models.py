"""Savings plugin tables (Tortoise app "savings"): products and accounts, after Fineract's m_savings_*.

`SavingsAccount.client` points at the clients plugin's table. Savings product 1 is created by the
plugin's set-up hook when missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from host import TenantScoped

if TYPE_CHECKING:
    from clients.models import Client

__all__ = ("SavingsAccount", "SavingsProduct", "SavingsStatus", "SavingsTransaction")


class SavingsStatus:
    """Fineract's savings account status codes (m_savings_account.status_enum)."""

    SUBMITTED = 100
    APPROVED = 200
    ACTIVE = 300
    CLOSED = 600


class SavingsProduct(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    short_name = fields.CharField(max_length=4, unique=True)
    currency_code = fields.CharField(max_length=3, default="USD")
    nominal_annual_interest_rate = fields.DecimalField(max_digits=19, decimal_places=6)
    min_required_opening_balance = fields.DecimalField(max_digits=19, decimal_places=6, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        app = "savings"
        table = "savings_savings_product"


class SavingsAccount(TenantScoped):
    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "clients.Client", related_name="savings_accounts", on_delete=fields.RESTRICT
    )
    client_id: int
    product: fields.ForeignKeyRelation[SavingsProduct] = fields.ForeignKeyField(
        "savings.SavingsProduct", related_name="accounts", on_delete=fields.RESTRICT
    )
    product_id: int
    external_id = fields.CharField(max_length=100, null=True)
    """Unique within the tenant."""
    balance = fields.DecimalField(max_digits=19, decimal_places=6, default=0)
    nominal_annual_interest_rate = fields.DecimalField(max_digits=19, decimal_places=6)
    status = fields.IntField(default=SavingsStatus.SUBMITTED)
    submitted_on_date = fields.DateField(null=True)
    activated_on_date = fields.DateField(null=True)
    approved_on_date = fields.DateField(null=True)
    origin_key = fields.CharField(max_length=100, unique=True, null=True)
    """Set when an event opened the account ("clients.created:<client>:<product>"): the unique
    constraint keeps a redelivered event from opening a second account."""
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        app = "savings"
        table = "savings_savings_account"
        ordering = ("id",)
        unique_together = (("tenant", "external_id"),)


class SavingsTransaction(TenantScoped):
    """A deposit (1) or withdrawal (2) on a savings account (Fineract's m_savings_account_transaction)."""

    DEPOSIT = 1
    WITHDRAWAL = 2

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[SavingsAccount] = fields.ForeignKeyField(
        "savings.SavingsAccount", related_name="transactions", on_delete=fields.CASCADE
    )
    account_id: int
    type = fields.IntField()
    amount = fields.DecimalField(max_digits=19, decimal_places=6)
    date = fields.DateField()
    running_balance = fields.DecimalField(max_digits=19, decimal_places=6)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        app = "savings"
        table = "savings_savings_transaction"
        ordering = ("id",)
