"""What the admin sub-application keeps between requests (behind typed AppKeys, never globals)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

from host.auth import Identity

__all__ = ("ADMIN", "ADMIN_USER", "MAIN_APP", "AdminState", "AdminUser", "LoginThrottle")

MAX_FAILURES = 5
"""Failed logins allowed per user and address within `WINDOW_SECONDS` before 429."""
WINDOW_SECONDS = 300.0


@dataclass
class LoginThrottle:
    """Counts failed logins per (username, address); refuses more than `limit` within `window`."""

    limit: int = MAX_FAILURES
    window: float = WINDOW_SECONDS
    _failures: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            self._failures.pop(key, None)
        return stamps

    def retry_after(self, username: str, address: str, now: float | None = None) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        now = time.monotonic() if now is None else now
        stamps = self._recent((username.lower(), address), now)
        if len(stamps) < self.limit:
            return 0
        return max(1, int(stamps[0] + self.window - now) + 1)

    def failed(self, username: str, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        key = (username.lower(), address)
        self._recent(key, now)
        self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > 10_000:  # bound memory under a spray of user names
            oldest = min(self._failures, key=lambda k: self._failures[k][-1])
            self._failures.pop(oldest, None)

    def succeeded(self, username: str, address: str) -> None:
        self._failures.pop((username.lower(), address), None)


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


@dataclass
class AdminState:
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    # sessions and their revocation live in the database (admin.models.AdminSession)


MAIN_APP = web.AppKey("admin_main_app", web.Application)
"""The host application the admin sub-app is mounted on (its pipeline, bus, registry)."""
ADMIN = web.AppKey("admin_state", AdminState)
ADMIN_USER = web.RequestKey("admin_user", AdminUser)
"""The signed-in admin of this request (set by the session middleware)."""
