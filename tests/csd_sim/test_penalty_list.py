"""The simulator's daily penalty list (semt.044) reads with the service's parser into the values
the simulator meant. Tests may import both; the simulator never imports the app."""

from datetime import UTC, date, datetime
from decimal import Decimal

from app.penalties.calculation import Party, PenaltyKind
from app.penalties.reports.model import PenaltyUpdate
from app.penalties.reports.semt044 import parse_semt044
from csd_sim.messages.advice import Header
from csd_sim.messages.penalties import PenaltyEntry, PenaltyList, penalty_list

DAY = date(2026, 11, 24)
HEADER = Header("SIMP000001", "SIMCDEFFXXX", "OURBDEFFXXX", datetime(2026, 11, 25, 6, tzinfo=UTC))
FAIL = PenaltyEntry(
    penalty_id="SIMPEN0001",
    kind="SEFP",
    reference="SI0001",
    csd_reference="SIMT000001",
    isin="DE0005557508",
    days=(DAY,),
    amount=Decimal("12.34"),
    currency="EUR",
    debit=True,
    counterparty_bic="DEUTDEFFXXX",
    intended_settlement_date=date(2026, 11, 20),
)
LATE = PenaltyEntry(
    penalty_id="SIMPEN0002",
    kind="LMFP",
    reference="SI0002",
    csd_reference="SIMT000002",
    isin="DK0010244508",
    days=(date(2026, 11, 20), date(2026, 11, 23)),
    amount=Decimal("95.2"),
    currency="DKK",
    debit=False,
    counterparty_bic="DABADKKKXXX",
    intended_settlement_date=date(2026, 11, 20),
    status="REMO",
)
LISTING = PenaltyList(
    report_id="SIMDPL20261124",
    business_day=DAY,
    account_owner="OURBDEFFXXX",
    account_servicer="SIMCDEFFXXX",
    safekeeping_account="OURB-SAFE-01",
    entries=(FAIL, LATE),
)


def test_the_service_reads_the_simulators_penalty_list() -> None:
    report = parse_semt044(penalty_list(HEADER, LISTING))

    assert (report.report_id, report.report_date, report.message_id, report.sender) == (
        "SIMDPL20261124",
        DAY,
        "SIMP000001",
        "SIMCDEFFXXX",
    )
    summary = [
        (
            line.penalty_id,
            line.kind,
            line.our_reference,
            line.their_reference,
            line.isin,
            line.days,
            line.amount,
            line.currency,
            line.payer,
            line.update,
            line.intended_settlement_date,
            line.counterparty_bic,
        )
        for line in report.lines
    ]
    assert summary == [
        (
            "SIMPEN0001",
            PenaltyKind.SETTLEMENT_FAIL,
            "SI0001",
            "SIMT000001",
            "DE0005557508",
            (DAY,),
            Decimal("12.34"),
            "EUR",
            Party.US,
            PenaltyUpdate.NEW,
            date(2026, 11, 20),
            "DEUTDEFFXXX",
        ),
        (
            "SIMPEN0002",
            PenaltyKind.LATE_MATCHING_FAIL,
            "SI0002",
            "SIMT000002",
            "DK0010244508",
            (date(2026, 11, 20), date(2026, 11, 23)),
            Decimal("95.2"),
            "DKK",
            Party.COUNTERPARTY,
            PenaltyUpdate.REMOVED,
            date(2026, 11, 20),
            "DABADKKKXXX",
        ),
    ]


def test_an_empty_list_says_there_is_no_activity() -> None:
    empty = PenaltyList("SIMDPL20261125", DAY, "OURBDEFFXXX", "SIMCDEFFXXX", "OURB-SAFE-01", ())

    data = penalty_list(HEADER, empty)

    assert b"<ActvtyInd>false</ActvtyInd>" in data
    assert parse_semt044(data).lines == ()
