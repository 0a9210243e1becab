"""Demo plugin `clients` (Mifos-style clients and offices); endpoints in `clients.api`."""

from __future__ import annotations

from aiohttp import web

from host import ApiRequest, Plugin, Routes

from .models import Client, Office

v1 = Routes()


async def setup(app: web.Application) -> None:
    """Office 1 ("Head Office") exists in every installation (the Mifos demo data relies on it)."""
    if not await Office.exists(id=1):
        await Office.create(id=1, name="Head Office")


@v1.post("/clients")
async def create(request: ApiRequest) -> web.Response:
    data = await request.json()
    first = data.get("firstname", "")
    client = await Client.create(office_id=1, firstname=first, display_name=first)
    await request.publish("clients.created", {"clientId": client.id})
    return web.json_response(
        {"officeId": 1, "clientId": client.id, "resourceId": client.id}, status=201
    )


@v1.get("/clients/{id}")
async def get(request: ApiRequest) -> web.Response:
    client = await Client.get(id=int(request.match_info["id"]))
    return web.json_response({"id": client.id, "firstname": client.firstname})


plugin = Plugin(
    name="clients",
    version="0.1.0",
    models="clients.models",
    rest={"v1": v1},
    setup=setup,
    description="Clients and offices, Mifos/Fineract style",
)
