"""Loans plugin tables (Tortoise app "loans"): loan products and loans, after Fineract's m_loan.

`Loan.client` points at the clients plugin's table (a cross-plugin foreign key: both apps share one
connection). Loan product 1 is created by the plugin's set-up hook when missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from host import TenantScoped

if TYPE_CHECKING:
    from clients.models import Client

__all__ = ("Loan", "LoanProduct", "LoanStatus", "LoanTransaction", "LoanTransactionType")


class LoanStatus:
    """Fineract's loan status codes (m_loan.loan_status_id)."""

    SUBMITTED = 100
    APPROVED = 200
    ACTIVE = 300
    WITHDRAWN = 400
    REJECTED = 500
    CLOSED = 600
    OVERPAID = 700


class LoanTransactionType:
    """Fineract's loan transaction types (m_loan_transaction.transaction_type_enum)."""

    DISBURSEMENT = 1
    REPAYMENT = 2


class LoanProduct(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    short_name = fields.CharField(max_length=4, unique=True)
    currency_code = fields.CharField(max_length=3, default="USD")
    principal = fields.DecimalField(max_digits=19, decimal_places=6)
    """Default principal when a loan application gives none."""
    min_principal = fields.DecimalField(max_digits=19, decimal_places=6, null=True)
    max_principal = fields.DecimalField(max_digits=19, decimal_places=6, null=True)
    number_of_repayments = fields.IntField(default=12)
    repayment_every = fields.IntField(default=1)
    repayment_frequency_type = fields.IntField(default=2)  # 0 days, 1 weeks, 2 months
    interest_rate_per_period = fields.DecimalField(max_digits=19, decimal_places=6)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        app = "loans"
        table = "loans_loan_product"


class Loan(TenantScoped):
    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "clients.Client", related_name="loans", on_delete=fields.RESTRICT
    )
    client_id: int
    product: fields.ForeignKeyRelation[LoanProduct] = fields.ForeignKeyField(
        "loans.LoanProduct", related_name="loans", on_delete=fields.RESTRICT
    )
    product_id: int
    external_id = fields.CharField(max_length=100, null=True)
    """Unique within the tenant."""
    loan_type = fields.CharField(max_length=20, default="individual")
    principal = fields.DecimalField(max_digits=19, decimal_places=6)
    number_of_repayments = fields.IntField()
    repayment_every = fields.IntField()
    repayment_frequency_type = fields.IntField()
    interest_rate_per_period = fields.DecimalField(max_digits=19, decimal_places=6)
    status = fields.IntField(default=LoanStatus.SUBMITTED)
    submitted_on_date = fields.DateField(null=True)
    expected_disbursement_date = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # added in demo release 0.2 (nullable, so that the 0.1 -> 0.2 migration applies to a filled table)
    note = fields.CharField(max_length=500, null=True)
    # Fineract's application terms (release 0.3, nullable); None when the application did not give them
    loan_term_frequency = fields.IntField(null=True)
    loan_term_frequency_type = fields.IntField(null=True)  # 0 days, 1 weeks, 2 months, 3 years
    amortization_type = fields.IntField(null=True)  # 0 equal principal, 1 equal installments
    interest_type = fields.IntField(null=True)  # 0 declining balance, 1 flat
    interest_calculation_period_type = fields.IntField(null=True)  # 0 daily, 1 as repayments
    transaction_processing_strategy_code = fields.CharField(max_length=100, null=True)
    # the lifecycle (commands approve, undoApproval, reject, disburse; repayments)
    approved_on_date = fields.DateField(null=True)
    approved_principal = fields.DecimalField(max_digits=19, decimal_places=6, null=True)
    rejected_on_date = fields.DateField(null=True)
    disbursed_on_date = fields.DateField(null=True)
    closed_on_date = fields.DateField(null=True)
    transactions: fields.ReverseRelation[LoanTransaction]

    class Meta:
        app = "loans"
        table = "loans_loan"
        ordering = ("id",)
        unique_together = (("tenant", "external_id"),)


class LoanTransaction(TenantScoped):
    """A disbursement or a repayment of a loan (Fineract's m_loan_transaction)."""

    id = fields.IntField(primary_key=True)
    loan: fields.ForeignKeyRelation[Loan] = fields.ForeignKeyField(
        "loans.Loan", related_name="transactions", on_delete=fields.CASCADE
    )
    loan_id: int
    type = fields.IntField()
    amount = fields.DecimalField(max_digits=19, decimal_places=6)
    date = fields.DateField()
    note = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        app = "loans"
        table = "loans_loan_transaction"
        ordering = ("id",)
