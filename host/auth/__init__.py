"""Identity: who is calling (JWT, API key), what they may do, and the users and keys behind it."""

from host.auth.authenticator import (
    ADMIN_ROLE,
    AUTH,
    Authenticator,
    Identity,
    bind_tenant,
    check_roles,
    check_tenant_name,
    hash_password,
    require_roles,
    tenant_for,
    unauthenticated,
    verify_password,
)

__all__ = (
    "ADMIN_ROLE",
    "AUTH",
    "Authenticator",
    "Identity",
    "bind_tenant",
    "check_roles",
    "check_tenant_name",
    "hash_password",
    "require_roles",
    "tenant_for",
    "unauthenticated",
    "verify_password",
)
