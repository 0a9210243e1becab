"""Tenant-scoped models: a plugin's rows belong to the tenant they were written in.

A model opts in by deriving from `TenantScoped` instead of Tortoise's `Model`. It gets a `tenant`
column and, through its manager (the one place every Tortoise query of a model starts from:
`filter`, `get`, `get_or_none`, `all`, `exists`, `count`, `update`, `delete`, `values`, related
fetches and prefetches, reverse relations, `get_or_404`), every query is filtered by the tenant of
the current request context. That context is set for HTTP calls, batch items, GraphQL resolvers
and their loaders, job items and workflow steps (the job's tenant), and bus handlers (the event's
tenant), so plugin code never names the tenant. A new row takes the context's tenant when saved.

With no tenant in context (a CLI command, a start-up hook, a test) a query is refused with
`TenantRequired` rather than answered across tenants: such code names what it means with
`Model.in_tenant(t)` or `Model.all_tenants()`, and creates rows with `tenant=` given.
Raw SQL is not filtered (it is the plugin's own responsibility).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.manager import Manager
from tortoise.models import Model
from tortoise.queryset import QuerySet

from host.context import current_context

__all__ = ("TENANT_FIELD", "TenantRequired", "TenantScoped", "context_tenant")

TENANT_FIELD = "tenant"


class TenantRequired(RuntimeError):
    """A tenant-scoped model was used where no tenant is in context, or a row was written in a
    tenant other than the context's: a programming error, never a client's (answered as 500)."""


def context_tenant() -> str | None:
    """The tenant of the current request context (None outside any request, job or handler)."""
    ctx = current_context()
    return ctx.tenant if ctx is not None else None


class _TenantManager(Manager):
    """Every query of a scoped model starts here: filtered by the context's tenant, or refused."""

    def get_queryset(self) -> QuerySet[Any]:
        model: type[Model] = self._model
        tenant = context_tenant()
        if tenant is None:
            raise TenantRequired(
                f"{model.__name__} is tenant-scoped and no tenant is in context: query it in a "
                f"request, job or bus handler, or say which rows with {model.__name__}.in_tenant(t) "
                f"or {model.__name__}.all_tenants()"
            )
        return QuerySet(model).filter(**{TENANT_FIELD: tenant})


class TenantScoped(Model):
    """Base class of a plugin model whose rows belong to one tenant each (see the module doc).

    ```python
    class Client(TenantScoped):
        external_id = fields.CharField(max_length=100, null=True)
        class Meta:
            app = "clients"
            unique_together = (("tenant", "external_id"),)  # unique per tenant
    ```
    """

    tenant = fields.CharField(max_length=64, db_index=True, default=context_tenant)
    """The tenant the row belongs to; set from the request context when the row is created
    (the default, checked again when the row is saved)."""

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Tortoise reads the manager from each class's own Meta; a subclass's Meta would drop ours
        super().__init_subclass__(**kwargs)
        cls._meta.manager = _TenantManager()

    @classmethod
    def in_tenant(cls, tenant: str) -> QuerySet[Self]:
        """The rows of one named tenant, whatever the context (CLI commands, platform tools)."""
        return QuerySet(cls).filter(**{TENANT_FIELD: tenant})

    @classmethod
    def all_tenants(cls) -> QuerySet[Self]:
        """Every tenant's rows: for platform work that means it (reports, migrations of data)."""
        return QuerySet(cls)

    async def save(
        self,
        using_db: BaseDBAsyncClient | None = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        """Write the row only in the context's tenant (or, without a context, the one it names)."""
        tenant = context_tenant()
        if getattr(self, TENANT_FIELD, None) is None:
            if tenant is None:
                raise TenantRequired(
                    f"{type(self).__name__} is tenant-scoped: create it in a request, job or bus "
                    "handler, or give tenant= explicitly"
                )
            self.tenant = tenant
        elif tenant is not None and self.tenant != tenant:
            raise TenantRequired(
                f"{type(self).__name__} of tenant {self.tenant!r} cannot be written from tenant "
                f"{tenant!r}"
            )
        await super().save(using_db, update_fields, force_create, force_update)
