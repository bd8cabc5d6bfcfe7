"""Counterparties' standing settlement instructions."""

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.reference.versioned import Versioned


class Ssi(Versioned):
    """A counterparty's standing settlement instruction for a market or a currency."""

    __tablename__ = "ssis"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    counterparty_lei: Mapped[str] = mapped_column(ForeignKey("counterparties.lei"))
    mic: Mapped[str | None] = mapped_column(ForeignKey("markets.mic"))
    currency: Mapped[str | None] = mapped_column(String(3))
    place_of_settlement: Mapped[str] = mapped_column(String(11))
    agent_bic: Mapped[str] = mapped_column(String(11))
    account: Mapped[str] = mapped_column(String(40))

    # Not unique: two SSIs for one market are allowed to exist, and enrichment reports them as
    # ambiguous instead of guessing.
    __table_args__ = (Index(None, "counterparty_lei"),)
