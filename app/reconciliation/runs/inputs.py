"""What a cash run matches: the account's booked statement lines and the book's cash movements
of the day, plus the items of its open breaks from earlier days, less every item an active
match holds already; as the matching engine's values. Given the rule ``clear`` matches by, the
pairs nothing contests are decided set-based first and only the rest is read as values."""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.positions.bookings import service as bookings
from app.positions.bookings.service import CashMovement
from app.reconciliation.breaks.models import ReconciliationBreak
from app.reconciliation.matches import service as matches
from app.reconciliation.matching import fit
from app.reconciliation.matching.values import BookMovement, Match, Rule, StatementLine
from app.reconciliation.runs import clear
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
    # The first rule's matches decided set-based (``clear``), and their lines' currencies:
    # their lines and movements are not among ``lines`` and ``movements``.
    clear: list[Match] = field(default_factory=list)
    clear_currency: dict[str, str] = field(default_factory=dict)

    @property
    def line_count(self) -> int:
        return len(self.lines) + sum(len(m.line_ids) for m in self.clear)

    @property
    def movement_count(self) -> int:
        return len(self.movements) + sum(len(m.movement_ids) for m in self.clear)


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


async def _movements(
    session: AsyncSession, account: str, day: date, breaks: list[ReconciliationBreak]
) -> tuple[list[BookMovement], dict[str, str]]:
    """The free movements as values, and the held ones' matches."""
    book = await bookings.cash_movements(session, cash_account=account, value_date=day)
    book += await _carried_movements(session, account, breaks)
    movements = {m.entry_id: m for m in book}
    _, held = await matches.holders(session, line_ids=(), movement_ids=movements)
    return [as_movement(m) for m in movements.values() if m.entry_id not in held], held


async def load(
    session: AsyncSession,
    *,
    account: str,
    day: date,
    carried: Iterable[ReconciliationBreak],
    first: Rule | None = None,
) -> Inputs:
    """See the module. Each item once, whichever way it came. ``first``: the rule ``clear``
    matches by (None: every line is read as a value)."""
    breaks = list(carried)
    movements, held_movements = await _movements(session, account, day, breaks)
    if first is not None:
        return await _split(session, account, day, breaks, first, movements, held_movements)
    stored = {line.id: line for line in await statements.booked_entries(session, account, day)}
    carried_line_ids = sorted({i for row in breaks for i in row.statement_entry_ids} - set(stored))
    stored |= {x.id: x for x in await statements.entries_by_ids(session, carried_line_ids)}
    held_lines, _ = await matches.holders(session, line_ids=stored, movement_ids=())
    parties = Counterparties(await counterparties.every_counterparty(session))
    return Inputs(
        lines=[as_line(x, parties) for x in stored.values() if x.id not in held_lines],
        movements=movements,
        statement_of={x.id: x.statement for x in stored.values()},
        held={**held_lines, **held_movements},
    )


@dataclass(frozen=True)
class SplitLines:
    """``clear.split`` with the doubtful lines' own references checked: the clear matches (and
    their lines' currencies), the lines left for the engine as stored, the held lines."""

    clear: list[Match]
    currency: dict[str, str]
    left: list[StoredLine]
    held: dict[str, str]


async def split_lines(
    session: AsyncSession,
    first: Rule,
    *,
    account: str,
    day: date,
    carried_line_ids: Sequence[str],
    movements: Sequence[BookMovement],
) -> SplitLines:
    """See ``clear``: a pair whose movement shares a reference with a doubtful line (as Python
    reads its references) is left to the engine."""
    cut = await clear.split(
        session,
        first,
        account=account,
        day=day,
        carried_line_ids=carried_line_ids,
        movements=movements,
    )
    doubtful = await statements.entries_by_ids(session, sorted(cut.doubtful))
    their = {reference for line in doubtful for reference in _line_references(line)}
    cut.take_back(m.id for m in movements if not m.references.isdisjoint(their))
    loaded = {x.id for x in doubtful}
    rest = await statements.entries_by_ids(session, sorted(set(cut.left) - loaded))
    return SplitLines(cut.matches, cut.currency, doubtful + rest, cut.held)


async def _split(
    session: AsyncSession,
    account: str,
    day: date,
    breaks: list[ReconciliationBreak],
    first: Rule,
    movements: list[BookMovement],
    held_movements: dict[str, str],
) -> Inputs:
    """The clear pairs decided set-based, the rest read as values."""
    found = await split_lines(
        session,
        first,
        account=account,
        day=day,
        carried_line_ids=sorted({i for row in breaks for i in row.statement_entry_ids}),
        movements=movements,
    )
    taken = {movement_id for m in found.clear for movement_id in m.movement_ids}
    parties = Counterparties(await counterparties.every_counterparty(session))
    return Inputs(
        lines=[as_line(x, parties) for x in found.left],
        movements=[m for m in movements if m.id not in taken],
        statement_of={x.id: x.statement for x in found.left},
        held={**found.held, **held_movements},
        clear=found.clear,
        clear_currency=found.currency,
    )
