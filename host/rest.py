"""The host's own REST endpoints: log in, and who am I."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from host.api import ApiRequest, Routes
from host.keys import AUTH
from host.problems import Problem

__all__ = ("routes",)

routes = Routes()


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


@routes.post("/authentication", public=True, body=Credentials, tags=("auth",))
async def authenticate(request: ApiRequest) -> web.Response:
    """Exchange a username and password for a bearer token."""
    creds: Credentials = request.validated
    auth = request.app[AUTH]
    identity = await auth.check_password(creds.username, creds.password)
    if identity is None:
        raise Problem(401, "Unknown username or wrong password", slug="bad-credentials")
    token, ttl = auth.issue_token(identity.subject, identity.roles)
    return web.json_response(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "username": identity.subject,
            "roles": sorted(identity.roles),
        }
    )


@routes.get("/me", tags=("auth",))
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
