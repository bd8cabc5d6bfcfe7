"""What settling an instruction moves in the journal: what is left of it, seen from us, as
settlement movements; the pending entry that shows it as due until it settles; and the posting
of each settlement against that pending entry."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.positions.bookings import service as positions
from app.positions.bookings.service import Direction, SettlementMovement
from app.settlement.instructions.models import SettlementInstruction
from app.settlement.instructions.states import DeliveryType

ZERO = Decimal(0)
_RECEIVED = (DeliveryType.RVP, DeliveryType.RFP)


class Terms(Protocol):
    """What settling an instruction reads of it: its row, as the ORM or a Core query (a
    settlement run's claim) gives it."""

    @property
    def id(self) -> str: ...
    @property
    def counterparty_lei(self) -> str: ...
    @property
    def delivery_type(self) -> str: ...
    @property
    def credit_debit(self) -> str | None: ...
    @property
    def isin(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def settled_quantity(self) -> Decimal: ...
    @property
    def settled_amount(self) -> Decimal: ...
    @property
    def securities_account(self) -> str: ...
    @property
    def cash_account(self) -> str: ...
    @property
    def intended_settlement_date(self) -> date: ...
    @property
    def pending_id(self) -> str | None: ...


def signed(instruction: Terms) -> tuple[Decimal, Decimal]:
    """What is left to settle, seen from us: (+ received / - delivered quantity, + received /
    - paid cash)."""
    quantity = instruction.quantity - instruction.settled_quantity
    amount = instruction.amount - instruction.settled_amount
    if DeliveryType(instruction.delivery_type) not in _RECEIVED:
        quantity = -quantity
    if instruction.credit_debit == "DBIT":
        amount = -amount
    return quantity, amount


def movements(
    instruction: Terms, quantity: Decimal, amount: Decimal, settled_on: date
) -> list[SettlementMovement]:
    """The journal's view of settling ``quantity`` and ``amount`` (signed from us). Securities
    and cash going the same way (a net obligation can receive both) post as two movements."""

    def movement(direction: Direction, moved: Decimal, cash: Decimal) -> SettlementMovement:
        return SettlementMovement(
            reference=instruction.id,
            counterparty=instruction.counterparty_lei,
            direction=direction,
            isin=instruction.isin,
            quantity=moved,
            currency=instruction.currency,
            amount=cash,
            securities_account=instruction.securities_account,
            cash_account=instruction.cash_account,
            settlement_date=settled_on,
        )

    # RECEIVE takes securities in and pays cash out; DELIVER the other way round.
    if quantity > 0 and amount > 0:
        return [
            movement(Direction.RECEIVE, quantity, ZERO),
            movement(Direction.DELIVER, ZERO, amount),
        ]
    if quantity < 0 and amount < 0:
        return [
            movement(Direction.DELIVER, -quantity, ZERO),
            movement(Direction.RECEIVE, ZERO, -amount),
        ]
    if quantity > 0 or (quantity == 0 and amount < 0):
        return [movement(Direction.RECEIVE, quantity, -amount)]
    return [movement(Direction.DELIVER, -quantity, amount)]


def due(instruction: Terms) -> list[SettlementMovement]:
    """What the instruction moves when it settles in full on its intended date."""
    quantity, amount = signed(instruction)
    return movements(instruction, quantity, amount, instruction.intended_settlement_date)


@dataclass(frozen=True)
class Settlement:
    """What settles of one instruction: ``quantity`` and ``amount`` signed from us."""

    instruction: Terms
    quantity: Decimal
    amount: Decimal


async def post_many(
    session: AsyncSession,
    settlements: Sequence[Settlement],
    *,
    settled_on: date,
    actor: Actor,
    now: datetime,
) -> list[str | None]:
    """Post each settlement against its instruction's pending entry, all in one go. Returns,
    per settlement, the pending entry that now holds what is left of its instruction (None when
    nothing is): the caller sets it as the instruction's ``pending_id``."""
    posted = await positions.post_settlements(
        session,
        settlements=[
            positions.Settling(
                movements(s.instruction, s.quantity, s.amount, settled_on),
                s.instruction.pending_id,
            )
            for s in settlements
        ],
        actor=actor,
        now=now,
    )
    return [result.remainder_pending_id for result in posted]


async def post(
    session: AsyncSession,
    instruction: SettlementInstruction,
    quantity: Decimal,
    amount: Decimal,
    *,
    settled_on: date,
    actor: Actor,
    now: datetime,
) -> None:
    """``post_many`` for one instruction; what is left of it stays pending under the entry that
    replaces its own."""
    [instruction.pending_id] = await post_many(
        session,
        [Settlement(instruction, quantity, amount)],
        settled_on=settled_on,
        actor=actor,
        now=now,
    )


async def withdraw(
    session: AsyncSession,
    instruction: SettlementInstruction,
    *,
    reason: str,
    actor: Actor,
    now: datetime,
) -> None:
    """It will not settle: what it showed as due is voided."""
    if instruction.pending_id is not None:
        await positions.void_pending(
            session, pending_id=instruction.pending_id, reason=reason, actor=actor, now=now
        )
        instruction.pending_id = None
