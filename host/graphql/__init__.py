"""GraphQL: one schema merged from the plugins' SDL fragments, served at /graphql."""

from host.graphql.endpoint import GRAPHQL, GraphQLContext, GraphQLState, plugin

__all__ = ("GRAPHQL", "GraphQLContext", "GraphQLState", "plugin")
