"""plughost: a plugin host server. The public surface for plugin authors is re-exported here."""

from host.auth import ADMIN_ROLE, Identity
from host.bus import Bus, Event
from host.data.db import unit_of_work
from host.pipeline import ApiRequest, RouteDef, Routes
from host.plugin import GraphQL, Plugin, PluginError, Workflow
from host.problems import Problem

__all__ = (
    "ADMIN_ROLE",
    "ApiRequest",
    "Bus",
    "Event",
    "GraphQL",
    "Identity",
    "Plugin",
    "PluginError",
    "Problem",
    "RouteDef",
    "Routes",
    "Workflow",
    "unit_of_work",
)
