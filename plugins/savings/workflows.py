"""Savings workflows run by the job runner: posting interest to every active account, in chunks.

Each chunk (a range of account ids) runs as one job item inside one transaction with its recorded
outcome, so a worker killed mid-run posts no chunk twice; pause, resume, retry and progress come
from the job. Run it with `POST /api/v1/workflows/savings.post-interest/runs`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, cast

from host import Workflow, WorkflowContext, chunked

__all__ = ("post_interest",)

CENT = Decimal("0.01")


async def plan_interest(ctx: WorkflowContext) -> list[dict[str, Any]]:
    """Chunks of account ids: [fromId, toId) over the active accounts."""
    from savings.models import SavingsAccount, SavingsStatus

    size = int(ctx.params["chunk"])
    if size < 1:
        raise ValueError("chunk must be at least 1")
    ids: list[int] = cast(  # flat=True gives the ids themselves, whatever Tortoise's stub says
        list[int],
        await SavingsAccount.filter(status=SavingsStatus.ACTIVE)
        .order_by("id")
        .values_list("id", flat=True),
    )
    return [
        {"fromId": ids[i], "toId": ids[min(i + size, len(ids)) - 1] + 1}
        for i in range(0, len(ids), size)
    ]


def interest(balance: Decimal, annual_rate: Decimal, periods_per_year: int) -> Decimal:
    """One period's interest on a balance, rounded to the cent (banker's rounding)."""
    raw = balance * annual_rate / Decimal(100) / Decimal(periods_per_year)
    return raw.quantize(CENT, rounding=ROUND_HALF_EVEN)


async def post_chunk(ctx: WorkflowContext, chunk: dict[str, Any]) -> dict[str, Any]:
    from savings.models import SavingsAccount, SavingsStatus

    periods = int(ctx.params["periodsPerYear"])
    accounts = await SavingsAccount.filter(
        id__gte=chunk["fromId"], id__lt=chunk["toId"], status=SavingsStatus.ACTIVE
    ).select_for_update()
    posted = Decimal(0)
    for account in accounts:
        amount = interest(
            Decimal(account.balance), Decimal(account.nominal_annual_interest_rate), periods
        )
        if amount:
            account.balance = Decimal(account.balance) + amount
            await account.save(update_fields=["balance", "updated_at"])
            posted += amount
    return {"accounts": len(accounts), "posted": str(posted)}


post_interest = Workflow(
    name="post-interest",
    run=chunked(plan_interest, post_chunk),
    description="Post one period's interest to every active savings account, in chunks of ids",
    params={"chunk": 500, "periodsPerYear": 12},
)
