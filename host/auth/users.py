"""User management shared by the CLI, the first-start path and the admin UI."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path

from host.auth.authenticator import (
    ADMIN_ROLE,
    Authenticator,
    check_tenant_name,
    hash_password_off_loop,
)
from host.auth.models import ApiKey, User

__all__ = ("add_api_key", "add_user", "ensure_first_admin", "set_roles")


async def add_user(
    username: str, password: str, roles: Iterable[str], tenant: str | None = None
) -> User:
    """`tenant`: the one tenant the user may work in (None: a platform user, any tenant)."""
    return await User.create(
        username=username,
        password_hash=await hash_password_off_loop(password),
        roles=sorted(set(roles)),
        tenant=check_tenant_name(tenant),
    )


async def set_roles(username: str, roles: Iterable[str]) -> User:
    user = await User.get(username=username)
    user.roles = sorted(set(roles))
    await user.save(update_fields=["roles"])
    return user


async def ensure_first_admin(data_dir: Path, password: str = "") -> str | None:
    """Create `admin` when no user exists. Returns where the password is, when it was generated.

    The generated password is written to <data dir>/admin-password (mode 0600) and printed once on
    the console; it never goes through the logger.
    """
    if await User.exists():
        return None
    generated = not password
    password = password or secrets.token_urlsafe(12)
    await add_user("admin", password, [ADMIN_ROLE])
    if not generated:
        print(
            "Created user 'admin' with the password from PLUGHOST_ADMIN_PASSWORD", file=sys.stderr
        )
        return None
    path = data_dir / "admin-password"
    os.makedirs(data_dir, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    print(
        f"Created user 'admin'; its generated password is in {path} (mode 0600).\n"
        f"Log in at /admin or POST /api/v1/authentication with it.",
        file=sys.stderr,
    )
    return str(path)


async def add_api_key(
    name: str, roles: Iterable[str], tenant: str | None = None
) -> tuple[ApiKey, str]:
    """Create a machine credential; the full key is returned once and never stored."""
    key, prefix, digest = Authenticator.new_api_key()
    row = await ApiKey.create(
        name=name,
        prefix=prefix,
        secret_hash=digest,
        roles=sorted(set(roles)),
        tenant=check_tenant_name(tenant),
    )
    return row, key
