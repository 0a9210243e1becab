"""What the admin sub-application keeps between requests (behind typed AppKeys, never globals)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from host.auth import Identity

__all__ = ("ADMIN_USER", "MAIN_APP", "AdminUser")


@dataclass(frozen=True)
class AdminUser:
    username: str
    roles: frozenset[str]
    sid: str
    expires: float
    csrf: str

    @property
    def identity(self) -> Identity:
        """Who the admin UI's in-process API calls run as."""
        return Identity(subject=self.username, roles=self.roles, kind="user")


MAIN_APP = web.AppKey("admin_main_app", web.Application)
"""The host application the admin sub-app is mounted on (its pipeline, bus, registry)."""
ADMIN_USER = web.RequestKey("admin_user", AdminUser)
"""The signed-in admin of this request (set by the session middleware)."""
