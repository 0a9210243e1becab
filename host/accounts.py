"""Accounts over HTTP (a built-in plugin): log in, who am I, API keys for machines.

The plugin also owns the host's own tables (users and API keys, `host.auth.models`).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from host.auth import ADMIN_ROLE, AUTH, throttle
from host.auth.models import ApiKey
from host.auth.users import add_api_key
from host.config import SETTINGS
from host.data.db import db_int
from host.pipeline import ApiRequest, Routes
from host.plugin import Plugin
from host.problems import Problem

__all__ = ("plugin", "routes")

routes = Routes()


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class Token(BaseModel):
    """A bearer token for `Authorization: Bearer ...`, valid `expires_in` seconds."""

    access_token: str
    token_type: str
    expires_in: int
    username: str
    roles: list[str]


class WhoAmI(BaseModel):
    subject: str
    roles: list[str]
    kind: str
    tenant: str | None


class ApiKeyView(BaseModel):
    """An API key as listed (never its secret)."""

    id: int
    name: str
    prefix: str
    roles: list[str]
    active: bool
    createdAt: str


class NewApiKeyAnswer(ApiKeyView):
    key: str
    """The secret, shown in this answer only."""


# no transaction: the password check waits for the CPU pool, and an open SQLite transaction would
# hold the one connection (and every other request) for that long
@routes.post(
    "/authentication",
    public=True,
    body=Credentials,
    tags=("auth",),
    transaction=False,
    response=Token,
)
async def authenticate(request: ApiRequest[Credentials]) -> web.Response:
    """Exchange a username and password for a bearer token."""
    creds = request.validated
    auth, settings = request.app[AUTH], request.app[SETTINGS]
    address = request.caller_address
    window = settings.login_window_seconds
    wait = await throttle.retry_after(
        creds.username, address, limit=settings.login_max_failures, window=window
    )
    if wait:
        raise Problem(
            429,
            f"Too many failed logins for this user from this address; try again in {wait} s",
            slug="too-many-logins",
            headers={"Retry-After": str(wait)},
        )
    identity = await auth.check_password(creds.username, creds.password)
    if identity is None:
        await throttle.record_failure(creds.username, address, window=window)
        raise Problem(401, "Unknown username or wrong password", slug="bad-credentials")
    await throttle.clear(creds.username, address)
    token, ttl = auth.issue_token(
        identity.subject, identity.roles, version=identity.token_version, tenant=identity.tenant
    )
    return web.json_response(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "username": identity.subject,
            "roles": sorted(identity.roles),
        }
    )


class Logout(BaseModel):
    model_config = ConfigDict(extra="forbid")
    everywhere: bool = False
    """Also every other token of this user (all devices), not only the one sent."""


@routes.post(
    "/authentication/logout",
    tags=("auth",),
    transaction=False,
    openapi={
        "responses": {"204": {"description": "Logged out"}},
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Logout"}}},
        },
        "schemas": {"Logout": Logout.model_json_schema()},
    },
)
async def logout(request: ApiRequest) -> web.Response:
    """Revoke the access token this call sent (`{"everywhere": true}`: all of the user's tokens).

    Stored in the database, so every instance refuses the token (within the user cache time)."""
    identity = request.identity
    if identity is None:  # not public: the pipeline answered 401 already
        raise Problem(401, "Authentication required")
    everywhere = False
    if request.body.strip():
        everywhere = Logout.model_validate(await request.json()).everywhere
    await request.app[AUTH].revoke(identity, everywhere=everywhere)
    return web.Response(status=204)


@routes.get("/me", tags=("auth",), response=WhoAmI)
async def whoami(request: ApiRequest) -> web.Response:
    """The identity this call runs as."""
    identity = request.identity
    assert identity is not None  # the route is not public
    return web.json_response(
        {
            "subject": identity.subject,
            "roles": sorted(identity.roles),
            "kind": identity.kind,
            "tenant": request.tenant,
        }
    )


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    roles: list[str] = Field(default_factory=list, max_length=50)


def _key_json(row: ApiKey) -> dict[str, object]:
    return {
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "roles": row.roles,
        "active": row.active,
        "createdAt": row.created_at.isoformat(),
    }


@routes.post(
    "/apikeys",
    roles=(ADMIN_ROLE,),
    body=NewApiKey,
    tags=("auth",),
    status=201,
    response=NewApiKeyAnswer,
    openapi={"responses": {"201": {"description": "Created; `key` is shown this once"}}},
)
async def create_api_key(request: ApiRequest[NewApiKey]) -> web.Response:
    """Create an API key; the key is shown in this answer only (send it as `X-API-Key`)."""
    data = request.validated
    row, key = await add_api_key(data.name, data.roles)
    return web.json_response({**_key_json(row), "key": key}, status=201)


@routes.get("/apikeys", roles=(ADMIN_ROLE,), tags=("auth",), response=list[ApiKeyView])
async def list_api_keys(request: ApiRequest) -> web.Response:
    """API keys (never their secrets)."""
    return web.json_response([_key_json(row) for row in await ApiKey.all().order_by("id")])


@routes.delete("/apikeys/{id}", roles=(ADMIN_ROLE,), tags=("auth",), response=ApiKeyView)
async def revoke_api_key(request: ApiRequest) -> web.Response:
    """Revoke an API key; it stops working at once."""
    row = await ApiKey.get(id=_int_id(request.match_info["id"]))
    row.active = False
    await row.save(update_fields=["active"])
    return web.json_response(_key_json(row))


def _int_id(value: str) -> int:
    number = db_int(value)
    if number is None:
        raise Problem(404, f"No API key with id {value!r}")
    return number


plugin = Plugin(
    name="host",  # the Tortoise app (and migration history) of users and API keys
    version="1",
    models="host.auth.models",
    package_dir=Path(__file__).resolve().parent / "auth",
    rest={"v1": routes},
    description="Log in, who am I, API keys",
)
