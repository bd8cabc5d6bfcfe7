"""A match made by hand: statement entries and journal entries operations say explain each
other, whatever the rules thought. Refused whole when an id is unknown, the items are of
different accounts or currencies, a side is empty, or an item is matched already; otherwise
stored with its amount difference, and the open breaks it explains close."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.positions.journal import service as journal
from app.positions.ledger_accounts import codes as ledger
from app.reconciliation.breaks import detection
from app.reconciliation.matches import service
from app.reconciliation.matches.models import ReconciliationMatch
from app.reconciliation.matches.service import NewMatch
from app.reconciliation.statements import service as statements

MANUAL = "manual"
_CASH = ledger.cash("")


class ItemsAlreadyMatched(Conflict):
    slug = "already-matched"
    title = "An item is in an active match already"


@dataclass(frozen=True)
class _Item:
    id: str
    account: str
    currency: str
    amount: Decimal
    value_date: date


def _refuse(field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(
        f"{problem[0].upper()}{problem[1:]}.", errors=[FieldProblem(field, problem)]
    )


async def _lines(session: AsyncSession, ids: Sequence[str]) -> list[_Item]:
    found = {line.id: line for line in await statements.entries_by_ids(session, ids)}
    unknown = sorted(set(ids) - found.keys())
    if unknown:
        raise _refuse("statement_entry_ids", f"no statement entry {', '.join(unknown)}")
    return [
        _Item(
            line.id,
            line.account,
            line.currency,
            line.amount,
            line.value_date or line.booking_date or date.min,
        )
        for line in found.values()
    ]


async def _movement(session: AsyncSession, entry_id: str) -> _Item:
    try:
        view = await journal.journal_entry(session, entry_id=entry_id)
    except NotFound:
        raise _refuse("movement_ids", f"no journal entry {entry_id}") from None
    cash = [p for p in view.postings if p.ledger_account.startswith(_CASH)]
    if view.reversed_by is not None or len(cash) != 1:
        why = "was reversed" if view.reversed_by else "does not move one of our cash accounts once"
        raise _refuse("movement_ids", f"journal entry {entry_id} {why}")
    [posting] = cash
    return _Item(
        entry_id,
        posting.ledger_account.removeprefix(_CASH),
        posting.asset,
        posting.amount,
        view.entry.value_date,
    )


def _one_account_and_currency(items: Sequence[_Item]) -> tuple[str, str]:
    accounts = sorted({item.account for item in items})
    currencies = sorted({item.currency for item in items})
    if len(accounts) != 1:
        raise _refuse("movement_ids", f"the items are of several accounts: {', '.join(accounts)}")
    if len(currencies) != 1:
        raise _refuse(
            "movement_ids", f"the items are in several currencies: {', '.join(currencies)}"
        )
    return accounts[0], currencies[0]


async def _refuse_held(
    session: AsyncSession, lines: Sequence[str], movements: Sequence[str]
) -> None:
    held_lines, held_movements = await service.holders(
        session, line_ids=lines, movement_ids=movements
    )
    held = {**held_lines, **held_movements}
    if held:
        named = ", ".join(f"{item} (match {match})" for item, match in sorted(held.items()))
        raise ItemsAlreadyMatched(
            f"Already matched: {named}; unmatch first.",
            matches=sorted(set(held.values())),
        )


def _widest_gap(lines: Sequence[_Item], movements: Sequence[_Item]) -> int:
    gaps = [(line.value_date - m.value_date).days for line in lines for m in movements]
    return max(gaps, key=lambda gap: (abs(gap), gap))


async def match_by_hand(
    session: AsyncSession,
    *,
    statement_entry_ids: Sequence[str],
    movement_ids: Sequence[str],
    comment: str | None,
    actor: Actor,
    now: datetime,
) -> ReconciliationMatch:
    """Store the match (rule ``manual``) and close the open breaks its items explain."""
    if not statement_entry_ids or not movement_ids:
        raise _refuse("statement_entry_ids", "a match needs statement entries and movements both")
    lines = await _lines(session, statement_entry_ids)
    movements = [await _movement(session, entry_id) for entry_id in sorted(set(movement_ids))]
    account, currency = _one_account_and_currency([*lines, *movements])
    await _refuse_held(session, [x.id for x in lines], [x.id for x in movements])
    new = NewMatch(
        rule=MANUAL,
        line_ids=tuple(x.id for x in lines),
        movement_ids=tuple(x.id for x in movements),
        currency=currency,
        amount_difference=sum((x.amount for x in lines), Decimal(0))
        - sum((x.amount for x in movements), Decimal(0)),
        value_date_difference=_widest_gap(lines, movements),
        comment=comment,
    )
    value_date = max(x.value_date for x in [*lines, *movements])
    ids = await service.store(
        session, [new], account=account, value_date=value_date, run_id=None, actor=actor, now=now
    )
    match_id = ids[new.key]
    open_breaks = await detection.carried(session, account=account, up_to=date.max)
    closings = [
        detection.Closing(row, "matched", match_id, f"Matched by hand in {match_id}.")
        for row in detection.covered(open_breaks, new.line_ids, new.movement_ids)
    ]
    await detection.close(session, closings, actor=actor, now=now, tally=detection.Tally())
    return await service.get_match(session, match_id=match_id)
