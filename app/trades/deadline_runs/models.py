"""An affirmation deadline run's row: the run framework's columns plus how many it flagged."""

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.runs.models import RunColumns


class AffirmationDeadlineRun(RunColumns, Base):
    """``report``: ``{"trade_ids": [...]}``, the trades it flagged."""

    __tablename__ = "affirmation_deadline_runs"

    flagged: Mapped[int] = mapped_column(Integer)
