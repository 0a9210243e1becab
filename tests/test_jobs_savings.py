"""The demo savings plugin's `post-interest` workflow, run as a job over every active account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from aiohttp.test_utils import TestClient

from tests.conftest import finished, login, start, wait_for


async def test_post_interest_runs_in_chunks_over_active_accounts(
    make_client: Callable[..., Awaitable[TestClient]],
) -> None:
    client = await make_client()
    admin = {"Authorization": f"Bearer {await login(client)}"}
    from clients.models import Client, Office
    from savings.models import SavingsAccount, SavingsStatus

    office = await Office.first() or await Office.create(name="Head Office")
    # seven accounts in tenant "default" (where the job runs), two active ones of another tenant
    # among them, inside the id ranges of the job's chunks
    tenants = ["default", "default", "tenant-b", "default", "default", "tenant-b", "default"]
    for i, tenant in enumerate([*tenants, "default", "default"]):
        person = await Client.create(office=office, display_name=f"Saver {i}", tenant=tenant)
        await SavingsAccount.create(
            client=person,
            product_id=1,
            balance=Decimal("1200.00"),
            nominal_annual_interest_rate=Decimal("5"),
            status=SavingsStatus.ACTIVE if i != 4 else SavingsStatus.SUBMITTED,
            tenant=tenant,
        )
    resp = await client.get("/api/v1/workflows", headers=admin)
    assert "savings.post-interest" in {w["name"] for w in (await resp.json())["workflows"]}

    job_id = await start(client, admin, "savings.post-interest", chunk=2)
    view = await wait_for(client, admin, job_id, finished)
    assert view["state"] == "completed" and view["total"] == 3  # 6 active accounts, 2 per chunk
    rows = await SavingsAccount.in_tenant("default")
    balances = sorted((a.status, Decimal(a.balance)) for a in rows)
    # 1200 * 5% / 12 = 5.00 per active account, posted exactly once; the pending one untouched
    assert balances.count((SavingsStatus.ACTIVE, Decimal("1205.00"))) == 6
    assert (SavingsStatus.SUBMITTED, Decimal("1200.00")) in balances
    # the job's chunks covered its own tenant only: the other tenant's accounts are untouched
    other = [Decimal(a.balance) for a in await SavingsAccount.in_tenant("tenant-b")]
    assert other == [Decimal("1200.00")] * 2
