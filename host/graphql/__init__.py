"""GraphQL: one schema merged from the plugins' SDL fragments, served at /graphql."""

from host.graphql.endpoint import GRAPHQL, GraphQLContext, GraphQLState, install, require_roles

__all__ = ("GRAPHQL", "GraphQLContext", "GraphQLState", "install", "require_roles")
