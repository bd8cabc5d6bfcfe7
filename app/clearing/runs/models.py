"""A clearing run's row: the run framework's columns plus what clearing counts."""

from datetime import date

from sqlalchemy import Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.runs.models import RunColumns


class ClearingRun(RunColumns, Base):
    """``report``: per counterparty of record and currency, trades and gross value in,
    obligations and net value out, efficiency; and the trades left out, each with its reason."""

    __tablename__ = "clearing_runs"

    settlement_date: Mapped[date] = mapped_column(Date, index=True)
    obligations: Mapped[int] = mapped_column(Integer)
    instructions: Mapped[int] = mapped_column(Integer)
