"""The depository's books and rules, pure: no I/O, the day and the clock passed in.

Securities accounts (account, ISIN) -> quantity and cash accounts (participant, currency) ->
amount, for us and the counterparties; the instructions received; matching (the counterparty's
leg made up in ``auto_match`` mode, else registered by ``counterparty_instructs``); settlement
on a business day (``settle_day``) in priority then arrival order, recycled until nothing more
settles; holds, cancellations and late confirmations. Every answer waits in an outbox that
``take(day)`` empties of what is due."""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from csd_sim.calendar import add_business_days, is_business_day
from csd_sim.identifiers import Identifiers
from csd_sim.matching import best_match, differences, is_candidate
from csd_sim.messages.advice import (
    Advice,
    Confirmation,
    Matching,
    Reason,
    Settlement,
    StatusAdvice,
)
from csd_sim.messages.instruction import CreditDebit, Family, Instruction, MalformedMessage
from csd_sim.scenario import Scenario
from csd_sim.settlement import Attempt, Outcome, PartialRules, settle

LegState = Literal["unmatched", "matched", "settled", "cancelled"]
HOLD_TEXT = {
    "PREA": "Instruction on hold",
    "PRCY": "Counterparty instruction on hold",
    "CSDH": "Held by the CSD",
    "CVAL": "CSD validation hold",
}
CANCELLED = Reason("CANI", "Cancelled by yourself")


@dataclass(frozen=True)
class Answer:
    advice: Advice
    family: Family
    # A confirmation held back until that business day (a late confirmation); None: at once.
    due: date | None = None


@dataclass(eq=False)
class Leg:
    """One instruction at the depository: ours, or the counterparty's."""

    instruction: Instruction
    csd_reference: str
    arrival: int
    # Whose cash account pays or is paid.
    participant: str
    family: Family
    state: LegState = "unmatched"
    counterparty: "Leg | None" = None
    settled_quantity: Decimal = Decimal(0)
    settled_amount: Decimal = Decimal(0)
    hold: Reason | None = None
    hold_until: date | None = None
    # The settlement status last advised, and the unmatched reasons: a change is advised once.
    advised: tuple[Settlement, tuple[Reason, ...]] | None = None
    unmatched_reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def remaining(self) -> Decimal:
        return self.instruction.quantity - self.settled_quantity

    @property
    def remaining_amount(self) -> Decimal | None:
        amount = self.instruction.settlement_amount
        return None if amount is None else amount - self.settled_amount


