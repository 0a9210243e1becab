"""A trivial plugin for bench/host_overhead.py: the cheapest endpoint a plugin can have."""

from aiohttp import web

from host import ApiRequest, Plugin, Routes

v1 = Routes()


@v1.get("/ping", public=True)
async def ping(request: ApiRequest) -> web.Response:
    return web.json_response({"pong": True})


@v1.get("/ping-auth")
async def ping_auth(request: ApiRequest) -> web.Response:
    return web.json_response({"pong": True})


plugin = Plugin(name="benchping", version="1.0", rest={"v1": v1})
