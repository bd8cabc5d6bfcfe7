"""Demo opening balances: inventory in each safekeeping account (owned by the demo books, at the
demo closing prices) and cash in each cash account, posted the way operations would post them:
an opening adjustment proposed by one key and approved by another."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor, Role
from app.core.money import round_money
from app.positions.adjustments import repository, service
from app.positions.adjustments.schemas import AdjustmentIn, AdjustmentKind, AdjustmentLineIn
from app.reference import demo_data

REASON = "Demo opening balances: inventory and cash so demo trades can settle"
PROPOSER = Actor(key_id="demo-opening-proposer", role=Role.OPERATIONS, name="demo data")
APPROVER = Actor(key_id="demo-opening-approver", role=Role.OPERATIONS, name="demo data")

# Where each demo instrument is held, which book owns it, and how much (shares, or nominal).
HOLDINGS: dict[str, tuple[str, str, Decimal]] = {
    "XNYS": ("SEC-DTC", "EQ-FLOW", Decimal("20000")),
    "XPAR": ("SEC-EOCF", "EQ-FLOW", Decimal("20000")),
    "XETR": ("SEC-CBF", "EQ-FLOW", Decimal("20000")),
    "XOFF": ("SEC-EB", "FI-RATES", Decimal("50000000")),
}
CASH: dict[str, Decimal] = {
    "CASH-USD": Decimal("50000000.00"),
    "CASH-EUR": Decimal("100000000.00"),
}


def opening_lines() -> list[AdjustmentLineIn]:
    prices = {row["isin"]: Decimal(row["price"]) for row in demo_data.PRICES}
    lines = []
    for instrument in demo_data.INSTRUMENTS:
        account, book, quantity = HOLDINGS[instrument["mic"]]
        factor = Decimal("0.01") if instrument["price_basis"] == "percent" else Decimal(1)
        cost = round_money(quantity * prices[instrument["isin"]] * factor, instrument["currency"])
        lines.append(AdjustmentLineIn(account=account, asset=instrument["isin"], amount=quantity))
        lines.append(
            AdjustmentLineIn(
                account=f"book:{book}", asset=instrument["isin"], amount=-quantity, cost=cost
            )
        )
    for account, amount in CASH.items():
        currency = next(a["currency"] for a in demo_data.ACCOUNTS if a["code"] == account)
        lines.append(AdjustmentLineIn(account=account, asset=currency, amount=amount))
    return lines


async def load_demo_opening(session: AsyncSession, *, now: datetime) -> bool:
    """Post the demo opening balances once; False when they are there already."""
    if await repository.id_with_reason(session, REASON) is not None:
        return False
    data = AdjustmentIn(kind=AdjustmentKind.OPENING, reason=REASON, lines=opening_lines())
    proposed = await service.propose(session, data=data, actor=PROPOSER, now=now)
    await service.approve(session, adjustment_id=proposed.id, actor=APPROVER, now=now)
    return True
