"""The gateway's state on the app: one holder object behind a typed AppKey (mutated, never re-set)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from host.gateway.store import RouteStore
from host.gateway.tokens import TokenCache
from host.pipeline import RouteDef

__all__ = ("GATEWAY", "Gateway")


@dataclass
class Gateway:
    store: RouteStore
    tokens: TokenCache = field(default_factory=TokenCache)
    session: aiohttp.ClientSession | None = None
    """The pooled upstream client, opened at start-up and closed at clean-up."""
    direct_api: bool = True
    """Requests that name no app reach the internal API (PLUGHOST_GATEWAY_DIRECT_API)."""
    handle_sighup: bool = False
    """Reload on SIGHUP: only `plughost serve` turns this on (tests and embedders own signals)."""
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Serialises the admin file API's check-then-write."""
    upstream_routes: dict[tuple[str, str, int, str], RouteDef] = field(default_factory=dict)
    """Pipeline routes of upstream mappings, by (app, table digest, entry, method)."""


GATEWAY = web.AppKey("gateway", Gateway)
