"""The loans plugin's GraphQL part: the `Loan` type, `loan(id)`, and `Client.loans`.

`extend type Client` adds a field to the clients plugin's type (this plugin requires `clients`).
`Client.loans` is batch loaded: every client in a result asks the request's DataLoader for its
loans, and one `client_id IN (...)` query answers them all (no N+1).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo
from mifos import numeric_id

from host import GraphQL, GraphQLContext, children_by, require_roles

from .models import Loan, LoanStatus

__all__ = ("part",)

SDL = """
"A loan application or account (Mifos m_loan)."
type Loan {
  id: ID!
  clientId: ID!
  productId: Int!
  externalId: String
  loanType: String!
  principal: Float!
  numberOfRepayments: Int!
  interestRatePerPeriod: Float!
  "submitted, approved, active, withdrawn, rejected or closed"
  status: String!
  submittedOnDate: Date
  expectedDisbursementDate: Date
  note: String
}

extend type Client {
  "The client's loans, oldest first. Needs loans:read (null with a FORBIDDEN error without it)."
  loans: [Loan!]
}

extend type Query {
  "One loan by id; null when there is none. Needs loans:read."
  loan(id: ID!): Loan
}
"""

READ = "loans:read"
STATUS_NAMES = {
    value: name.lower() for name, value in vars(LoanStatus).items() if isinstance(value, int)
}


# the batch function: one query for every client asked for in this tick
loans_by_client = children_by(Loan, "client_id")


async def resolve_client_loans(client: Any, info: GraphQLResolveInfo[GraphQLContext]) -> list[Loan]:
    require_roles(info, READ)
    context: GraphQLContext = info.context
    loans: list[Loan] = await context.loader(loans_by_client).load(client.id)
    return loans


async def resolve_loan(_: Any, info: GraphQLResolveInfo[GraphQLContext], id: str) -> Loan | None:
    require_roles(info, READ)
    loan_id = numeric_id(id, "Loan")
    return None if loan_id is None else await Loan.get_or_none(id=loan_id)


def resolve_status(loan: Loan, _: GraphQLResolveInfo[GraphQLContext]) -> str:
    return STATUS_NAMES.get(loan.status, str(loan.status))


part = GraphQL(
    SDL,
    {
        "Client": {"loans": resolve_client_loans},
        "Query": {"loan": resolve_loan},
        "Loan": {"status": resolve_status},
    },
)
