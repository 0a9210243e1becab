"""`plughost new-plugin NAME`: a plugin folder with a working example of every part of the contract.

The result is small but complete: a model and its first migrations (SQLite and PostgreSQL), a REST
route pair, a GraphQL fragment extending `Query`, a bus handler, and a test that starts a real
server with the plugin and passes. Authors then edit it and run `plughost makemigrations NAME`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import keyword
import shutil
import sys
from pathlib import Path

from host.data.makemigrations import write_initial_offline
from host.plugin import NAME, Plugin

__all__ = ("ScaffoldError", "new_plugin", "plugin_files")


class ScaffoldError(Exception):
    """The plugin cannot be created (bad name, folder exists); the message says which."""


INIT = '''"""__NAME__: a plughost plugin (made by `plughost new-plugin`; see docs/plugins.md).

REST: `POST /api/v1/__NAME__/items` (role `__NAME__:write`) and `GET /api/v1/__NAME__/items/{id}`
(role `__NAME__:read`). GraphQL: `{ __CAMEL__Item(id: 1) { id title seen } }`. Bus: creating an item
publishes `__NAME__.item_created`; this plugin's own handler marks the item as seen.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

from host import Answer, ApiRequest, Event, GraphQL, Plugin, Problem, Routes

from .models import Item

log = logging.getLogger("plughost.plugins.__NAME__")

v1 = Routes()


