"""The client's address behind reverse proxies, trusting only the proxies we were told about.

`X-Forwarded-For: a, b, c` is built by each proxy appending the address it received the request from,
so only entries appended by *our* proxies are facts; everything to their left was written by the
client and may be anything. The client is therefore the rightmost entry that is not one of our
proxies, and the header is read at all only when the direct peer is a trusted proxy. Taking the
first entry (what this replaced) let any client choose its address, and so escape the login throttle.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ("Networks", "client_address", "parse_networks", "peer_trusted")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Networks = tuple[Network, ...]


def parse_networks(text: str) -> Networks:
    """'127.0.0.1, 10.0.0.0/8' -> networks; ValueError naming the bad entry."""
    out: list[Network] = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if part:
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
    return tuple(out)


def peer_trusted(peer: str | None, proxies: Networks) -> bool:
    """True when the direct peer is one of our proxies (so its X-Forwarded-* headers count)."""
    return peer is not None and _trusted(peer, proxies)


def _trusted(address: str, proxies: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(peer: str | None, forwarded_for: Iterable[str], proxies: Networks) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the rightmost
    `X-Forwarded-For` hop that is not one (`forwarded_for`: every X-Forwarded-For header)."""
    peer = peer or "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for header in forwarded_for for h in header.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:64]
    return hops[0][:64] if hops else peer
