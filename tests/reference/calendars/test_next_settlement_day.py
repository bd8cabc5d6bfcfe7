"""The next settlement day after a date: the earliest later day that is a business day on any
market's settlement calendar (the demo markets: XNYS on New York and the Fed, the rest on
TARGET). The end-of-day clearing step clears it besides the day itself."""

from datetime import date

import pytest

from app.reference.calendars import service as calendars
from tests.conftest import Database


async def next_day(db: Database, after: date) -> date | None:
    async with db.sessionmaker() as session:
        return await calendars.next_settlement_day(session, after=after)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Thanksgiving: New York is closed, TARGET settles.
        (date(2026, 11, 25), date(2026, 11, 26)),
        (date(2026, 11, 27), date(2026, 11, 30)),  # Friday: over the weekend
        (date(2026, 12, 24), date(2026, 12, 28)),  # Christmas closed everywhere
        # Good Friday closed everywhere; Easter Monday is a TARGET holiday, New York settles.
        (date(2026, 4, 2), date(2026, 4, 6)),
    ],
)
async def test_the_next_day_any_market_settles(
    db: Database, reference: None, after: date, expected: date
) -> None:
    assert await next_day(db, after) == expected


async def test_without_markets_there_is_none(db: Database) -> None:
    assert await next_day(db, date(2026, 11, 25)) is None
