"""A trivial plugin for bench/host_overhead.py: the cheapest endpoint a plugin can have.

Its handlers return a dict, the plainest answer the plugin API offers (docs/plugins.md).
"""

from host import Answer, ApiRequest, Plugin, Routes

v1 = Routes()


@v1.get("/ping", public=True)
async def ping(request: ApiRequest) -> Answer:
    return {"pong": True}


@v1.get("/ping-auth")
async def ping_auth(request: ApiRequest) -> Answer:
    return {"pong": True}


plugin = Plugin(name="benchping", version="1.0", rest={"v1": v1})
