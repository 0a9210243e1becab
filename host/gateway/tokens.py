"""OAuth2 client-credentials tokens for upstream calls: cached, single-flight, refreshed once on 401.

Many concurrent callers needing the same token cause one token request (the others wait on a
per-client lock and then find it cached). A token is used until shortly before it expires. The
client secret is read from its environment variable or file when a token is fetched; it is never
stored in the route table, logged, or put in an error message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from host.gateway.table import ClientConfig
from host.problems import Problem

__all__ = ("TokenCache",)

log = logging.getLogger("plughost.gateway")


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: float


class TokenCache:
    """Tokens per client configuration; one instance per app (state lives on the app)."""

    def __init__(self, skew_seconds: float = 30.0) -> None:
        self.skew = skew_seconds
        self._tokens: dict[ClientConfig, _Token] = {}
        self._locks: dict[ClientConfig, asyncio.Lock] = {}
        self.fetches = 0

    async def get(self, session: aiohttp.ClientSession, client: ClientConfig) -> str:
        token = self._fresh(client)
        if token is not None:
            return token
        lock = self._locks.setdefault(client, asyncio.Lock())
        async with lock:
            token = self._fresh(client)  # another caller may have fetched it meanwhile
            if token is not None:
                return token
            fetched = await self._fetch(session, client)
            self._tokens[client] = fetched
            return fetched.value

    def invalidate(self, client: ClientConfig, value: str) -> None:
        """Forget `value` (the upstream refused it); a newer token already cached is kept."""
        current = self._tokens.get(client)
        if current is not None and current.value == value:
            del self._tokens[client]

    def _fresh(self, client: ClientConfig) -> str | None:
        token = self._tokens.get(client)
        if token is not None and token.expires_at > time.monotonic():
            return token.value
        return None

    async def _fetch(self, session: aiohttp.ClientSession, client: ClientConfig) -> _Token:
        secret = read_secret(client)
        form = {"grant_type": "client_credentials"}
        if client.scope:
            form["scope"] = client.scope
        headers = {"Accept": "application/json"}
        if client.auth == "post":
            form.update(client_id=client.client_id, client_secret=secret)
        else:
            headers["Authorization"] = aiohttp.encode_basic_auth(client.client_id, secret)
        self.fetches += 1
        try:
            async with session.post(
                client.token_url,
                data=form,
                timeout=aiohttp.ClientTimeout(total=10),
                headers=headers,
            ) as resp:
                if resp.status != 200:
                    log.warning(
                        "token request refused",
                        extra={"token_url": client.token_url, "status": resp.status},
                    )
                    raise Problem(502, f"The token service answered {resp.status}")
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise Problem(
                502, f"The token service could not be reached ({type(exc).__name__})"
            ) from None
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise Problem(502, "The token service answered without an access_token")
        try:
            lifetime = float(body.get("expires_in", 300))
        except (TypeError, ValueError):
            lifetime = 300.0
        # keep a margin before expiry: min(skew, 10 % of the lifetime)
        margin = min(self.skew, lifetime * 0.1)
        return _Token(value, time.monotonic() + max(lifetime - margin, 0.0))


def read_secret(client: ClientConfig) -> str:
    """The client secret from its environment variable or file; 502 (no secret shown) if absent."""
    if client.secret_env:
        value = os.environ.get(client.secret_env, "")
        if value:
            return value
        raise Problem(
            502, f"The upstream client secret is not configured (variable {client.secret_env})"
        )
    if client.secret_file:
        try:
            return Path(client.secret_file).read_text().strip()
        except OSError:
            raise Problem(502, "The upstream client secret file cannot be read") from None
    raise Problem(502, "The upstream client has no secret source")
