from aiohttp import web

from host import ApiRequest, Plugin, Routes

from .models import Client

v1 = Routes()


@v1.post("/clients")
async def create(request: ApiRequest) -> web.Response:
    data = await request.json()
    client = await Client.create(firstname=data.get("firstname", ""))
    await request.publish("clients.created", {"clientId": client.id})
    return web.json_response(
        {"officeId": 1, "clientId": client.id, "resourceId": client.id}, status=201
    )


@v1.get("/clients/{id}")
async def get(request: ApiRequest) -> web.Response:
    client = await Client.get(id=int(request.match_info["id"]))
    return web.json_response({"id": client.id, "firstname": client.firstname})


plugin = Plugin(name="clients", version="0.1.0", models="clients.models", rest={"v1": v1})
