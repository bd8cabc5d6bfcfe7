"""Resolving a trade against reference data: its netting set, counterparty of record and our
accounts, or what is missing for it to clear."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.clearing.netting import ClearingTrade, NettingSet
from app.reference.instruments.service import instruments_by_isin
from app.reference.markets.service import markets_by_mic
from app.reference.service import Parties
from app.reference.values import InstrumentRef, MarketRef
from app.trades.capture.post_trade import ClearableTrade


@dataclass
class Resolver:
    """What resolving a trade needs, loaded once per run and grown per chunk."""

    parties: Parties
    markets: dict[str, MarketRef] = field(default_factory=dict)
    instruments: dict[str, InstrumentRef] = field(default_factory=dict)

    async def load(self, session: AsyncSession, chunk: Sequence[ClearableTrade]) -> None:
        isins = {t.isin for t in chunk} - self.instruments.keys()
        self.instruments.update(await instruments_by_isin(session, isins=isins))
        mics = {t.venue for t in chunk} | {i.mic for i in self.instruments.values()}
        self.markets.update(await markets_by_mic(session, mics=mics - self.markets.keys()))

    def _one(self, matching: list[str], what: str) -> str:
        if len(matching) != 1:
            found = ", ".join(sorted(matching)) or "none"
            raise LookupError(f"{what}: exactly one is needed, found {found}")
        return matching[0]

    def _netting(self, trade: ClearableTrade, market: MarketRef) -> tuple[NettingSet, str]:
        if market.ccp is not None:
            ccp = self.parties.by_bic.get(market.ccp)
            if ccp is None:
                raise LookupError(
                    f"the CCP of {market.mic} ({market.ccp}) is not set up as a counterparty"
                )
            return NettingSet.CCP, ccp.lei
        bilateral = self.parties.counterparties[trade.counterparty_lei].netting == "bilateral"
        return (NettingSet.BILATERAL if bilateral else NettingSet.GROSS), trade.counterparty_lei

    def resolve(self, trade: ClearableTrade) -> ClearingTrade:
        """The trade as netting sees it, or ``LookupError`` saying what reference data is
        missing (the trade then waits for a later run)."""
        instrument = self.instruments[trade.isin]
        market = self.markets[trade.venue]
        accounts = self.parties.accounts.values()
        securities_account = self._one(
            [a.code for a in accounts if a.kind == "securities" and instrument.mic in a.markets],
            f"our securities account for market {instrument.mic}",
        )
        cash_account = self._one(
            [a.code for a in accounts if a.kind == "cash" and a.currency == trade.currency],
            f"our cash account in {trade.currency}",
        )
        netting_set, counterparty = self._netting(trade, market)
        return ClearingTrade(
            trade_id=trade.id,
            netting_set=netting_set,
            counterparty=counterparty,
            securities_account=securities_account,
            cash_account=cash_account,
            isin=trade.isin,
            currency=trade.currency,
            settlement_date=trade.settlement_date,
            side=trade.side,
            quantity=trade.quantity,
            net_amount=trade.net_amount,
        )
