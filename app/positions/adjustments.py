"""Manual entries under four-eyes: one operations key proposes, another approves or rejects;
only approval posts, as one journal entry."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_change
from app.core.auth import Actor
from app.core.errors import FieldProblem, Forbidden, NotFound, ValidationFailed
from app.core.identifiers import currency_minor_units, validate_currency
from app.core.ids import new_id
from app.core.money import decimal_places, format_decimal, is_multiple_of
from app.core.pagination import PageRequest, fetch_page
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.positions import accounts, journal
from app.positions.accounts import LedgerKind
from app.positions.entries import EntryKind, Line, NewEntry, imbalances
from app.positions.models import Adjustment, LedgerAccount
from app.positions.schemas import AdjustmentIn, AdjustmentKind
from app.positions.states import ADJUSTMENT_TRANSITIONS, AdjustmentEvent, AdjustmentStatus
from app.reference.accounts.service import accounts_by_code
from app.reference.service import load_reference

ENTITY = "adjustment"
SOURCE = "adjustment"


class _Resolver:
    """Turns what operations typed into ledger account codes, and says what is wrong."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    async def load(self, session: AsyncSession, data: AdjustmentIn) -> None:
        refs = [line.account for line in data.lines]
        references = [accounts.parse(ref) for ref in refs]
        self.ledger = set(
            (
                await session.scalars(
                    select(LedgerAccount.code).where(LedgerAccount.code.in_(refs))
                )
            ).all()
        )
        named = {p.reference for p in references if p is not None and p.reference}
        self.accounts = await accounts_by_code(session, codes=[*refs, *named])
        self.reference = await load_reference(
            session,
            isins=[line.asset for line in data.lines if accounts.is_security(line.asset)],
            mics=[],
            books=named,
            leis=named,
        )

    def problem(self, field: str, message: str) -> None:
        self.problems.append(FieldProblem(field, message))

    def ledger_account(self, ref: str, field: str) -> tuple[str, LedgerKind] | None:
        if ref in self.ledger:
            parsed = accounts.parse(ref)
            return (ref, parsed.kind) if parsed else None
        parsed = accounts.parse(ref)
        if parsed is None:
            account = self.accounts.get(ref)
            if account is None:
                self.problem(field, f"'{ref}' is neither one of our accounts nor a ledger account")
                return None
            kind = LedgerKind.CASH if account.kind == "cash" else LedgerKind.SECURITIES
            code = accounts.cash(ref) if kind is LedgerKind.CASH else accounts.securities(ref)
            return code, kind
        known = {
            LedgerKind.BOOK: parsed.reference in self.reference.books,
            LedgerKind.COUNTERPARTY: parsed.reference in self.reference.counterparties,
            LedgerKind.SECURITIES: self._account_kind(parsed.reference) == "securities",
            LedgerKind.CASH: self._account_kind(parsed.reference) == "cash",
        }.get(parsed.kind, True)
        if not known:
            self.problem(field, f"'{ref}' names no {parsed.kind} of ours")
            return None
        return ref, parsed.kind

    def _account_kind(self, code: str | None) -> str | None:
        account = self.accounts.get(code or "")
        return account.kind if account else None

    def asset(self, asset: str, kind: LedgerKind, code: str, field: str) -> str | None:
        if accounts.is_security(asset):
            if asset not in self.reference.instruments:
                self.problem(field, f"'{asset}' is not an instrument we know")
                return None
            if kind is LedgerKind.CASH:
                self.problem(field, f"{code} holds cash, not securities")
                return None
            return asset
        try:
            validate_currency(asset)
        except ValueError as error:
            self.problem(field, str(error))
            return None
        if kind is LedgerKind.SECURITIES:
            self.problem(field, f"{code} holds securities, not cash")
            return None
        account = self.accounts.get(code.partition(":")[2])
        if (
            kind is LedgerKind.CASH
            and account is not None
            and account.currency not in (None, asset)
        ):
            self.problem(field, f"{code} holds {account.currency}, not {asset}")
            return None
        return asset


