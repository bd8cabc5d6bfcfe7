"""An end-of-day run's row: the run framework's columns plus its date and its steps."""

from datetime import date
from typing import Any

from sqlalchemy import JSON, Date
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.runs.models import RunColumns


class EodRun(RunColumns, Base):
    """One per business date (unique). ``total`` is the number of steps, ``processed`` those
    done. ``steps``: in order, each ``{"name", "status", "child_runs": {key: run id},
    "summary", "error", "started_at", "finished_at"}``. ``report``: the day's report summary
    (fails, buy-in candidates, unaffirmed trades), written by the last step."""

    __tablename__ = "eod_runs"

    business_date: Mapped[date] = mapped_column(Date, unique=True)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
