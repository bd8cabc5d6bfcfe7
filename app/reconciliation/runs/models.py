"""A reconciliation run's row: the run framework's columns plus what it found for one account
and value date."""

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.runs.models import RunColumns


class ReconciliationRun(RunColumns, Base):
    """``report``: matches made per rule, breaks opened, kept and closed per kind, the balance
    comparison, and the notes of searches that gave up."""

    __tablename__ = "reconciliation_runs"

    # Our account code (a cash account, or a safekeeping account for holdings).
    account: Mapped[str] = mapped_column(String(40), index=True)
    value_date: Mapped[date] = mapped_column(Date, index=True)
    matched: Mapped[int] = mapped_column(Integer)
    breaks_opened: Mapped[int] = mapped_column(Integer)
    breaks_closed: Mapped[int] = mapped_column(Integer)
