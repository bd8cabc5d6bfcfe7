"""Which extension period is in force for a class on a day. Pure: plain values in and out.

CSDR (Regulation (EU) No 909/2014) Art. 7(3): a buy-in follows when a failing participant has
not delivered within an extension period of four business days after the intended settlement
date; Art. 7(4) lets it run up to seven business days where a shorter one would hurt an illiquid
market (Delegated Regulation (EU) 2018/1229 Art. 36: seven for shares without a liquid market)
and fifteen for instruments traded on SME growth markets. Regulation (EU) 2023/2845 (the 2023
review) rewrote Art. 7 so that mandatory buy-ins apply only once the Commission brings them in by
implementing act; until then these periods say which fails to look at, not what must happen.
ESMA's Q&A (Settlement discipline, Q7): the class is taken as of the intended settlement date.
The periods are data (``buy_in_extension_periods``), changeable through the API.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

DEFAULT = "default"


@dataclass(frozen=True)
class Period:
    csdr_class: str
    business_days: int
    effective_from: date


class ExtensionPeriods:
    """Every period on file, answering for a class and a day."""

    def __init__(self, periods: Iterable[Period]) -> None:
        self._by_class: dict[str, list[Period]] = {}
        for period in sorted(periods, key=lambda p: p.effective_from):
            self._by_class.setdefault(period.csdr_class, []).append(period)

    def _latest(self, csdr_class: str, day: date) -> Period | None:
        found = None
        for period in self._by_class.get(csdr_class, []):
            if period.effective_from <= day:
                found = period
        return found

    def in_force(self, csdr_class: str, day: date) -> int | None:
        """The class's own period in force on the day, else the default's; None if neither
        is in force yet."""
        period = self._latest(csdr_class, day) or self._latest(DEFAULT, day)
        return period.business_days if period else None
