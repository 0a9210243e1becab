"""The clients plugin's GraphQL part: the `Client` type, `client`/`clients` queries, `createClient`.

Other plugins `extend type Client` with their own fields (loans, savingsAccounts). Field names are
camelCase; the host's default resolver reads a model's snake_case attribute (`displayName` ->
`display_name`), so only computed fields need a resolver here. `createClient` runs in its own
transaction (the host wraps every Mutation field), so `clients.created` goes out after commit.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo
from mifos import numeric_id

from host import GraphQL, GraphQLContext, Problem, require_roles

from .models import Client
from .service import COLUMNS, open_client

__all__ = ("part",)

MAX_PAGE = 200

SDL = """
"A client (Mifos m_client): a person or an entity served by an office."
type Client {
  id: ID!
  officeId: Int!
  firstname: String
  middlename: String
  lastname: String
  fullname: String
  displayName: String!
  externalId: String
  mobileNo: String
  active: Boolean!
  activationDate: Date
  submittedOnDate: Date
}

input NewClientInput {
  officeId: Int = 1
  firstname: String
  middlename: String
  lastname: String
  "An entity's name; send it alone, without first/last names."
  fullname: String
  externalId: String
  mobileNo: String
  active: Boolean = false
  activationDate: Date
  submittedOnDate: Date
  "Also open a savings account with this product (the savings plugin does, on the event)."
  savingsProductId: Int
}

extend type Query {
  "One client by id; null when there is none. Needs clients:read."
  client(id: ID!): Client
  "Clients by id, paged (limit at most 200). Needs clients:read."
  clients(offset: Int = 0, limit: Int = 50): [Client!]!
}

extend type Mutation {
  "Create a client (like POST /api/v1/clients); publishes clients.created. Needs clients:write."
  createClient(input: NewClientInput!): Client!
}
"""

READ = "clients:read"
WRITE = "clients:write"


async def resolve_client(
    _: Any, info: GraphQLResolveInfo[GraphQLContext], id: str
) -> Client | None:
    require_roles(info, READ)
    client_id = numeric_id(id, "Client")
    return None if client_id is None else await Client.get_or_none(id=client_id)


async def resolve_clients(
    _: Any, info: GraphQLResolveInfo[GraphQLContext], offset: int = 0, limit: int = 50
) -> list[Client]:
    require_roles(info, READ)
    if offset < 0 or not 0 <= limit <= MAX_PAGE:
        raise Problem(400, f"offset must be >= 0 and limit between 0 and {MAX_PAGE}")
    return await Client.all().order_by("id").offset(offset).limit(limit)


async def create_client(
    _: Any, info: GraphQLResolveInfo[GraphQLContext], input: dict[str, Any]
) -> Client:
    """Same rules as the REST endpoint (names, dates, office, unique externalId)."""
    require_roles(info, WRITE)
    values: dict[str, Any] = {name: input.get(name) for name in COLUMNS}
    values["active"] = bool(values["active"])
    values["officeId"] = values["officeId"] or 1
    context: GraphQLContext = info.context
    client = await open_client(
        values, savings_product_id=input.get("savingsProductId"), publish=context.publish
    )
    return client


part = GraphQL(
    SDL,
    {
        "Query": {"client": resolve_client, "clients": resolve_clients},
        "Mutation": {"createClient": create_client},
    },
)