class NewItem(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class ItemView(BaseModel):  # what the answers hold: /api/openapi.json shows it (response=)
    id: int
    title: str
    seen: bool


class Created(BaseModel):
    resourceId: int


def item_json(item: Item) -> dict[str, Any]:
    return {"id": item.id, "title": item.title, "seen": item.seen}


@v1.post(
    "/__NAME__/items",
    roles=("__NAME__:write",),
    body=NewItem,
    status=201,
    response=Created,
    summary="Create an item",
)
async def create_item(request: ApiRequest[NewItem]) -> Answer:  # a dict: JSON, status 201
    body = request.validated
    item = await Item.create(title=body.title)
    await request.publish("__NAME__.item_created", {"itemId": item.id})
    return {"resourceId": item.id}


@v1.get(
    "/__NAME__/items/{id}", roles=("__NAME__:read",), response=ItemView, summary="Read an item"
)
async def get_item(request: ApiRequest) -> Answer:
    raw = request.match_info["id"]
    item = await Item.get_or_none(id=int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    if item is None:
        raise Problem(404, f"no item with id {raw}")
    return item_json(item)


async def mark_seen(event: Event) -> None:
    """Bus handler: runs after the creating transaction committed."""
    await Item.filter(id=event.payload["itemId"]).update(seen=True)
    log.info("item seen", extra={"item": event.payload["itemId"]})


SDL = """
type __CLASS__Item {
  id: ID!
  title: String!
  seen: Boolean!
}
extend type Query {
  __CAMEL__Item(id: ID!): __CLASS__Item
}
"""


async def resolve_item(_: Any, info: Any, id: str) -> dict[str, Any] | None:
    ok = str(id).isascii() and str(id).isdigit() and len(str(id)) < 10  # ASCII, fits int4
    item = await Item.get_or_none(id=int(id)) if ok else None
    return item_json(item) if item is not None else None


plugin = Plugin(
    name="__NAME__",
    version="0.1.0",
    models="__NAME__.models",
    rest={"v1": v1},
    graphql=GraphQL(SDL, {"Query": {"__CAMEL__Item": resolve_item}}),
    events={"__NAME__.item_created": mark_seen},
    description="__NAME__ (scaffolded)",
)
'''

MODELS = '''"""Tables of the __NAME__ plugin (Tortoise app "__NAME__").

After changing a model, run `plughost makemigrations __NAME__` and commit the files it writes.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Item(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    seen = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        app = "__NAME__"
        table = "__NAME___item"
'''

TEST = '''"""Tests of the __NAME__ plugin: a real server on a temp SQLite database with this plugin loaded.

Run from anywhere with plughost installed: `pytest <plugins dir>/__NAME__`, or `pytest` inside the
plugin folder. The `plughost` fixture comes with plughost (`host.testing`, a pytest plugin).
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
async def client(plughost: Any) -> Any:
    return await plughost.start()


@pytest.fixture
async def headers(plughost: Any, client: Any) -> dict[str, str]:
    return dict(await plughost.login(client))


async def test_create_then_read_and_the_bus_handler_ran(
    plughost: Any, client: Any, headers: Any
) -> None:
    resp = await client.post("/api/v1/__NAME__/items", json={"title": "first"}, headers=headers)
    assert resp.status == 201, await resp.text()
    item_id = (await resp.json())["resourceId"]
    await plughost.settle(client)  # the bus handler ran
    resp = await client.get(f"/api/v1/__NAME__/items/{item_id}", headers=headers)
    assert resp.status == 200
    assert await resp.json() == {"id": item_id, "title": "first", "seen": True}


async def test_bad_body_and_unknown_id_are_problems(client: Any, headers: Any) -> None:
    resp = await client.post("/api/v1/__NAME__/items", json={"title": ""}, headers=headers)
    assert resp.status == 422
    assert resp.content_type == "application/problem+json"
    resp = await client.get("/api/v1/__NAME__/items/999", headers=headers)
    assert resp.status == 404
    resp = await client.get("/api/v1/__NAME__/items/1")
    assert resp.status == 401


async def test_graphql_fragment(client: Any, headers: Any) -> None:
    resp = await client.post("/api/v1/__NAME__/items", json={"title": "gql"}, headers=headers)
    assert resp.status == 201, await resp.text()
    item_id = (await resp.json())["resourceId"]
    query = {
        "query": "query($id: ID!) { __CAMEL__Item(id: $id) { id title } }",
        "variables": {"id": item_id},
    }
    resp = await client.post("/graphql", json=query, headers=headers)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["data"] == {"__CAMEL__Item": {"id": str(item_id), "title": "gql"}}
'''


def _names(name: str) -> dict[str, str]:
    parts = [p for p in name.split("_") if p]
    cls = "".join(p[:1].upper() + p[1:] for p in parts)
    return {"__NAME__": name, "__CLASS__": cls, "__CAMEL__": cls[:1].lower() + cls[1:]}


def plugin_files(name: str) -> dict[str, str]:
    """The scaffold's files (relative path → text) for a plugin name."""
    names = _names(name)

    def fill(template: str) -> str:
        for key, value in names.items():
            template = template.replace(key, value)
        return template

    return {
        "__init__.py": fill(INIT),
        "models.py": fill(MODELS),
        f"tests/test_{name}.py": fill(TEST),
    }


def check_name(name: str, parent: Path) -> Path:
    if not NAME.match(name) or keyword.iskeyword(name) or name.endswith("_"):
        raise ScaffoldError(
            f"bad plugin name {name!r}: use lowercase letters, digits and _ "
            f"(matching {NAME.pattern}), starting with a letter"
        )
    folder = parent / name
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists; choose another name or remove it")
    taken = name in sys.stdlib_module_names or name in {"host", "admin", "workers", "tests"}
    if taken or importlib.util.find_spec(name) is not None:
        raise ScaffoldError(f"bad plugin name {name!r}: a module {name!r} is already importable")
    return folder


def new_plugin(name: str, parent: Path, *, migrations: bool = True) -> list[Path]:
    """Create `parent/name/` and return the files written; nothing is left behind on failure."""
    folder = check_name(name, parent)
    written: list[Path] = []
    try:
        for rel, text in plugin_files(name).items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
        if migrations:
            written += asyncio.run(_initial_migrations(name, folder))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return written


async def _initial_migrations(name: str, folder: Path) -> list[Path]:
    parent = str(folder.parent.resolve())
    if parent not in sys.path:
        sys.path.insert(0, parent)
    plugin = Plugin(name=name, version="0.1.0", models=f"{name}.models", package_dir=folder)
    return await write_initial_offline(plugin)
