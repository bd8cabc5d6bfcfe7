"""The run's checks besides matching: a statement's own integrity breaks, the closing booked
balance against the book's settled cash, and a custodian's holdings against settlement-date
positions. Each difference is a break of the day; one that is gone closes (by the run)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from app.core.money import format_decimal
from app.core.pagination import PageRequest
from app.positions.bookings import service as bookings
from app.reconciliation.breaks.detection import BALANCE, HOLDINGS, INTEGRITY, FoundBreak, break_key
from app.reconciliation.holdings import comparison
from app.reconciliation.holdings import service as holdings
from app.reconciliation.runs.context import RunContext
from app.reconciliation.statements import service as statements

_ZERO = Decimal(0)
_MAX_STATEMENTS = 100


def _difference(expected: Any, found: Any) -> Decimal:
    """``found - expected`` when both are amounts; zero for a check about something else."""
    try:
        return Decimal(str(found)) - Decimal(str(expected))
    except (InvalidOperation, ValueError):
        return _ZERO


async def integrity(run: RunContext) -> dict[str, Any]:
    """Each integrity break stored on the account's statements of the day becomes a break."""
    rows, _ = await statements.list_statements(
        run.session,
        page=PageRequest(limit=_MAX_STATEMENTS),
        account=run.account,
        from_date=run.day,
        to_date=run.day,
        integrity="breaks",
    )
    found = [
        FoundBreak(
            kind=INTEGRITY,
            key=break_key(INTEGRITY, row.id, flagged["kind"]),
            amount=_difference(flagged.get("expected"), flagged.get("found")),
            since=run.day,
            detail=f"Statement {row.statement_id} ({row.id}): {flagged.get('message', '')}",
            currency=row.currency,
            statement_id=row.id,
        )
        for row in rows
        for flagged in row.integrity_breaks
    ]
    await run.record(found)
    return {"statements": [row.id for row in rows], "breaks": len(found)}


async def balance(run: RunContext) -> dict[str, Any] | None:
    """The statement's closing booked balance against the book's settled cash of the day."""
    closing = await statements.closing_balance(run.session, run.account, run.day)
    if closing is None:
        return None  # nothing to compare with: the day's balance breaks stay as they are
    book = await bookings.settled_cash(
        run.session, cash_account=run.account, currency=closing.currency, value_date=run.day
    )
    difference = closing.amount - book
    found = []
    if difference != 0:
        found.append(
            FoundBreak(
                kind=BALANCE,
                key=break_key(BALANCE, run.account, closing.currency, run.day.isoformat()),
                amount=difference,
                since=run.day,
                detail=f"Closing booked balance {format_decimal(closing.amount)} "
                f"{closing.currency} on {run.day}, the book's settled cash "
                f"{format_decimal(book)}",
                currency=closing.currency,
                statement_id=closing.statement,
            )
        )
    await run.settle_day((BALANCE,), found, "The balances agree now.")
    return {
        "statement_id": closing.statement,
        "currency": closing.currency,
        "statement": format_decimal(closing.amount),
        "book": format_decimal(book),
        "difference": format_decimal(difference),
    }


async def holdings_of(run: RunContext) -> dict[str, Any] | None:
    """The custodian's latest holdings statement of the day against the book's settlement-date
    positions, per ISIN."""
    snapshot = await holdings.holdings_for(run.session, account=run.account, day=run.day)
    if snapshot is None:
        return None
    book = await bookings.settled_securities(
        run.session, securities_account=run.account, value_date=run.day
    )
    differences = comparison.compare(snapshot.lines, book)
    found = [
        FoundBreak(
            kind=HOLDINGS,
            key=break_key(HOLDINGS, run.account, d.isin, run.day.isoformat()),
            amount=d.difference,
            since=run.day,
            detail=f"{d.isin}: the custodian holds {format_decimal(d.custodian_quantity)}, "
            f"the book {format_decimal(d.book_quantity)}",
            isin=d.isin,
            statement_id=snapshot.statement_ids[0],
        )
        for d in differences
    ]
    await run.settle_day((HOLDINGS,), found, "The holdings agree now.")
    return {
        "statement_ids": list(snapshot.statement_ids),
        "complete": snapshot.complete,
        "isins": len({line.isin for line in snapshot.lines} | book.keys()),
        "differences": len(differences),
    }