async def _resolve(session: AsyncSession, data: AdjustmentIn, today: date) -> list[Line]:
    resolver = _Resolver()
    await resolver.load(session, data)
    lines: list[Line] = []
    for index, line in enumerate(data.lines):
        field = f"lines[{index}]"
        resolved = resolver.ledger_account(line.account, f"{field}.account")
        if resolved is None:
            continue
        code, kind = resolved
        asset = resolver.asset(line.asset, kind, code, f"{field}.asset")
        if asset is None:
            continue
        if line.amount == 0:
            resolver.problem(f"{field}.amount", "must not be zero")
        elif accounts.is_security(asset) and not is_multiple_of(
            abs(line.amount), resolver.reference.instruments[asset].settlement_unit
        ):
            unit = format_decimal(resolver.reference.instruments[asset].settlement_unit)
            resolver.problem(
                f"{field}.amount", f"is not a multiple of {asset}'s settlement unit {unit}"
            )
        elif not accounts.is_security(asset) and decimal_places(line.amount) > currency_minor_units(
            asset
        ):
            resolver.problem(f"{field}.amount", f"has more decimals than {asset} allows")
        book_position = kind is LedgerKind.BOOK and accounts.is_security(asset)
        cost = line.cost
        if book_position and cost is None:
            resolver.problem(f"{field}.cost", "a book's securities line needs its cost basis")
        elif not book_position and cost is not None:
            resolver.problem(f"{field}.cost", "only a book's securities line carries a cost")
        elif cost is not None:
            currency = resolver.reference.instruments[asset].currency
            if decimal_places(cost) > currency_minor_units(currency):
                resolver.problem(f"{field}.cost", f"has more decimals than {currency} allows")
            elif cost != 0 and (cost > 0) != (line.amount < 0):
                # A long (a credit on the book) costs something; a short brought something in.
                resolver.problem(
                    f"{field}.cost", "is positive for a long (a credit) and negative for a short"
                )
        lines.append(Line(code, asset, line.amount, cost, Decimal(0) if book_position else None))
    if data.value_date is not None and data.value_date > today:
        resolver.problem("value_date", f"is in the future (today is {today})")
    if resolver.problems:
        raise ValidationFailed(
            "; ".join(f"{p.field}: {p.message}" for p in resolver.problems[:5]),
            errors=resolver.problems,
        )
    off = imbalances(lines)
    if data.kind is AdjustmentKind.OPENING:
        lines += [
            Line(accounts.OPENING_EQUITY.code, asset, -amount)
            for asset, amount in sorted(off.items())
        ]
    elif off:
        detail = ", ".join(
            f"{asset} by {format_decimal(amount)}" for asset, amount in sorted(off.items())
        )
        raise ValidationFailed(
            f"A {data.kind} adjustment must balance per asset; it is off {detail}.",
            errors=[
                FieldProblem("lines", f"{asset} does not balance (off by {format_decimal(amount)})")
                for asset, amount in sorted(off.items())
            ],
        )
    return lines


def _posting(line: Line) -> dict[str, Any]:
    return {
        "ledger_account": line.ledger_account,
        "asset": line.asset,
        "amount": format_decimal(line.amount),
        "cost": None if line.cost is None else format_decimal(line.cost),
        "realized_pnl": None if line.realized_pnl is None else format_decimal(line.realized_pnl),
    }


def _line(posting: dict[str, Any]) -> Line:
    def optional(name: str) -> Decimal | None:
        value = posting.get(name)
        return None if value is None else Decimal(value)

    return Line(
        posting["ledger_account"],
        posting["asset"],
        Decimal(posting["amount"]),
        optional("cost"),
        optional("realized_pnl"),
    )


