"""Settlement exposure per counterparty: unsettled trades from trades, failing instructions from
settlement, marks from reference prices, the rule in ``calculation``."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.reference.instruments import service as instruments
from app.reference.prices import service as prices
from app.reports.exposure.calculation import Exposure, FailingInstruction, Mark, OpenTrade
from app.settlement.instructions import service as instructions
from app.trades.capture import service as trades

PERCENT = "percent"
_BATCH = 1000


class _Marks:
    """The latest price on or before ``as_of`` and the price basis of every ISIN met so far,
    fetched a batch of new ISINs at a time."""

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        self.marks: dict[str, Mark] = {}
        self.in_percent: dict[str, bool] = {}

    async def load(self, session: AsyncSession, isins: Iterable[str]) -> None:
        new = {isin for isin in isins if isin not in self.in_percent}
        if not new:
            return
        found = await prices.latest_prices(session, isins=new, on=self.as_of)
        self.marks.update({isin: Mark(day, price) for isin, (day, price) in found.items()})
        refs = await instruments.instruments_by_isin(session, isins=new)
        self.in_percent.update({isin: refs[isin].price_basis == PERCENT for isin in new})


async def _add_trades(
    session: AsyncSession, exposure: Exposure, marks: _Marks, batch: list[dict[str, Any]]
) -> None:
    await marks.load(session, (row["isin"] for row in batch))
    for row in batch:
        exposure.add_trade(
            OpenTrade(
                # After novation the CCP is the counterparty we are exposed to.
                counterparty_lei=row["counterparty_of_record"] or row["counterparty_lei"],
                currency=row["currency"],
                isin=row["isin"],
                side=row["side"],
                quantity=row["quantity"],
                price=row["price"],
                in_percent=marks.in_percent[row["isin"]],
            )
        )


async def exposure_report(session: AsyncSession, *, as_of: date) -> dict[str, Any]:
    """Replacement cost of the trades neither settled nor cancelled (traded by ``as_of``) and
    principal at risk on the instructions failing on ``as_of``, per counterparty and currency,
    with the ISINs that have no price on or before ``as_of``."""
    marks = _Marks(as_of)
    exposure = Exposure(marks=marks.marks)
    batch: list[dict[str, Any]] = []
    async for row in trades.unsettled_trades(session, as_of=as_of):
        batch.append(row)
        if len(batch) == _BATCH:
            await _add_trades(session, exposure, marks, batch)
            batch = []
    await _add_trades(session, exposure, marks, batch)
    failing = await instructions.failing_instructions(session, today=as_of)
    await marks.load(session, (row["isin"] for row in failing))
    for row in failing:
        exposure.add_instruction(
            FailingInstruction(
                counterparty_lei=row["counterparty_lei"],
                currency=row["currency"],
                isin=row["isin"],
                delivery_type=row["delivery_type"],
                settled_quantity=row["settled_quantity"],
                in_percent=marks.in_percent[row["isin"]],
            )
        )
    return {
        "as_of": as_of,
        "counterparties": exposure.rows(),
        "missing_prices": exposure.missing(),
        "marks": [
            {"isin": isin, "date": mark.day, "price": mark.price}
            for isin, mark in sorted(marks.marks.items())
        ],
    }
