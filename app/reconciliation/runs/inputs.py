"""What a cash run matches: the account's booked statement lines and the book's cash movements
of the day, plus the items of its open breaks from earlier days, less every item an active
match holds already; as the matching engine's values."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.positions.bookings import service as bookings
from app.positions.bookings.service import CashMovement
from app.reconciliation.breaks.models import ReconciliationBreak
from app.reconciliation.matches import service as matches
from app.reconciliation.matching import fit
from app.reconciliation.matching.values import BookMovement, StatementLine
from app.reconciliation.statements import service as statements
from app.reconciliation.statements.values import StatementLine as StoredLine
from app.reference.counterparties import service as counterparties
from app.reference.values import CounterpartyRef

# Our ids (``new_id``) as a bank may quote them in free remittance text.
_OUR_ID = re.compile(r"\b[a-z]{2,5}_[0-9a-z]{26}\b")


@dataclass(frozen=True)
class Inputs:
    lines: list[StatementLine]
    movements: list[BookMovement]
    statement_of: dict[str, str]  # line id -> our statement id
    # Items of the loaded ones an active match holds already: item id -> match id.
    held: dict[str, str]


def _line_references(line: StoredLine) -> frozenset[str]:
    given = [*line.references.values(), line.end_to_end_id, line.instruction_id]
    given += [line.account_servicer_reference, line.uetr]
    given += _OUR_ID.findall(line.remittance_information or "")
    return frozenset(value.strip() for value in given if value and value.strip())


class Counterparties:
    """A statement line's counterparty (account, BIC or name) as the LEI the book uses, when
    a counterparty of ours answers to it."""

    def __init__(self, known: Mapping[str, CounterpartyRef]) -> None:
        self._lei: dict[str, str] = {}
        for lei, ref in known.items():
            names = [lei, ref.name, ref.bic, ref.bic[:8] if ref.bic else None]
            for name in names:
                key = fit.counterparty_key(name)
                if key is not None:
                    self._lei.setdefault(key, lei)

    def of(self, line: StoredLine) -> str | None:
        for given in (line.counterparty_account, line.counterparty_name):
            key = fit.counterparty_key(given)
            if key is not None and key in self._lei:
                return self._lei[key]
        return line.counterparty_name or line.counterparty_account


def as_line(line: StoredLine, parties: Counterparties) -> StatementLine:
    return StatementLine(
        id=line.id,
        currency=line.currency,
        amount=line.amount,
        value_date=line.value_date or line.booking_date or date.min,
        booking_date=line.booking_date,
        references=_line_references(line),
        counterparty=parties.of(line),
    )


def as_movement(movement: CashMovement) -> BookMovement:
    references = {movement.entry_id, *([movement.source_id] if movement.source_id else [])}
    return BookMovement(
        id=movement.entry_id,
        currency=movement.currency,
        amount=movement.amount,
        value_date=movement.value_date,
        references=frozenset(references),
        counterparty=movement.counterparty,
    )


async def _carried_movements(
    session: AsyncSession, account: str, breaks: Iterable[ReconciliationBreak]
) -> list[CashMovement]:
    """The movements open breaks name, read on each day they may carry (found, or since)."""
    rows = list(breaks)
    wanted = {movement_id for row in rows for movement_id in row.movement_ids}
    days = sorted({day for row in rows if row.movement_ids for day in (row.since, row.value_date)})
    found: list[CashMovement] = []
    for day in days:
        on_day = await bookings.cash_movements(session, cash_account=account, value_date=day)
        found += [m for m in on_day if m.entry_id in wanted]
    return found


async def load(
    session: AsyncSession, *, account: str, day: date, carried: Iterable[ReconciliationBreak]
) -> Inputs:
    """See the module. Each item once, whichever way it came."""
    breaks = list(carried)
    stored = {line.id: line for line in await statements.booked_entries(session, account, day)}
    carried_line_ids = sorted({i for row in breaks for i in row.statement_entry_ids} - set(stored))
    stored |= {x.id: x for x in await statements.entries_by_ids(session, carried_line_ids)}
    book = await bookings.cash_movements(session, cash_account=account, value_date=day)
    book += await _carried_movements(session, account, breaks)
    movements = {m.entry_id: m for m in book}
    held_lines, held_movements = await matches.holders(
        session, line_ids=stored, movement_ids=movements
    )
    parties = Counterparties(await counterparties.every_counterparty(session))
    return Inputs(
        lines=[as_line(x, parties) for x in stored.values() if x.id not in held_lines],
        movements=[as_movement(m) for m in movements.values() if m.entry_id not in held_movements],
        statement_of={x.id: x.statement for x in stored.values()},
        held={**held_lines, **held_movements},
    )
