"""What the depository is told of our instructions: the facts of a message built from the
instruction, its SSI, its trades and reference data, and the checks that keep an instruction
whose message cannot be written in repair. The outbound queue (app.settlement.outbound) writes
and queues the messages; this module is how the instructions service asks it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.reference.service import (
    Parties,
    ReferenceSet,
    isins_settled_at_csd,
    load_reference,
    parties_and_accounts,
)
from app.reference.values import InstrumentRef
from app.settlement.instructions.states import DeliveryType
from app.settlement.outbound.formats.facts import (
    DealPrice,
    InstructionFacts,
    MessageFormat,
    PriceKind,
    Problem,
    problems,
)
from app.trades.capture import post_trade as trades
from app.trades.capture.post_trade import SettlementTerms

CSD = "csd"
# Its message could not be written (a character outside the SWIFT X set, an account too long).
NOT_INSTRUCTABLE = "NOT_INSTRUCTABLE"
# A cash-only obligation has no securities movement to instruct: it settles as before.
_MOVES_SECURITIES = (DeliveryType.RVP, DeliveryType.RFP, DeliveryType.DVP, DeliveryType.DFP)
_RECEIVED = (DeliveryType.RVP, DeliveryType.RFP)
_AGAINST_PAYMENT = (DeliveryType.RVP, DeliveryType.DVP)


class Instructed(Protocol):
    """What a depository's message says of an instruction: its row, as the ORM gives it or as
    ``create_instructions`` makes it."""

    @property
    def id(self) -> str: ...
    @property
    def obligation_id(self) -> str: ...
    @property
    def delivery_type(self) -> str: ...
    @property
    def isin(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def credit_debit(self) -> str | None: ...
    @property
    def currency(self) -> str: ...
    @property
    def securities_account(self) -> str: ...
    @property
    def counterparty_lei(self) -> str: ...
    @property
    def intended_settlement_date(self) -> date: ...
    @property
    def partial_indicator(self) -> str: ...
    @property
    def priority(self) -> int: ...


def settles_at_csd(instruction: Instructed, reference: ReferenceSet) -> bool:
    market = reference.markets[reference.instruments[instruction.isin].mic]
    return market.settlement_mode == CSD and instruction.delivery_type in _MOVES_SECURITIES


async def csd_isins(session: AsyncSession) -> set[str]:
    """The ISINs whose instructions the depository settles (our runs do not)."""
    return await isins_settled_at_csd(session)


def _deal_price(instrument: InstrumentRef, terms: SettlementTerms | None) -> DealPrice | None:
    if terms is None or terms.price is None or terms.currency is None:
        return None
    kind = PriceKind.PERCENT if instrument.price_basis == "percent" else PriceKind.AMOUNT
    return DealPrice(value=terms.price, kind=kind, currency=terms.currency)


def _facts(
    instruction: Instructed,
    ssi: dict[str, Any],
    *,
    reference: ReferenceSet,
    parties: Parties,
    terms: SettlementTerms | None,
) -> InstructionFacts:
    instrument = reference.instruments[instruction.isin]
    market = reference.markets[instrument.mic]
    account = parties.accounts[instruction.securities_account]
    against_payment = instruction.delivery_type in _AGAINST_PAYMENT
    return InstructionFacts(
        message_format=MessageFormat(market.message_format),
        receive=instruction.delivery_type in _RECEIVED,
        against_payment=against_payment,
        trade_date=terms.trade_date if terms else None,
        settlement_date=instruction.intended_settlement_date,
        deal_price=_deal_price(instrument, terms),
        isin=instruction.isin,
        quantity=instruction.quantity,
        face_amount=instrument.type == "bond",
        # The account's number at its servicer when it has one, else our code for it.
        safekeeping_account=account.account_number or account.code,
        our_agent_bic=account.servicer_bic,
        place_of_settlement=ssi["place_of_settlement"],
        counterparty_agent_bic=ssi["agent_bic"],
        counterparty_account=ssi["account"],
        counterparty_bic=parties.counterparties[instruction.counterparty_lei].bic,
        settlement_amount=instruction.amount if against_payment else None,
        currency=instruction.currency,
        credit_debit=instruction.credit_debit,
        partial_indicator=instruction.partial_indicator,
        priority=instruction.priority,
    )


async def csd_facts(
    session: AsyncSession, pairs: Sequence[tuple[Instructed, dict[str, Any] | None]]
) -> dict[str, InstructionFacts]:
    """The message facts of those of the instructions the depository settles, by instruction
    id, each with the SSI given beside it (an instruction without one is left out)."""
    if not pairs:
        return {}
    reference = await load_reference(
        session, isins={i.isin for i, _ in pairs}, mics=(), books=(), leis=()
    )
    wanted = [(i, ssi) for i, ssi in pairs if ssi is not None and settles_at_csd(i, reference)]
    if not wanted:
        return {}
    parties = await parties_and_accounts(session)
    terms = await trades.settlement_terms(
        session, obligation_ids=[i.obligation_id for i, _ in wanted]
    )
    return {
        i.id: _facts(i, ssi, reference=reference, parties=parties, terms=terms.get(i.obligation_id))
        for i, ssi in wanted
    }


@dataclass(frozen=True)
class Unsendable:
    """Why an instruction's message cannot be written: a repair reason."""

    problems: list[Problem]

    def reason(self) -> dict[str, str]:
        detail = "; ".join(f"{p.field}: {p.detail}" for p in self.problems)
        return {"code": NOT_INSTRUCTABLE, "detail": f"{detail}. Fix it, then enrich again."}


def unsendable(facts: InstructionFacts | None) -> Unsendable | None:
    found = problems(facts) if facts is not None else []
    return Unsendable(found) if found else None


def writable_or_conflict(facts: InstructionFacts, instruction_id: str) -> InstructionFacts:
    """``facts``, or a 409 saying what keeps the depository's message from being written."""
    problem = unsendable(facts)
    if problem is not None:
        raise Conflict(
            f"Settlement instruction '{instruction_id}': its message to the depository cannot "
            f"be written ({problem.reason()['detail']})"
        )
    return facts
