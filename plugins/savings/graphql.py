"""The savings plugin's GraphQL part: `SavingsAccount`, `savingsAccount(id)`, `Client.savingsAccounts`.

Like loans, `Client.savingsAccounts` is batch loaded through the request's DataLoader: one
`client_id IN (...)` query however many clients the result holds.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo
from mifos import numeric_id

from host import GraphQL, GraphQLContext, children_by, require_roles

from .models import SavingsAccount, SavingsStatus

__all__ = ("part",)

SDL = """
"A savings account (Mifos m_savings_account)."
type SavingsAccount {
  id: ID!
  clientId: ID!
  productId: Int!
  externalId: String
  balance: Float!
  nominalAnnualInterestRate: Float!
  "submitted, approved, active or closed"
  status: String!
  submittedOnDate: Date
  activatedOnDate: Date
}

extend type Client {
  "The client's savings accounts, oldest first. Needs savings:read (null without it)."
  savingsAccounts: [SavingsAccount!]
}

extend type Query {
  "One savings account by id; null when there is none. Needs savings:read."
  savingsAccount(id: ID!): SavingsAccount
}
"""

READ = "savings:read"
STATUS_NAMES = {
    value: name.lower() for name, value in vars(SavingsStatus).items() if isinstance(value, int)
}


# the batch function: one query for every client asked for in this tick
accounts_by_client = children_by(SavingsAccount, "client_id")


async def resolve_client_accounts(
    client: Any, info: GraphQLResolveInfo[GraphQLContext]
) -> list[SavingsAccount]:
    require_roles(info, READ)
    context: GraphQLContext = info.context
    accounts: list[SavingsAccount] = await context.loader(accounts_by_client).load(client.id)
    return accounts


async def resolve_account(
    _: Any, info: GraphQLResolveInfo[GraphQLContext], id: str
) -> SavingsAccount | None:
    require_roles(info, READ)
    account_id = numeric_id(id, "Savings account")
    return None if account_id is None else await SavingsAccount.get_or_none(id=account_id)


def resolve_status(account: SavingsAccount, _: GraphQLResolveInfo[GraphQLContext]) -> str:
    return STATUS_NAMES.get(account.status, str(account.status))


part = GraphQL(
    SDL,
    {
        "Client": {"savingsAccounts": resolve_client_accounts},
        "Query": {"savingsAccount": resolve_account},
        "SavingsAccount": {"status": resolve_status},
    },
)
