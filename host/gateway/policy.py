"""What a route file may ask of the host: which secrets it may read, which addresses it may call.

Route files are edited through the admin UI and live in a shared folder, and their upstreams can be
reached anonymously through public routes; so a file must not be able to make the host read any
environment variable or file (`/etc/shadow`, the signing key) and send it as HTTP Basic to an address
of the file's choosing, nor call the cloud metadata service (169.254.169.254 and the like) that hands
out the machine's own credentials. Hence:

- `secret_env` must start with `PLUGHOST_UPSTREAM_SECRET_ENV_PREFIX` (default `PLUGHOST_UPSTREAM_SECRET_`);
- `secret_file` must resolve (symlinks followed) inside `PLUGHOST_UPSTREAM_SECRETS_DIR` (unset: no
  `secret_file` at all);
- `url` and `token_url` must not name a link-local or metadata address unless
  `PLUGHOST_UPSTREAM_ALLOW_LINK_LOCAL=true`; the same rule is applied again when a host name is
  resolved (`GuardedResolver`), so a name that resolves to such an address is refused too.

Each refusal names the setting that would allow it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

__all__ = ("BLOCKED_NETWORKS", "GuardedResolver", "UpstreamPolicy", "blocked_address")

BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.0.0/16",  # IPv4 link-local: AWS, GCP, Azure, OpenStack metadata
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
    )
)
BLOCKED_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
ALLOW_SETTING = "PLUGHOST_UPSTREAM_ALLOW_LINK_LOCAL"


def blocked_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in BLOCKED_NETWORKS)


@dataclass(frozen=True, slots=True)
class UpstreamPolicy:
    secret_env_prefix: str = "PLUGHOST_UPSTREAM_SECRET_"  # noqa: S105 (a name prefix)
    secrets_dir: Path | None = None
    allow_link_local: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> UpstreamPolicy:
        return cls(
            secret_env_prefix=settings.upstream_secret_env_prefix,
            secrets_dir=settings.upstream_secrets_dir,
            allow_link_local=settings.upstream_allow_link_local,
        )

    def url_error(self, url: str) -> str | None:
        """Why `url` may not be called, or None."""
        if self.allow_link_local:
            return None
        host = (URL(url).host or "").lower().rstrip(".")
        if blocked_address(host) or host in BLOCKED_NAMES:
            return (
                f"{host} is a link-local or cloud metadata address; "
                f"set {ALLOW_SETTING}=true to allow it"
            )
        return None

    def secret_env_error(self, name: str) -> str | None:
        if self.secret_env_prefix and name.startswith(self.secret_env_prefix):
            return None
        return (
            f"secret_env must start with {self.secret_env_prefix!r} "
            "(PLUGHOST_UPSTREAM_SECRET_ENV_PREFIX)"
        )

    def secret_file_error(self, path: str) -> str | None:
        if self.secrets_dir is None:
            return (
                "secret_file needs PLUGHOST_UPSTREAM_SECRETS_DIR (the folder secrets may come from)"
            )
        base = self.secrets_dir.resolve()
        target = (base / path).resolve()  # a relative path is inside the folder
        if target != base and base in target.parents:
            return None
        return f"secret_file must be inside {str(base)!r} (PLUGHOST_UPSTREAM_SECRETS_DIR)"

    def secret_path(self, path: str) -> Path:
        """Where a (checked) secret_file is: relative paths are inside the secrets folder."""
        return (self.secrets_dir or Path(".")).resolve() / path


class GuardedResolver(AbstractResolver):
    """The default resolver without link-local/metadata answers (unless allowed): a host name
    that resolves only to such addresses cannot be connected to."""

    def __init__(self, allow_link_local: bool = False) -> None:
        self._inner = DefaultResolver()
        self._allow = allow_link_local

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if self._allow:
            return answers
        kept = [a for a in answers if not blocked_address(a["host"])]
        if not kept:
            raise OSError(f"{host} resolves to a link-local or metadata address ({ALLOW_SETTING})")
        return kept

    async def close(self) -> None:
        await self._inner.close()
