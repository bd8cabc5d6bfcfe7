"""Who fails an instruction, and for lack of what, as the fail reason or the hold says it; who
matched late. Pure: plain values in, plain values out.

Settlement fails (the instruction's ``fail_reason``: the settlement run's on an internal market,
the depository's first pending or failing reason from its advices on a CSD market):

- ``LACK`` we lack the securities, ``MONY`` we lack the cash: we fail, we pay;
- ``CLAC`` the counterparty lacks the securities, ``CMON`` the cash: it fails, it pays (the
  depository redistributes its penalty to us);
- a hold: whoever holds fails (``PREA`` our hold, ``PRCY`` the counterparty's), for lack of
  securities when that party delivers them, else of cash;
- anything else (no reason yet, a hold by the depository, a proprietary code) names no failing
  party: no penalty, an exception in the run's report for operations to look at.

Late matching: the party that instructed last is late; ours is late when we instructed after
the intended settlement date (the instruction made after it), else the counterparty's.
"""

from datetime import date

from app.penalties.calculation import FailReason, Party

_REASONS: dict[str, tuple[Party, FailReason]] = {
    "LACK": (Party.US, FailReason.LACK_OF_SECURITIES),
    "MONY": (Party.US, FailReason.LACK_OF_CASH),
    "CLAC": (Party.COUNTERPARTY, FailReason.LACK_OF_SECURITIES),
    "CMON": (Party.COUNTERPARTY, FailReason.LACK_OF_CASH),
}
_HOLDERS = {"us": Party.US, "counterparty": Party.COUNTERPARTY}


def failing_party(
    *, fail_reason: str | None, held_by: str | None, we_deliver: bool
) -> tuple[Party, FailReason] | None:
    """Who fails and why, or None when the facts name no failing party."""
    holder = _HOLDERS.get(held_by or "")
    if holder is not None:
        delivers = we_deliver if holder is Party.US else not we_deliver
        return holder, FailReason.LACK_OF_SECURITIES if delivers else FailReason.LACK_OF_CASH
    return _REASONS.get(fail_reason or "")


def late_matching_party(*, instructed_on: date, intended_settlement_date: date) -> Party:
    """Who matched late: us when our instruction was made after the intended date."""
    return Party.US if instructed_on > intended_settlement_date else Party.COUNTERPARTY
