"""A penalty run's row: the run framework's columns plus what the run booked."""

from datetime import date

from sqlalchemy import Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.runs.models import RunColumns


class PenaltyRun(RunColumns, Base):
    """``report``: penalties booked and reversed per kind and currency, and the exceptions (a
    missing reference price or rate, an unknown failing party), each naming ISIN and day."""

    __tablename__ = "penalty_runs"

    # The business day penalised (the run framework's lists filter on ``settlement_date``).
    settlement_date: Mapped[date] = mapped_column(Date, index=True)
    booked: Mapped[int] = mapped_column(Integer)
    reversed: Mapped[int] = mapped_column(Integer)
    exceptions: Mapped[int] = mapped_column(Integer)
