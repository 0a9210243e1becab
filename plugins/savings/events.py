"""Bus handlers of the savings plugin: `clients.created` with `savingsProductId` opens an account.

As Fineract does when a client is created with a savings product: the account is active from the
client's activation date when the client is active, else submitted and pending approval.

The handler is idempotent: the account carries `origin_key` ("clients.created:<client>:<product>"),
unique in the table, so a redelivered event (or two host instances bridging the same event) opens
at most one account per client and product.
"""

from __future__ import annotations

import logging

from clients.models import Client
from tortoise.exceptions import IntegrityError

from host import Event, unit_of_work

from .models import SavingsAccount, SavingsProduct, SavingsStatus

__all__ = ("open_account_for_new_client",)

log = logging.getLogger("plughost.plugins.savings")


def origin_key(client_id: int, product_id: int) -> str:
    return f"clients.created:{client_id}:{product_id}"


async def open_account_for_new_client(event: Event) -> None:
    product_id = event.payload.get("savingsProductId")
    client_id = event.payload.get("clientId")
    if product_id is None:
        return
    if not isinstance(product_id, int) or not isinstance(client_id, int):
        log.warning("clients.created with non-numeric ids ignored", extra={"event_id": event.id})
        return
    key = origin_key(client_id, product_id)
    if await SavingsAccount.exists(origin_key=key):
        return
    client = await Client.get_or_none(id=client_id)
    product = await SavingsProduct.get_or_none(id=product_id)
    if client is None or product is None:
        log.warning(
            "no savings account opened: unknown client or product",
            extra={"client_id": client_id, "savings_product_id": product_id},
        )
        return
    active = client.active and client.activation_date is not None
    try:
        async with unit_of_work():
            account = await SavingsAccount.create(
                client_id=client.id,
                product_id=product.id,
                nominal_annual_interest_rate=product.nominal_annual_interest_rate,
                status=SavingsStatus.ACTIVE if active else SavingsStatus.SUBMITTED,
                submitted_on_date=client.submitted_on_date or client.activation_date,
                activated_on_date=client.activation_date if active else None,
                origin_key=key,
            )
            if event.bus is not None:
                await event.bus.publish(
                    "savings.created",
                    {"savingsId": account.id, "clientId": client.id, "productId": product.id},
                )
    except IntegrityError:  # the same event handled concurrently elsewhere: already opened
        return
