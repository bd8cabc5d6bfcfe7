"""A settlement run's row: the run framework's columns plus what settlement counts."""

from datetime import date

from sqlalchemy import Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.runs.models import RunColumns


class SettlementRun(RunColumns, Base):
    """``report``: per fail reason and currency, instructions and value; the held
    instructions it skipped."""

    __tablename__ = "settlement_runs"

    settlement_date: Mapped[date] = mapped_column(Date, index=True)
    settled: Mapped[int] = mapped_column(Integer)
    partially_settled: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
