"""The columns every run table has; a run type's table adds what its report counts."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime


class RunColumns:
    """Mixed into a run's mapped class (before ``Base``)."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(12))
    total: Mapped[int] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer)
    # What the run found, as its report schema describes it.
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The lease of the worker working through the run: who it is (none between a start or a
    # resumption and the worker's claim) and when it last said it was alive. A running run whose
    # heartbeat is older than the lease is stalled: its worker died, another may take it over.
    worker: Mapped[str | None] = mapped_column(String(64), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
