"""Demo plugin `savings`: Mifos-style savings accounts for clients (endpoints in `savings.api`).

Requires `clients`. Listens to `clients.created`: a client created with `savingsProductId` gets an
account (see `savings.events`).
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

from tortoise.exceptions import IntegrityError

from host import Plugin, PluginContext

from . import commands  # noqa: F401  (registers the lifecycle endpoints on v1)
from .api import v1
from .events import open_account_for_new_client
from .graphql import part as graphql_part
from .workflows import post_interest


async def setup(context: PluginContext) -> None:
    """Savings product 1 exists in every installation (the Mifos demo data relies on it).

    Several processes start at once (`serve --workers N`, instances): the one that loses the race
    to create it finds it created.
    """
    from savings.models import SavingsProduct

    if await SavingsProduct.exists(id=1):
        return
    with contextlib.suppress(IntegrityError):
        await SavingsProduct.create(
            id=1,
            name="Demo savings product",
            short_name="DSP",
            currency_code="USD",
            nominal_annual_interest_rate=Decimal("5"),
            min_required_opening_balance=Decimal("0"),
        )


plugin = Plugin(
    name="savings",
    version="0.2.0",
    requires=("clients", "mifos"),
    models="savings.models",
    rest={"v1": v1},
    graphql=graphql_part,
    events={"clients.created": open_account_for_new_client},
    workflows=[post_interest],
    setup=setup,
    description="Savings accounts for clients, Mifos/Fineract style",
)
