"""Which business days a break ages by. Pure: no database.

A cash break ages by the calendar of the payment system its currency settles in (a bank
credits and debits on those days): TARGET2's closing days for EUR, the Federal Reserve's for
USD, and for the other currencies the exchange calendar the ``holidays`` package keeps for the
country (it follows that country's bank holidays). A holdings break ages by the settlement
calendars of the markets that settle on its safekeeping account (all of them open). A currency
with no calendar here, or an account that names no market, ages by weekdays alone."""

from collections.abc import Callable, Iterable
from datetime import date

from app.core.calendars import BusinessCalendar

IsBusinessDay = Callable[[date], bool]

PAYMENT_CALENDARS: dict[str, tuple[str, ...]] = {
    "EUR": ("XECB",),
    "USD": ("FED",),
    "GBP": ("XLON",),
    "CHF": ("XSWX",),
    "JPY": ("XJPX",),
    "CAD": ("XTSE",),
    "AUD": ("XASX",),
    "HKD": ("XHKG",),
    "SGD": ("XSES",),
}


def weekdays(day: date) -> bool:
    return day.weekday() < 5


def payment_calendar(currency: str | None) -> IsBusinessDay:
    codes = PAYMENT_CALENDARS.get(currency or "")
    return weekdays if codes is None else BusinessCalendar(codes).is_business_day


def all_open(calendars: Iterable[BusinessCalendar]) -> IsBusinessDay:
    """A day on which every one of ``calendars`` is open (weekdays when there is none)."""
    tests = [calendar.is_business_day for calendar in calendars]
    if not tests:
        return weekdays
    return lambda day: all(test(day) for test in tests)