async def propose(
    session: AsyncSession, *, data: AdjustmentIn, actor: Actor, now: datetime
) -> Adjustment:
    lines = await _resolve(session, data, now.date())
    adjustment = Adjustment(
        id=new_id("adj"),
        kind=data.kind.value,
        status=AdjustmentStatus.PROPOSED.value,
        reason=data.reason,
        value_date=data.value_date or now.date(),
        lines=[
            {
                "account": line.account,
                "asset": line.asset,
                "amount": format_decimal(line.amount),
                "cost": None if line.cost is None else format_decimal(line.cost),
            }
            for line in data.lines
        ],
        postings=[_posting(line) for line in lines],
        proposed_by=actor.key_id,
        proposed_by_name=actor.name,
        proposed_at=now,
        version=1,
    )
    session.add(adjustment)
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=adjustment.id,
        action="proposed",
        before=None,
        after=row_snapshot(adjustment),
        now=now,
    )
    return adjustment


async def _lock(session: AsyncSession, adjustment_id: str) -> Adjustment:
    await session.flush()
    adjustment = await session.get(
        Adjustment, adjustment_id, with_for_update=True, populate_existing=True
    )
    if adjustment is None:
        raise NotFound(f"No adjustment '{adjustment_id}'.")
    return adjustment


async def _decide(
    session: AsyncSession,
    *,
    adjustment_id: str,
    event: AdjustmentEvent,
    actor: Actor,
    now: datetime,
    rejection_reason: str | None = None,
) -> Adjustment:
    adjustment = await _lock(session, adjustment_id)
    status = next_state(ADJUSTMENT_TRANSITIONS, AdjustmentStatus(adjustment.status), event)
    if adjustment.proposed_by == actor.key_id:
        raise Forbidden(
            f"Four-eyes: adjustment {adjustment_id} must be {event} by another operations key."
        )
    before = row_snapshot(adjustment)
    if event is AdjustmentEvent.APPROVED:
        entry = NewEntry(
            kind=EntryKind.ADJUSTMENT,
            value_date=adjustment.value_date,
            description=f"{adjustment.kind.replace('_', ' ').capitalize()}: {adjustment.reason}",
            lines=tuple(_line(posting) for posting in adjustment.postings),
            source_type=SOURCE,
            source_id=adjustment.id,
        )
        [adjustment.entry_id] = await journal.post(session, [entry], actor=actor, now=now)
    adjustment.status = status.value
    adjustment.decided_by = actor.key_id
    adjustment.decided_by_name = actor.name
    adjustment.decided_at = now
    adjustment.rejection_reason = rejection_reason
    adjustment.version += 1
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=adjustment.id,
        action=event.value,
        before=before,
        after=row_snapshot(adjustment),
        now=now,
    )
    return adjustment


async def approve(
    session: AsyncSession, *, adjustment_id: str, actor: Actor, now: datetime
) -> Adjustment:
    return await _decide(
        session, adjustment_id=adjustment_id, event=AdjustmentEvent.APPROVED, actor=actor, now=now
    )


async def reject(
    session: AsyncSession, *, adjustment_id: str, reason: str, actor: Actor, now: datetime
) -> Adjustment:
    return await _decide(
        session,
        adjustment_id=adjustment_id,
        event=AdjustmentEvent.REJECTED,
        actor=actor,
        now=now,
        rejection_reason=reason,
    )


async def get(session: AsyncSession, *, adjustment_id: str) -> Adjustment:
    adjustment = await session.get(Adjustment, adjustment_id)
    if adjustment is None:
        raise NotFound(f"No adjustment '{adjustment_id}'.")
    return adjustment


async def list_adjustments(
    session: AsyncSession, *, page: PageRequest, status: AdjustmentStatus | None = None
) -> tuple[Sequence[Adjustment], str | None]:
    statement = select(Adjustment)
    if status is not None:
        statement = statement.where(Adjustment.status == status.value)
    return await fetch_page(session, statement, Adjustment.id, page)
