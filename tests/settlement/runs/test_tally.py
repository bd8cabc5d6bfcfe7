"""The settlement run's tally, without a database: what a resumed run starts from is what the
run had reported."""

from decimal import Decimal

from app.reference.partial import PartialIndicator
from app.settlement.runs.allocation import Allocation, Candidate, FailReason
from app.settlement.runs.tally import Tally


def _candidate(instruction_id: str, amount: str, currency: str = "USD") -> Candidate:
    return Candidate(
        instruction_id=instruction_id,
        securities_account="SEC-DTC",
        cash_account="CASH-USD",
        isin="US46625H1005",
        currency=currency,
        quantity=Decimal(100),
        amount=Decimal(amount),
        settlement_unit=Decimal(1),
        partial=PartialIndicator.PART,
    )


def test_a_resumed_tally_goes_on_from_what_the_run_reported() -> None:
    tally = Tally(closed=2, netted_out=3)
    tally.add(
        Allocation("i-1", Decimal(100), Decimal("-1000.00"), None), _candidate("i-1", "-1000.00")
    )
    tally.add(
        Allocation("i-2", Decimal(40), Decimal("-400.00"), FailReason.LACK),
        _candidate("i-2", "-1000.00"),
    )
    tally.add(
        Allocation("i-3", Decimal(0), Decimal(0), FailReason.MONY),
        _candidate("i-3", "250.50", currency="EUR"),
    )
    report = tally.report(["i-9"])

    resumed = Tally.resumed(settled=1, partially_settled=1, failed=1, report=report)

    assert resumed == tally
    assert resumed.report(["i-9"]) == report


def test_a_fresh_run_resumes_from_nothing() -> None:
    resumed = Tally.resumed(settled=0, partially_settled=0, failed=0, report={})
    assert resumed == Tally()
