"""A loan's repayment schedule (pure): what `GET /loans/{id}?associations=repaymentSchedule` shows.

Computed from the loan's terms, not stored: principal, rate per period, number of repayments,
repayment every n days/weeks/months, equal installments (annuity) or equal principal, declining
balance or flat interest. Money is rounded to cents per period; the last period takes the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ("Period", "schedule")

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    number: int
    due: dt.date
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def _add(start: dt.date, every: int, frequency: int, n: int) -> dt.date:
    if frequency == 0:
        return start + dt.timedelta(days=every * n)
    if frequency == 1:
        return start + dt.timedelta(weeks=every * n)
    months = start.month - 1 + every * n
    year, month = start.year + months // 12, months % 12 + 1
    for day in range(start.day, 27, -1):  # the 31st of a short month is its last day
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return dt.date(year, month, min(start.day, 28))


def schedule(
    principal: Decimal,
    rate_percent: Decimal,
    repayments: int,
    every: int,
    frequency: int,
    start: dt.date,
    *,
    equal_installments: bool = True,
    flat: bool = False,
) -> list[Period]:
    """The periods, each with its due date, principal and interest."""
    rate = rate_percent / 100
    periods: list[Period] = []
    balance = principal
    if flat:
        interest = (principal * rate).quantize(CENT, ROUND_HALF_EVEN)
        share = (principal / repayments).quantize(CENT, ROUND_HALF_EVEN)
    elif equal_installments and rate > 0:
        factor = (1 + rate) ** repayments
        installment = (principal * rate * factor / (factor - 1)).quantize(CENT, ROUND_HALF_EVEN)
    else:
        share = (principal / repayments).quantize(CENT, ROUND_HALF_EVEN)
    for n in range(1, repayments + 1):
        if not flat:
            interest = (balance * rate).quantize(CENT, ROUND_HALF_EVEN)
        if n == repayments:
            part = balance
        elif not flat and equal_installments and rate > 0:
            part = installment - interest
        else:
            part = share
        balance -= part
        periods.append(Period(n, _add(start, every, frequency, n), part, interest))
    return periods
