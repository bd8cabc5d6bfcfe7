"""The depository's rules, pure: matching, DVP, the T2S partial rules, holds, cancellations and
late confirmations. Every answer is asserted whole."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from csd_sim.engine import Answer, Engine
from csd_sim.messages.advice import Advice, Confirmation, Reason, StatusAdvice
from csd_sim.scenario import (
    HoldRule,
    LateConfirmation,
    Scenario,
    Selector,
    Shortfall,
)
from tests.csd_sim.support import (
    AFTERNOON,
    BOND_RECEIPT,
    BUND,
    SETTLEMENT_DAY,
    SHARE_DELIVERY,
    TOTAL,
    TRADE_DAY,
    US,
    bond_receipt,
    share_delivery,
)

CASH = {(US, "EUR"): Decimal("1000000.00")}
CLAC = Reason("CLAC", "Counterparty insufficient securities")
LACK = Reason("LACK", "Insufficient securities in your account")
MONY = Reason("MONY", "Insufficient money in your account")
FRIDAY = date(2026, 11, 27)
MONDAY = date(2026, 11, 30)


def _shortfall(available: str, **settings) -> Engine:
    """Goldman holds only ``available`` of the Bund it delivers to us; units of 1,000."""
    return Engine(
        Scenario(
            cash=CASH,
            settlement_units={BUND: Decimal(1000)},
            counterparty_shortfalls=(Shortfall(Selector(isin=BUND), Decimal(available)),),
            **settings,
        )
    )


def _settled(engine: Engine, day: date = SETTLEMENT_DAY, now: datetime = AFTERNOON) -> list[Advice]:
    engine.take(day)
    engine.settle_day(day, now)
    return [answer.advice for answer in engine.take(day)]


def _matched(leg_reference: str, csd_reference: str, details) -> StatusAdvice:
    return StatusAdvice(
        leg_reference, csd_reference, processing="accepted", matching="matched", details=details
    )


def _failing(instruction, csd_reference: str, *reasons: Reason) -> StatusAdvice:
    return StatusAdvice(
        instruction.reference,
        csd_reference,
        matching="matched",
        settlement="failing",
        settlement_reasons=reasons,
        details=instruction,
    )


def test_auto_match_makes_up_the_counterpartys_leg_and_answers_accepted_and_matched():
    engine = Engine(Scenario())
    engine.receive(BOND_RECEIPT)
    assert engine.take(SETTLEMENT_DAY) == [
        Answer(_matched("SI0001", "SIMT000001", BOND_RECEIPT), "xml")
    ]
    theirs = engine.leg("SI0001").counterparty
    assert theirs is not None
    assert (theirs.instruction.direction, theirs.instruction.safekeeping_account) == (
        "DELI",
        "DEMO-GS-EB-01",
    )
    assert (theirs.participant, theirs.instruction.credit_debit) == ("GOLDUS33", "CRDT")


def test_dvp_settles_in_full_on_the_intended_date_and_moves_both_books():
    engine = Engine(Scenario(cash=CASH, securities={("DEMO-EB-0001", BUND): Decimal(0)}))
    engine.receive(BOND_RECEIPT)
    engine.settle_day(date(2026, 11, 25), datetime(2026, 11, 25, 16, tzinfo=UTC))
    assert engine.take(date(2026, 11, 25))[1:] == []  # not due before the intended date
    assert _settled(engine) == [
        Confirmation(
            "SI0001",
            "SIMT000001",
            BOND_RECEIPT,
            SETTLEMENT_DAY,
            Decimal(1000000),
            Decimal("790079.45"),
            remaining=Decimal(0),
        )
    ]
    assert engine.cash_of(US, "EUR") == Decimal("209920.55")
    assert engine.holding("DEMO-EB-0001", BUND) == Decimal(1000000)
    assert engine.holding("DEMO-GS-EB-01", BUND) is None  # not in the books: without limit
    assert engine.leg("SI0001").state == "settled"


def test_a_counterparty_short_of_securities_settles_in_part_in_whole_units_then_the_rest():
    engine = _shortfall("400500")
    engine.receive(BOND_RECEIPT)
    assert _settled(engine) == [
        Confirmation(
            "SI0001",
            "SIMT000001",
            BOND_RECEIPT,
            SETTLEMENT_DAY,
            Decimal(400000),
            Decimal("316031.78"),
            "PAIN",
            Decimal(0),
            Decimal(600000),
        ),
        _failing(BOND_RECEIPT, "SIMT000001", CLAC),
    ]
    engine.securities[("DEMO-GS-EB-01", BUND)] += Decimal(600000)
    assert _settled(engine, FRIDAY) == [
        Confirmation(
            "SI0001",
            "SIMT000001",
            BOND_RECEIPT,
            FRIDAY,
            Decimal(600000),
            Decimal("474047.67"),
            "PARC",
            Decimal(400000),
            Decimal(0),
        )
    ]
    assert engine.cash_of(US, "EUR") == Decimal("209920.55")
    assert engine.holding("DEMO-GS-EB-01", BUND) == Decimal(500)


def test_our_own_lack_of_securities_fails_an_npar_delivery_whole_and_a_part_one_in_part():
    books = {("DEMO-EOCF-0001", TOTAL): Decimal(60)}
    engine = Engine(Scenario(securities=books))
    engine.receive(SHARE_DELIVERY)
    assert _settled(engine) == [_failing(SHARE_DELIVERY, "SIMT000001", LACK)]
    assert _settled(engine, FRIDAY) == []  # still failing for the same reason: not advised again

    part = share_delivery(reference="SI0003", partial_indicator="PART")
    engine = Engine(Scenario(securities=books))
    engine.receive(part)
    assert _settled(engine) == [
        Confirmation(
            "SI0003",
            "SIMT000001",
            part,
            SETTLEMENT_DAY,
            Decimal(60),
            Decimal("11355.00"),
            "PAIN",
            Decimal(0),
            Decimal(40),
        ),
        _failing(part, "SIMT000001", LACK),
    ]
    assert engine.holding("DEMO-EOCF-0001", TOTAL) == Decimal(0)


def test_a_lack_of_cash_never_settles_in_part():
    engine = Engine(Scenario(cash={(US, "EUR"): Decimal("790079.44")}))
    engine.receive(BOND_RECEIPT)
    assert _settled(engine) == [_failing(BOND_RECEIPT, "SIMT000001", MONY)]
    assert engine.cash_of(US, "EUR") == Decimal("790079.44")

    # Short of both: the part the securities allow costs more cash than there is.
    engine = _shortfall("400000")
    engine.cash[(US, "EUR")] = Decimal("316031.77")
    engine.receive(BOND_RECEIPT)
    assert _settled(engine) == [_failing(BOND_RECEIPT, "SIMT000001", CLAC, MONY)]


def test_parq_settles_in_part_only_from_the_quantity_threshold():
    parq = bond_receipt(partial_indicator="PARQ")
    for available, threshold, settled in (("400000", 500000, None), ("500000", 500000, 500000)):
        engine = _shortfall(available, quantity_thresholds={BUND: Decimal(threshold)})
        engine.receive(parq)
        first = _settled(engine)[0]
        if settled is None:
            assert first == _failing(parq, "SIMT000001", CLAC)
        else:
            assert isinstance(first, Confirmation)
            assert first.quantity == Decimal(settled)


def test_parc_settles_in_part_only_from_the_cash_threshold():
    parc = bond_receipt(partial_indicator="PARC")
    engine = _shortfall("400000", cash_thresholds={"EUR": Decimal("316031.79")})
    engine.receive(parc)
    assert _settled(engine) == [_failing(parc, "SIMT000001", CLAC)]
    engine = _shortfall("400000", cash_thresholds={"EUR": Decimal("316031.78")})
    engine.receive(parc)
    first = _settled(engine)[0]
    assert isinstance(first, Confirmation)
    assert (first.quantity, first.amount) == (Decimal(400000), Decimal("316031.78"))


def test_partial_settlement_happens_only_in_a_window():
    windows = ((time(14, 0), time(14, 15)),)
    engine = _shortfall("400000", partial_windows=windows)
    engine.receive(BOND_RECEIPT)
    assert _settled(engine, now=datetime(2026, 11, 26, 10, tzinfo=UTC)) == [
        _failing(BOND_RECEIPT, "SIMT000001", CLAC)
    ]
    later = _settled(engine, now=datetime(2026, 11, 26, 14, 5, tzinfo=UTC))
    assert isinstance(later[0], Confirmation)
    assert (later[0].quantity, later[0].partial) == (Decimal(400000), "PAIN")
    assert later[1:] == [_failing(BOND_RECEIPT, "SIMT000001", CLAC)]  # the rest, afresh


def test_a_counterparty_leg_that_refuses_partial_settlement_blocks_it():
    engine = Engine(Scenario(auto_match=False, cash=CASH))
    engine.receive(BOND_RECEIPT)
    engine.counterparty_instructs(
        reference="GS-1",
        direction="DELI",
        isin=BUND,
        quantity=Decimal(1000000),
        quantity_type="FAMT",
        trade_date=TRADE_DAY,
        settlement_date=SETTLEMENT_DAY,
        account="DEMO-GS-EB-01",
        participant="GOLDUS33",
        amount=Decimal("790079.45"),
        currency="EUR",
        partial_indicator="NPAR",
    )
    engine.securities[("DEMO-GS-EB-01", BUND)] = Decimal(400000)
    assert _settled(engine) == [_failing(BOND_RECEIPT, "SIMT000001", CLAC)]


def test_without_auto_match_the_counterpartys_leg_matches_when_it_agrees():
    engine = Engine(Scenario(auto_match=False))
    engine.receive(BOND_RECEIPT)
    unmatched = StatusAdvice(
        "SI0001",
        "SIMT000001",
        processing="accepted",
        matching="unmatched",
        matching_reasons=(Reason("CMIS", "No counterparty instruction"),),
        details=BOND_RECEIPT,
    )
    assert [a.advice for a in engine.take(SETTLEMENT_DAY)] == [unmatched]
    leg: dict[str, Any] = {
        "direction": "DELI",
        "isin": BUND,
        "quantity_type": "FAMT",
        "trade_date": TRADE_DAY,
        "settlement_date": SETTLEMENT_DAY,
        "account": "DEMO-GS-EB-01",
        "participant": "GOLDUS33",
        "currency": "EUR",
    }
    engine.counterparty_instructs(
        reference="GS-1", quantity=Decimal(990000), amount=Decimal("790000.00"), **leg
    )
    assert [a.advice for a in engine.take(SETTLEMENT_DAY)] == [
        StatusAdvice(
            "SI0001",
            "SIMT000001",
            matching="unmatched",
            matching_reasons=(
                Reason("DQUA", "Counterparty instructs FAMT 990000,"),
                Reason("DMON", "Counterparty instructs EUR 790000,"),
            ),
            details=BOND_RECEIPT,
        )
    ]
    # 790,100.00 is within the T2S tolerance of 25 above 100,000.
    engine.counterparty_instructs(
        reference="GS-2", quantity=Decimal(1000000), amount=Decimal("790100.00"), **leg
    )
    assert [a.advice for a in engine.take(SETTLEMENT_DAY)] == [
        StatusAdvice("SI0001", "SIMT000001", matching="matched", details=BOND_RECEIPT)
    ]
    assert engine.leg("SI0001").counterparty is engine.counterparty_legs[1]


def test_our_instruction_matches_a_counterparty_leg_registered_before_it():
    engine = Engine(Scenario(auto_match=False))
    engine.counterparty_instructs(
        reference="BNP-1",
        direction="RECE",
        isin=TOTAL,
        quantity=Decimal(100),
        trade_date=TRADE_DAY,
        settlement_date=SETTLEMENT_DAY,
        account="DEMO-BNP-EOCF-01",
        participant="BNPAFRPP",
        amount=Decimal("18925.00"),
        currency="EUR",
    )
    engine.receive(SHARE_DELIVERY)
    assert [a.advice for a in engine.take(SETTLEMENT_DAY)] == [
        _matched("SI0002", "SIMT000001", SHARE_DELIVERY)
    ]


def test_holds_answer_pending_with_who_holds_and_release_on_their_day():
    rule = HoldRule(Selector(isin=BUND), "CSDH", until=FRIDAY)
    engine = Engine(Scenario(cash=CASH, holds=(rule,)))
    engine.receive(BOND_RECEIPT)
    held = Reason("CSDH", "Held by the CSD")
    assert [a.advice for a in engine.take(SETTLEMENT_DAY)] == [
        StatusAdvice(
            "SI0001",
            "SIMT000001",
            processing="accepted",
            matching="matched",
            settlement="pending",
            settlement_reasons=(held,),
            details=BOND_RECEIPT,
        )
    ]
    assert _settled(engine) == []  # still held: nothing new to say
    released = StatusAdvice(
        "SI0001", "SIMT000001", matching="matched", settlement="pending", details=BOND_RECEIPT
    )
    advices = _settled(engine, FRIDAY)
    assert advices[0] == released
    assert [(c.effective_date, c.quantity) for c in advices[1:] if isinstance(c, Confirmation)] == [
        (FRIDAY, Decimal(1000000))
    ]
    assert len(advices) == 2


def test_a_test_holds_and_releases_an_instruction_with_an_iso_or_a_proprietary_reason():
    engine = Engine(Scenario())
    engine.receive(BOND_RECEIPT)
    engine.take(SETTLEMENT_DAY)
    engine.hold("SI0001", "PRCY")
    engine.hold("SI0001", "BLCK", issuer="SIMCSD", text="Blocked for a test")
    assert [a.advice.settlement_reasons for a in engine.take(SETTLEMENT_DAY)] == [  # type: ignore[union-attr]
        (Reason("PRCY", "Counterparty instruction on hold"),),
        (Reason("BLCK", "Blocked for a test", "SIMCSD"),),
    ]
    assert _settled(engine) == []
    engine.release("SI0001")
    assert [a.advice.settlement for a in engine.take(SETTLEMENT_DAY)] == ["pending"]  # type: ignore[union-attr]
    assert [type(advice).__name__ for advice in _settled(engine)] == ["Confirmation"]


def test_a_late_confirmation_is_sent_business_days_later_with_the_day_it_settled():
    late = (LateConfirmation(Selector(reference="SI0001"), 1),)
    engine = Engine(Scenario(cash=CASH, late_confirmations=late))
    engine.receive(bond_receipt(settlement_date=FRIDAY))
    assert _settled(engine, FRIDAY) == []
    assert len(engine.waiting) == 1
    engine.settle_day(date(2026, 11, 28), AFTERNOON)  # Saturday: no settlement, nothing due
    assert engine.take(date(2026, 11, 28)) == []
    [answer] = engine.take(MONDAY)
    assert isinstance(answer.advice, Confirmation)
    assert (answer.advice.effective_date, answer.due) == (FRIDAY, MONDAY)


def test_cancelling_an_unmatched_or_matched_unsettled_instruction_answers_cancelled():
    engine = Engine(Scenario(auto_match=False))
    engine.receive(BOND_RECEIPT)
    engine.receive(bond_receipt(reference="SI0009", cancels="SI0001"))
    cancelled = StatusAdvice(
        "SI0001",
        "SIMT000001",
        processing="cancelled",
        processing_reasons=(Reason("CANI", "Cancelled by yourself"),),
        details=BOND_RECEIPT,
    )
    assert [a.advice for a in engine.take(SETTLEMENT_DAY)][1:] == [cancelled]

    engine = Engine(Scenario(answer_format="mt"))
    engine.receive(BOND_RECEIPT)
    engine.receive(bond_receipt(reference="SI0009", cancels="SI0001"))
    assert [(a.advice, a.family) for a in engine.take(SETTLEMENT_DAY)][1:] == [(cancelled, "mt")]
    assert (engine.leg("SI0001").state, engine.counterparty_legs) == ("cancelled", [])
    assert _settled(engine) == []


def test_a_cancellation_of_what_settled_or_is_unknown_is_rejected_under_its_own_reference():
    engine = Engine(Scenario())
    engine.receive(BOND_RECEIPT)
    _settled(engine)
    engine.receive(bond_receipt(reference="SI0009", cancels="SI0001"))
    engine.receive(bond_receipt(reference="SI0010", cancels="SI0404"))
    assert [a.advice for a in engine.take(SETTLEMENT_DAY)] == [
        StatusAdvice(
            "SI0009",
            None,
            processing="rejected",
            processing_reasons=(Reason("OTHR", "cancellation instruction SI0001 is settled"),),
        ),
        StatusAdvice(
            "SI0010",
            None,
            processing="rejected",
            processing_reasons=(Reason("OTHR", "cancellation instruction SI0404 is unknown"),),
        ),
    ]


def test_a_reference_received_twice_or_an_account_not_ours_is_rejected():
    engine = Engine(Scenario(our_accounts=frozenset({"DEMO-EB-0001"})))
    engine.receive(BOND_RECEIPT)
    engine.receive(BOND_RECEIPT)
    engine.receive(SHARE_DELIVERY)
    assert [a.advice for a in engine.take(SETTLEMENT_DAY)][1:] == [
        StatusAdvice(
            "SI0001",
            None,
            processing="rejected",
            processing_reasons=(Reason("REFE", "reference was received before"),),
        ),
        StatusAdvice(
            "SI0002",
            None,
            processing="rejected",
            processing_reasons=(Reason("SAFE", "safekeeping account DEMO-EOCF-0001 is not ours"),),
            details=SHARE_DELIVERY,
        ),
    ]


def test_priority_then_arrival_orders_settlement_and_a_failed_one_recycles_the_same_day():
    books = {("DEMO-EOCF-0001", TOTAL): Decimal(0)}
    engine = Engine(Scenario(securities=books, cash={(US, "EUR"): Decimal("20000.00")}))
    # A free delivery of what a receipt brings, first in: it settles once the receipt has.
    free = {"payment": "FREE", "settlement_amount": None, "currency": None, "credit_debit": None}
    engine.receive(share_delivery(reference="SI0013", priority="0001", **free))
    receipt = {"direction": "RECE", "credit_debit": "DBIT", "family": "xml"}
    engine.receive(share_delivery(reference="SI0011", **receipt))
    engine.receive(share_delivery(reference="SI0012", priority="0001", **receipt))
    advices = _settled(engine)
    assert [(a.our_reference, type(a).__name__) for a in advices] == [
        ("SI0012", "Confirmation"),
        ("SI0013", "Confirmation"),
        ("SI0011", "StatusAdvice"),
    ]
    assert advices[2] == _failing(engine.leg("SI0011").instruction, "SIMT000002", MONY)
    assert engine.cash_of(US, "EUR") == Decimal("1075.00")
    assert engine.holding("DEMO-EOCF-0001", TOTAL) == Decimal(0)


def test_nothing_settles_on_a_weekend_or_a_holiday():
    engine = Engine(Scenario(holidays=frozenset({SETTLEMENT_DAY})))
    engine.receive(BOND_RECEIPT)
    assert _settled(engine) == []
    assert _settled(engine, date(2026, 11, 28)) == []
    assert [type(a).__name__ for a in _settled(engine, MONDAY)] == ["Confirmation"]
