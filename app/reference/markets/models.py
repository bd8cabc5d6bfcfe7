"""Markets and the days they close beyond their holidays calendar."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import UTCDateTime
from app.reference.versioned import Versioned


class Market(Versioned):
    __tablename__ = "markets"

    mic: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    calendar: Mapped[str] = mapped_column(String(16))
    settlement_calendars: Mapped[list[str]] = mapped_column(JSON)
    # [{"from": "2024-05-28", "days": 1}, ...] ascending by "from"
    settlement_cycle_days: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    ccp: Mapped[str | None] = mapped_column(String(11))
    # Settled inside one settlement system that matches bilateral instructions itself: they
    # are matched on creation instead of waiting for a status advice.
    internal_settlement: Mapped[bool] = mapped_column(Boolean, default=False)
    # Exchange trades the CCP receives from the venue and confirms itself: no bilateral
    # confirmation is awaited, the trade is confirmed at capture.
    locked_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    affirmation_cutoff: Mapped[str] = mapped_column(String(5))
    # Who decides that an instruction settled: ``internal`` we are the settlement agent and the
    # settlement run settles against our books; ``csd`` the depository does, the book moves only
    # on its confirmation (sese.025 / MT544-547).
    settlement_mode: Mapped[str] = mapped_column(
        String(8), default="internal", server_default=text("'internal'")
    )
    # How we instruct the depository of a ``csd`` market: ISO 20022 (sese.023 / sese.020) or
    # ISO 15022 (MT540-543).
    message_format: Mapped[str] = mapped_column(
        String(8), default="iso20022", server_default=text("'iso20022'")
    )
    # Partial settlement (app.reference.partial): the indicator instructions get unless their
    # counterparty has one; PARC's cash threshold per currency ({"EUR": "10000"}); the local
    # windows in which partials settle ([{"from": "14:00", "to": "14:15"}], none: any time).
    partial_settlement: Mapped[str] = mapped_column(String(4), server_default="NPAR")
    partial_cash_thresholds: Mapped[dict[str, str]] = mapped_column(JSON)
    partial_settlement_windows: Mapped[list[dict[str, str]]] = mapped_column(JSON)


class MarketClosedDay(Base):
    """A day a market is closed beyond its holidays calendar (a day of mourning, an outage)."""

    __tablename__ = "market_closed_days"

    mic: Mapped[str] = mapped_column(ForeignKey("markets.mic"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
