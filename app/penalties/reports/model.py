"""A depository's penalty report as plain values, whatever it was read from (semt.044 or JSON).
Pure: no database."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.penalties.calculation import Party, PenaltyKind


class PenaltyReportError(ValueError):
    """A report that cannot be read, with where: an element path or a JSON field."""

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(f"{location}: {message}")
        self.message = message
        self.location = location


class PenaltyUpdate(StrEnum):
    """What the line does to the depository's list: a new penalty, a change to one reported
    before (re-included, switched, re-allocated, or any line of an amended list), or its
    removal."""

    NEW = "new"
    MODIFIED = "modified"
    REMOVED = "removed"


@dataclass(frozen=True)
class ReportedPenalty:
    """One penalty as the depository computed it, from our side: ``payer`` is ``us`` when it
    debits us (``DBIT``), ``counterparty`` when it credits us (``CRDT``)."""

    penalty_id: str  # the depository's, common to both parties (MktInfrstrctrId)
    kind: PenaltyKind
    our_reference: str  # our instruction's reference (SEME): AcctOwnrTxId
    their_reference: str | None  # the depository's: AcctSvcrTxId, else MktInfrstrctrTxId
    isin: str | None
    # The business days penalised, ascending: one for a settlement fail, one or more (from the
    # intended settlement date) for a late-matching fail.
    days: tuple[date, ...]
    amount: Decimal  # never negative: the direction is ``payer``
    currency: str
    payer: Party
    update: PenaltyUpdate = PenaltyUpdate.NEW
    status: str | None = None  # the depository's code as sent (ACTV, REMO, SWIC...)
    computed_on: date | None = None
    intended_settlement_date: date | None = None
    counterparty_bic: str | None = None
    counterparty_lei: str | None = None
    location: str = ""  # where the line was read, for problems found later

    @property
    def day(self) -> date:
        """The day it is reconciled by: the day failed, or the first day matched late."""
        return self.days[0]


@dataclass(frozen=True)
class PenaltyReport:
    report_id: str  # the depository's (RptId)
    report_date: date | None
    sender: str | None  # BIC11 of the application header's sender, else of the account servicer
    message_id: str | None = None  # the application header's BizMsgIdr
    list_type: str | None = None  # FWIS (new penalties), FWAM (amended), CURR (both)
    account_owner: str | None = None
    safekeeping_account: str | None = None
    page: int | None = None
    last_page: bool | None = None
    lines: tuple[ReportedPenalty, ...] = ()
