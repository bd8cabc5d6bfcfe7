"""Counterparties: the brokers and banks we trade with, by LEI."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.reference.versioned import Versioned


class Counterparty(Versioned):
    __tablename__ = "counterparties"

    lei: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    bic: Mapped[str | None] = mapped_column(String(11))
    netting: Mapped[str] = mapped_column(String(10))
    # The partial indicator (NPAR, PART, PARQ, PARC) its instructions get; null: the market's.
    partial_settlement: Mapped[str | None] = mapped_column(String(4))
