"""Demo plugin `clients`: Mifos-style clients and offices (see clients.api for the endpoints).

Other plugins build on it: loans and savings point their accounts at `clients.Client`, and the
`clients.created` event (with `savingsProductId`) lets the savings plugin open an account.
"""

from __future__ import annotations

import contextlib

from tortoise.exceptions import IntegrityError

from host import Plugin, PluginContext

from . import commands  # noqa: F401  (registers the command endpoints on v1)
from .api import v1, v2
from .graphql import part as graphql_part
from .models import Office


async def setup(context: PluginContext) -> None:
    """Office 1 ("Head Office") exists in every installation (the Mifos demo data relies on it)."""
    if not await Office.exists(id=1):
        with contextlib.suppress(IntegrityError):  # another process starting at once made it
            await Office.create(id=1, name="Head Office")


plugin = Plugin(
    name="clients",
    version="0.3.0",
    requires=("mifos",),
    models="clients.models",
    rest={"v1": v1, "v2": v2},
    graphql=graphql_part,
    setup=setup,
    description="Clients and offices, Mifos/Fineract style",
)
