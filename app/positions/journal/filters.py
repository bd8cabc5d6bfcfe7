"""What a journal listing selects, as a value. Pure: no database."""

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class EntryFilter:
    """Which entries a journal listing shows: touching a ledger account or asset, of a kind,
    from a source, by accounting date, by value date (the effective view), by booking time
    (``booked_after`` is exclusive: what the book did not know at that moment)."""

    ledger_account: str | None = None
    asset: str | None = None
    kind: str | None = None
    source_id: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    value_from: date | None = None
    value_to: date | None = None
    booked_after: datetime | None = None
    booked_to: datetime | None = None
