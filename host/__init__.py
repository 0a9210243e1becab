"""plughost: a plugin host server. Everything a plugin imports comes from here; the rest is private.

A CRUD plugin needs six of these: `Plugin` (the declaration), `Routes` (its endpoints),
`ApiRequest` (what a handler reads), `Problem` (an error answer), `require_roles` (one role check
for REST and GraphQL) and `get_or_404`; a handler returns a dict (answered as JSON) or an aiohttp
response (`Answer` names both, for annotations). The others are for events (`Event`), GraphQL
(`GraphQL`, `GraphQLContext`, `children_by`), rows that belong to a tenant (`TenantScoped`), workflows
(`Workflow`, `WorkflowContext`, `chunked`), start-up work (`PluginContext`) and explicit units of
work (`unit_of_work`). See docs/plugins.md.
"""

from host.auth import ADMIN_ROLE, Identity, require_roles
from host.bus import Event
from host.data.db import DB_INT_MAX, db_int, get_or_404, unit_of_work
from host.data.tenancy import TenantScoped
from host.graphql import GraphQLContext
from host.graphql.loaders import children_by
from host.pipeline import Answer, ApiRequest, Routes, decode_json
from host.plugin import (
    GraphQL,
    Plugin,
    PluginContext,
    PluginError,
    Workflow,
    WorkflowContext,
    chunked,
)
from host.problems import Problem

__all__ = (
    "ADMIN_ROLE",
    "DB_INT_MAX",
    "Answer",
    "ApiRequest",
    "Event",
    "GraphQL",
    "GraphQLContext",
    "Identity",
    "Plugin",
    "PluginContext",
    "PluginError",
    "Problem",
    "Routes",
    "TenantScoped",
    "Workflow",
    "WorkflowContext",
    "children_by",
    "chunked",
    "db_int",
    "decode_json",
    "get_or_404",
    "require_roles",
    "unit_of_work",
)