class Engine:
    def __init__(self, scenario: Scenario, *, ids: Identifiers | None = None) -> None:
        self.scenario = scenario
        self.ids = ids or Identifiers(scenario.message_prefix)
        self.securities: dict[tuple[str, str], Decimal] = dict(scenario.securities)
        self.cash: dict[tuple[str, str], Decimal] = dict(scenario.cash)
        self.legs: dict[str, Leg] = {}
        self.counterparty_legs: list[Leg] = []
        self._outbox: list[Answer] = []
        self._arrivals = 0

    # --- the books ---------------------------------------------------------------------------

    def holding(self, account: str, isin: str) -> Decimal | None:
        """What a securities account holds of an ISIN; None: without limit (not in the books)."""
        return self._balance(self.securities, (account, isin))

    def cash_of(self, participant: str, currency: str) -> Decimal | None:
        return self._balance(self.cash, (participant, currency))

    def _balance(
        self, book: dict[tuple[str, str], Decimal], key: tuple[str, str]
    ) -> Decimal | None:
        if key in book:
            return book[key]
        return None if self.scenario.unlisted_balances == "unlimited" else Decimal(0)

    def _move(
        self,
        book: dict[tuple[str, str], Decimal],
        source: tuple[str, str],
        target: tuple[str, str],
        amount: Decimal,
    ) -> None:
        for key, sign in ((source, -1), (target, 1)):
            balance = self._balance(book, key)
            if balance is not None:
                book[key] = balance + sign * amount

    def leg(self, reference: str) -> Leg:
        return self.legs[reference]

    # --- what arrives ------------------------------------------------------------------------

    def _family(self, instruction: Instruction) -> Family:
        chosen = self.scenario.answer_format
        return instruction.family if chosen == "auto" else chosen

    def _queue(self, advice: Advice, family: Family, due: date | None = None) -> None:
        self._outbox.append(Answer(advice, family, due))

    def reject(
        self,
        reference: str,
        problem: MalformedMessage,
        *,
        family: Family,
        details: Instruction | None = None,
    ) -> None:
        """A message that cannot be taken: rejected (processing status), with the reason."""
        reason = Reason(problem.code, f"{problem.element} {problem.problem}")
        advice = StatusAdvice(
            reference, None, processing="rejected", processing_reasons=(reason,), details=details
        )
        self._queue(advice, family)

    def receive(self, instruction: Instruction) -> None:
        """An instruction (accepted, then matched or not) or a cancellation request."""
        family = self._family(instruction)
        if instruction.cancels is not None:
            self._cancel(instruction, family)
            return
        if instruction.reference in self.legs:
            problem = MalformedMessage("reference", "was received before", code="REFE")
            self.reject(instruction.reference, problem, family=family)
            return
        accounts = self.scenario.our_accounts
        if accounts and instruction.safekeeping_account not in accounts:
            problem = MalformedMessage(
                "safekeeping account", f"{instruction.safekeeping_account} is not ours", code="SAFE"
            )
            self.reject(instruction.reference, problem, family=family, details=instruction)
            return
        self._arrivals += 1
        leg = Leg(
            instruction,
            self.ids.next_transaction(),
            self._arrivals,
            self.scenario.participant_bic,
            family,
        )
        self.legs[instruction.reference] = leg
        for rule in self.scenario.holds:
            if rule.selector.applies(instruction) and leg.hold is None:
                leg.hold, leg.hold_until = (
                    Reason(rule.reason, HOLD_TEXT.get(rule.reason)),
                    rule.until,
                )
        if self.scenario.auto_match:
            self._match(leg, self._mirror(leg))
        else:
            theirs = [other for other in self.counterparty_legs if other.state == "unmatched"]
            found, reasons = best_match(
                instruction, [other.instruction for other in theirs], self.scenario.tolerance
            )
            if found is not None and not reasons:
                self._match(leg, next(other for other in theirs if other.instruction is found))
            else:
                leg.unmatched_reasons = tuple(reasons)
        self._advise_arrival(leg)

    def _advise_arrival(self, leg: Leg) -> None:
        matched = leg.state == "matched"
        settlement: tuple[Settlement, tuple[Reason, ...]] | None = None
        if leg.hold is not None:
            settlement = ("pending", (leg.hold,))
            leg.advised = settlement
        advice = StatusAdvice(
            leg.instruction.reference,
            leg.csd_reference,
            processing="accepted",
            matching="matched" if matched else "unmatched",
            matching_reasons=() if matched else leg.unmatched_reasons,
            settlement=None if settlement is None else settlement[0],
            settlement_reasons=() if settlement is None else settlement[1],
            details=leg.instruction,
        )
        self._queue(advice, leg.family)

    def _mirror(self, leg: Leg) -> Leg:
        """The counterparty's leg, made up to match ours (``auto_match``)."""
        ours = leg.instruction
        account = ours.counterparty_account or f"CPTY-{ours.counterparty_agent or 'UNKNOWN'}"
        debit = {"DBIT": "CRDT", "CRDT": "DBIT", None: None}[ours.credit_debit]
        theirs = replace(
            ours,
            reference=f"CP-{leg.csd_reference}",
            direction="DELI" if ours.direction == "RECE" else "RECE",
            safekeeping_account=account,
            counterparty_account=ours.safekeeping_account,
            counterparty_agent=self.scenario.participant_bic,
            credit_debit=debit,  # type: ignore[arg-type]
        )
        if ours.direction == "RECE":
            for rule in self.scenario.counterparty_shortfalls:
                if rule.selector.applies(ours):
                    self.securities[(account, ours.isin)] = rule.available
        participant = ours.counterparty_agent or account
        mirror = Leg(theirs, f"CP-{leg.csd_reference}", leg.arrival, participant, leg.family)
        self.counterparty_legs.append(mirror)
        return mirror

    def _match(self, ours: Leg, theirs: Leg) -> None:
        ours.state = theirs.state = "matched"
        ours.counterparty, theirs.counterparty = theirs, ours
        ours.unmatched_reasons = ()

    def counterparty_instructs(
        self,
        *,
        reference: str,
        direction: Literal["RECE", "DELI"],
        isin: str,
        quantity: Decimal,
        trade_date: date,
        settlement_date: date,
        account: str,
        participant: str,
        payment: Literal["APMT", "FREE"] = "APMT",
        quantity_type: Literal["UNIT", "FAMT"] = "UNIT",
        amount: Decimal | None = None,
        currency: str | None = None,
        partial_indicator: str = "PART",
    ) -> Leg:
        """The counterparty's leg, registered by a test (without ``auto_match``): it matches
        the first of our unmatched instructions that agrees, or re-advises why none does."""
        credit_debit: CreditDebit | None = None
        if amount is not None:
            credit_debit = "DBIT" if direction == "RECE" else "CRDT"
        instruction = Instruction(
            reference,
            "xml",
            "counterparty",
            direction,
            payment,
            isin,
            quantity,
            quantity_type,
            trade_date,
            settlement_date,
            account,
            settlement_amount=amount,
            currency=currency,
            credit_debit=credit_debit,
            partial_indicator=partial_indicator,
        )
        self._arrivals += 1
        theirs = Leg(instruction, f"CP-{reference}", self._arrivals, participant, "xml")
        self.counterparty_legs.append(theirs)
        waiting = sorted(
            (leg for leg in self.legs.values() if leg.state == "unmatched"),
            key=lambda leg: leg.arrival,
        )
        for leg in waiting:
            if is_candidate(leg.instruction, instruction) and not differences(
                leg.instruction, instruction, self.scenario.tolerance
            ):
                self._match(leg, theirs)
                self._queue(
                    StatusAdvice(
                        leg.instruction.reference,
                        leg.csd_reference,
                        matching="matched",
                        details=leg.instruction,
                    ),
                    leg.family,
                )
                return theirs
        unmatched = [
            other.instruction for other in self.counterparty_legs if other.state == "unmatched"
        ]
        for leg in waiting:
            _, reasons = best_match(leg.instruction, unmatched, self.scenario.tolerance)
            if tuple(reasons) != leg.unmatched_reasons:
                leg.unmatched_reasons = tuple(reasons)
                advice = StatusAdvice(
                    leg.instruction.reference,
                    leg.csd_reference,
                    matching="unmatched",
                    matching_reasons=leg.unmatched_reasons,
                    details=leg.instruction,
                )
                self._queue(advice, leg.family)
        return theirs

    def hold(
        self, reference: str, reason: str, *, issuer: str | None = None, text: str | None = None
    ) -> None:
        """Put one of our instructions on hold: PREA, PRCY, CSDH, CVAL, or a proprietary
        code of ``issuer``; advised as pending with that reason."""
        leg = self.legs[reference]
        leg.hold, leg.hold_until = Reason(reason, text or HOLD_TEXT.get(reason), issuer), None
        if leg.state in ("unmatched", "matched"):
            self._advise_settlement(leg, "pending", (leg.hold,))

    def release(self, reference: str) -> None:
        """Release a hold: advised as pending without a reason."""
        leg = self.legs[reference]
        leg.hold = leg.hold_until = None
        if leg.state in ("unmatched", "matched"):
            self._advise_settlement(leg, "pending", ())

    def _advise_settlement(self, leg: Leg, status: Settlement, reasons: tuple[Reason, ...]) -> None:
        if leg.advised == (status, reasons):
            return
        leg.advised = (status, reasons)
        matching: Matching | None = "matched" if leg.state == "matched" else None
        advice = StatusAdvice(
            leg.instruction.reference,
            leg.csd_reference,
            matching=matching,
            settlement=status,
            settlement_reasons=reasons,
            details=leg.instruction,
        )
        self._queue(advice, leg.family)

    def _cancel(self, request: Instruction, family: Family) -> None:
        """Cancel an unmatched or matched instruction that has not settled (any part of it)."""
        assert request.cancels is not None
        leg = self.legs.get(request.cancels)
        if leg is None or leg.state in ("settled", "cancelled") or leg.settled_quantity > 0:
            state = (
                "unknown"
                if leg is None
                else ("partially settled" if leg.state == "matched" else leg.state)
            )
            problem = MalformedMessage("cancellation", f"instruction {request.cancels} is {state}")
            self.reject(request.reference, problem, family=family)
            return
        counterparty = leg.counterparty
        if counterparty is not None:
            counterparty.state, counterparty.counterparty = "unmatched", None
            if counterparty.instruction.message_type != "counterparty":  # made up: gone with ours
                self.counterparty_legs.remove(counterparty)
        leg.state, leg.counterparty = "cancelled", None
        advice = StatusAdvice(
            leg.instruction.reference,
            leg.csd_reference,
            processing="cancelled",
            processing_reasons=(CANCELLED,),
            details=leg.instruction,
        )
        self._queue(advice, family)

    # --- settlement --------------------------------------------------------------------------

    def settle_day(self, day: date, now: datetime) -> None:
        """Settle what is matched and due by ``day`` (a business day; else nothing settles):
        holds that end by ``day`` released first, then rounds in priority and arrival order
        until a round settles nothing; what is left fails with its reasons."""
        for leg in self.legs.values():
            if leg.hold is not None and leg.hold_until is not None and leg.hold_until <= day:
                self.release(leg.instruction.reference)
        if not is_business_day(day, self.scenario.holidays):
            return
        due = sorted(
            (
                leg
                for leg in self.legs.values()
                if leg.state == "matched" and leg.instruction.settlement_date <= day
            ),
            key=lambda leg: (int(leg.instruction.priority or "9999"), leg.arrival),
        )
        failures: dict[str, Outcome] = {}
        progressed = True
        while progressed:
            progressed = False
            for leg in due:
                if leg.state != "matched" or leg.hold is not None:
                    continue
                outcome = settle(self._attempt(leg), self._rules(leg, now))
                if outcome.quantity > 0:
                    self._book(leg, outcome, day)
                    progressed = True
                failures[leg.instruction.reference] = outcome
        for leg in due:
            if leg.hold is not None and leg.state == "matched":
                self._advise_settlement(leg, "pending", (leg.hold,))
            elif leg.state == "matched":
                self._advise_settlement(leg, "failing", failures[leg.instruction.reference].reasons)

    def _attempt(self, leg: Leg) -> Attempt:
        ours = leg.instruction
        theirs = leg.counterparty
        assert theirs is not None
        we_deliver = ours.direction == "DELI"
        deliverer = (
            ours.safekeeping_account if we_deliver else theirs.instruction.safekeeping_account
        )
        we_pay = ours.credit_debit == "DBIT"
        payer = leg.participant if we_pay else theirs.participant
        pays = leg.remaining_amount is not None and ours.currency is not None
        return Attempt(
            remaining=leg.remaining,
            remaining_amount=leg.remaining_amount,
            currency=ours.currency,
            deliverer_holds=self.holding(deliverer, ours.isin),
            payer_has=self.cash_of(payer, ours.currency) if pays and ours.currency else None,
            deliverer_is_us=we_deliver,
            payer_is_us=we_pay,
        )

    def _rules(self, leg: Leg, now: datetime) -> PartialRules:
        ours = leg.instruction
        assert leg.counterparty is not None
        return PartialRules(
            indicators=(ours.partial_indicator, leg.counterparty.instruction.partial_indicator),
            unit=self.scenario.settlement_unit(ours.isin),
            quantity_threshold=self.scenario.quantity_thresholds.get(ours.isin, Decimal(0)),
            cash_threshold=self.scenario.cash_thresholds.get(ours.currency or "", Decimal(0)),
            window_open=self.scenario.partial_window_open(now.astimezone(UTC).time()),
        )

    def _book(self, leg: Leg, outcome: Outcome, day: date) -> None:
        """Move the securities and the cash, and queue the confirmation (late if configured)."""
        ours, theirs = leg.instruction, leg.counterparty
        assert theirs is not None
        accounts = (ours.safekeeping_account, theirs.instruction.safekeeping_account)
        deliverer, receiver = accounts if ours.direction == "DELI" else accounts[::-1]
        self._move(self.securities, (deliverer, ours.isin), (receiver, ours.isin), outcome.quantity)
        if outcome.amount is not None and ours.currency is not None:
            payer, payee = (leg.participant, theirs.participant)
            if ours.credit_debit != "DBIT":
                payer, payee = payee, payer
            self._move(self.cash, (payer, ours.currency), (payee, ours.currency), outcome.amount)
            leg.settled_amount += outcome.amount
        previously = leg.settled_quantity
        leg.settled_quantity += outcome.quantity
        theirs.settled_quantity = leg.settled_quantity
        if leg.remaining == 0:
            leg.state = theirs.state = "settled"
        partial = None
        if leg.remaining > 0:
            partial = "PAIN"
        elif previously > 0:
            partial = "PARC"
        leg.advised = None  # what is left is advised afresh
        confirmation = Confirmation(
            ours.reference,
            leg.csd_reference,
            ours,
            day,
            outcome.quantity,
            outcome.amount,
            partial,  # type: ignore[arg-type]
            previously,
            leg.remaining,
        )
        delay = next(
            (rule.days for rule in self.scenario.late_confirmations if rule.selector.applies(ours)),
            0,
        )
        due = add_business_days(day, delay, self.scenario.holidays) if delay else None
        self._queue(confirmation, leg.family, due)

    def take(self, day: date) -> list[Answer]:
        """The answers due by ``day``, in the order they were made; the rest stay queued."""
        due = [answer for answer in self._outbox if answer.due is None or answer.due <= day]
        self._outbox = [
            answer for answer in self._outbox if not (answer.due is None or answer.due <= day)
        ]
        return due

    @property
    def waiting(self) -> list[Answer]:
        """The answers held back (late confirmations not yet due)."""
        return list(self._outbox)
