"""Our accounts: securities safekeeping and cash."""

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.reference.versioned import Versioned


class Account(Versioned):
    __tablename__ = "accounts"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))
    currency: Mapped[str | None] = mapped_column(String(3))
    servicer_bic: Mapped[str] = mapped_column(String(11))
    iban: Mapped[str | None] = mapped_column(String(34))
    account_number: Mapped[str | None] = mapped_column(String(40))
    # Securities accounts: the MICs whose instruments settle here.
    markets: Mapped[list[str]] = mapped_column(JSON, default=list)
