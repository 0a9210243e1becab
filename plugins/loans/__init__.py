"""Demo plugin `loans`: Mifos-style loan applications for clients (endpoints in `loans.api`).

Requires `clients`: `Loan.client` is a foreign key to `clients.Client` (one connection, two apps).
Release 0.2 added the nullable `Loan.note` (its own migration, to show upgrades).
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

from host import Plugin, PluginContext

from . import commands  # noqa: F401  (registers the lifecycle endpoints on v1)
from .api import v1
from .graphql import part as graphql_part


async def setup(context: PluginContext) -> None:
    """Loan product 1 exists in every installation (the Mifos demo data relies on it)."""
    from tortoise.exceptions import IntegrityError

    from loans.models import LoanProduct

    if not await LoanProduct.exists(id=1):
        with contextlib.suppress(IntegrityError):  # another process starting at once made it
            await LoanProduct.create(
                id=1,
                name="Demo loan product",
                short_name="DLP",
                currency_code="USD",
                principal=Decimal("10000"),
                min_principal=Decimal("100"),
                max_principal=Decimal("1000000"),
                number_of_repayments=12,
                repayment_every=1,
                repayment_frequency_type=2,
                interest_rate_per_period=Decimal("1.5"),
            )


plugin = Plugin(
    name="loans",
    version="0.3.0",
    requires=("clients", "mifos"),
    models="loans.models",
    rest={"v1": v1},
    graphql=graphql_part,
    setup=setup,
    description="Loan applications for clients, Mifos/Fineract style",
)
