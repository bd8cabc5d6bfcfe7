"""Custodians' holdings statements: read a file, store every statement in it or none, answer
what the custodian said an account held on a day."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import audited
from app.core.auth import Actor
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.ids import new_id
from app.core.money import format_decimal
from app.core.pagination import PageRequest
from app.reconciliation.holdings import repository
from app.reconciliation.holdings.models import HoldingsFile, HoldingsLine, HoldingsStatement
from app.reconciliation.holdings.parsing.csv_format import StatementDefaults
from app.reconciliation.holdings.parsing.detect import HoldingsFormat
from app.reconciliation.holdings.parsing.model import (
    HoldingsParseError,
    ParsedHoldingsStatement,
    QuantityType,
    StatementBasis,
)
from app.reconciliation.holdings.parsing.parse import parse_holdings
from app.reconciliation.holdings.values import HoldingLine, HoldingsSnapshot
from app.reference.accounts import service as accounts

ENTITY = "holdings_statement"
SECURITIES = "securities"


class UnreadableHoldings(ValidationFailed):
    slug = "holdings-unreadable"
    title = "The holdings file cannot be read"


class UnknownSafekeepingAccount(ValidationFailed):
    slug = "unknown-safekeeping-account"
    title = "The statement's safekeeping account is not one of our securities accounts"


class HoldingsAlreadyReceived(Conflict):
    slug = "holdings-statement-already-received"
    title = "This holdings statement was received before"


class HoldingsContentDiffers(Conflict):
    slug = "holdings-statement-content-differs"
    title = "This holdings statement was received before with other content"


@dataclass(frozen=True)
class ReceivedFile:
    file: HoldingsFile
    statements: list[HoldingsStatement]


# Reading -----------------------------------------------------------------------------------


def read_file(
    data: bytes, *, holdings_format: HoldingsFormat, defaults: StatementDefaults
) -> list[ParsedHoldingsStatement]:
    """Every statement in the file, or 422 naming the line or element that cannot be read."""
    try:
        return parse_holdings(data, holdings_format=holdings_format, defaults=defaults)
    except HoldingsParseError as error:
        raise UnreadableHoldings(
            f"{error.location}: {error.message}; nothing was stored.",
            errors=[FieldProblem(error.location, error.message)],
            location=error.location,
        ) from None


def content_hash(statement: ParsedHoldingsStatement) -> str:
    """The statement's content, however the file wrote it ("1500" and "1500.00" alike)."""
    content = {
        "safekeeping_account": statement.safekeeping_account,
        "statement_id": statement.statement_id,
        "statement_date": statement.statement_date.isoformat(),
        "basis": statement.basis.value if statement.basis else None,
        "page": statement.page,
        "last_page": statement.last_page,
        "holdings": [
            [
                h.isin,
                _canonical(h.quantity),
                h.quantity_type.value,
                _canonical(h.available) if h.available is not None else None,
            ]
            for h in statement.holdings
        ],
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: Decimal) -> str:
    return format_decimal(value.normalize())


# Storing -----------------------------------------------------------------------------------


async def receive_file(
    session: AsyncSession,
    *,
    data: bytes,
    holdings_format: HoldingsFormat,
    statements: Sequence[ParsedHoldingsStatement],
    actor: Actor,
    now: datetime,
) -> ReceivedFile:
    """Store the file and every statement read from it, each audited; or refuse the file whole
    (422 for an account that is not ours or a statement twice in the file, 409 for a statement
    received before) and store nothing."""
    _refuse_repeats(statements)
    ours = await _our_accounts(session, statements)
    hashes = [content_hash(statement) for statement in statements]
    await _refuse_received(session, statements, ours, hashes)
    file = HoldingsFile(
        id=new_id("hfl"),
        format=holdings_format.value,
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        received_at=now,
        received_by=actor.key_id,
    )
    await repository.add_file(session, file)
    rows = []
    for statement, content in zip(statements, hashes, strict=True):
        row = _statement_row(statement, file, ours[statement.safekeeping_account], content)
        async with audited(
            session, row, entity_type=ENTITY, action="received", actor=actor, now=now, created=True
        ):
            await _add(session, row, statement)
        rows.append(row)
    return ReceivedFile(file, rows)


def _key(statement: ParsedHoldingsStatement, account: str) -> repository.StatementKey:
    return (account, statement.statement_id, statement.statement_date, statement.page or 1)


def _described(statement: ParsedHoldingsStatement) -> str:
    page = f" page {statement.page}" if statement.page is not None else ""
    return (
        f"statement '{statement.statement_id}'{page} of {statement.statement_date} for "
        f"'{statement.safekeeping_account}'"
    )


def _refuse_repeats(statements: Sequence[ParsedHoldingsStatement]) -> None:
    seen: dict[repository.StatementKey, int] = {}
    for number, statement in enumerate(statements, start=1):
        key = _key(statement, statement.safekeeping_account)
        if key in seen:
            raise UnreadableHoldings(
                f"The file holds {_described(statement)} twice (statements {seen[key]} and "
                f"{number}); nothing was stored.",
                errors=[FieldProblem(f"statement {number}", "repeats an earlier statement")],
                location=f"statement {number}",
            )
        seen[key] = number


async def _our_accounts(
    session: AsyncSession, statements: Sequence[ParsedHoldingsStatement]
) -> dict[str, str]:
    """Our securities account for each safekeeping account named: its code or account number."""
    named: dict[str, list[tuple[str, str]]] = {}
    for ref in (await accounts.every_account(session)).values():
        for name in {ref.code, ref.account_number} - {None}:
            named.setdefault(str(name), []).append((ref.code, ref.kind))
    ours: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for name in dict.fromkeys(statement.safekeeping_account for statement in statements):
        found = named.get(name, [])
        securities = sorted(code for code, kind in found if kind == SECURITIES)
        if len(securities) == 1:
            ours[name] = securities[0]
        elif securities:
            problem = f"'{name}' names several securities accounts: {', '.join(securities)}"
            problems.append(FieldProblem("safekeeping_account", problem))
        elif found:
            problem = f"'{name}' is the cash account {found[0][0]}, not a securities account"
            problems.append(FieldProblem("safekeeping_account", problem))
        else:
            problem = f"'{name}' is neither the code nor the account number of our accounts"
            problems.append(FieldProblem("safekeeping_account", problem))
    if problems:
        detail = "; ".join(problem.message for problem in problems)
        raise UnknownSafekeepingAccount(f"{detail}; nothing was stored.", errors=problems)
    return ours


async def _refuse_received(
    session: AsyncSession,
    statements: Sequence[ParsedHoldingsStatement],
    ours: dict[str, str],
    hashes: Sequence[str],
) -> None:
    keys = [_key(s, ours[s.safekeeping_account]) for s in statements]
    stored = {
        (row.account, row.statement_id, row.statement_date, row.page): row
        for row in await repository.received(session, keys)
    }
    conflicts = [
        (statement, stored[key], content)
        for statement, key, content in zip(statements, keys, hashes, strict=True)
        if key in stored
    ]
    if not conflicts:
        return
    described = [
        {
            "statement": _described(statement),
            "stored_id": row.id,
            "stored_hash": row.content_hash,
            "received_hash": content,
        }
        for statement, row, content in conflicts
    ]
    differing = [item for item in described if item["stored_hash"] != item["received_hash"]]
    if differing:
        detail = "; ".join(
            f"{item['statement']} was stored as {item['stored_id']} with content "
            f"{item['stored_hash']}, this file has {item['received_hash']}"
            for item in differing
        )
        raise HoldingsContentDiffers(f"{detail}; nothing was stored.", conflicts=differing)
    detail = "; ".join(f"{item['statement']} is {item['stored_id']}" for item in described)
    raise HoldingsAlreadyReceived(
        f"Already received: {detail}; nothing was stored.", conflicts=described
    )


def _statement_row(
    statement: ParsedHoldingsStatement, file: HoldingsFile, account: str, content: str
) -> HoldingsStatement:
    return HoldingsStatement(
        id=new_id("hst"),
        file_id=file.id,
        account=account,
        safekeeping_account=statement.safekeeping_account,
        statement_id=statement.statement_id,
        statement_date=statement.statement_date,
        basis=statement.basis.value if statement.basis else None,
        page=statement.page or 1,
        last_page=statement.last_page if statement.last_page is not None else True,
        line_count=len(statement.holdings),
        content_hash=content,
        received_at=file.received_at,
        received_by=file.received_by,
    )


async def _add(
    session: AsyncSession, row: HoldingsStatement, statement: ParsedHoldingsStatement
) -> None:
    lines = [
        HoldingsLine(
            holdings_statement_id=row.id,
            line_number=number,
            isin=holding.isin,
            quantity=holding.quantity,
            quantity_type=holding.quantity_type.value,
            available=holding.available,
        )
        for number, holding in enumerate(statement.holdings, start=1)
    ]
    try:
        await repository.add_statement(session, row, lines)
    except IntegrityError:
        # Another request stored the same statement between our check and our insert.
        raise HoldingsAlreadyReceived(
            f"{_described(statement)} was stored by a request at the same time; send the file "
            "again to see which; nothing was stored.",
        ) from None


# Reading what was stored -------------------------------------------------------------------


async def list_statements(
    session: AsyncSession,
    *,
    page: PageRequest,
    account: str | None,
    statement_date: date | None,
) -> tuple[Sequence[HoldingsStatement], str | None]:
    return await repository.page_of(
        session, page=page, account=account, statement_date=statement_date
    )


async def get_statement(
    session: AsyncSession, *, statement_id: str
) -> tuple[HoldingsStatement, list[HoldingsLine]]:
    row = await repository.get(session, statement_id)
    if row is None:
        raise NotFound(f"No holdings statement '{statement_id}'.")
    return row, await repository.lines_of(session, [row.id])


# For the reconciliation runs ---------------------------------------------------------------


async def holdings_for(
    session: AsyncSession, *, account: str, day: date
) -> HoldingsSnapshot | None:
    """What the custodian said ``account`` (our code) held on ``day``, or None when nothing
    was received: of each page number, the page received last, up to the first that says it
    is the last page (pages after it are left from an older, longer statement). It is
    ``complete`` when those pages run from 1 to a last page without a gap."""
    latest: dict[int, HoldingsStatement] = {}
    for row in await repository.statements_on(session, account=account, statement_date=day):
        latest[row.page] = row  # received later: replaces an earlier page of that number
    if not latest:
        return None
    pages: list[HoldingsStatement] = []
    for number in sorted(latest):
        pages.append(latest[number])
        if latest[number].last_page:
            break
    numbers = [row.page for row in pages]
    complete = numbers == list(range(1, len(pages) + 1)) and pages[-1].last_page
    lines = await repository.lines_of(session, [row.id for row in pages])
    return HoldingsSnapshot(
        account=account,
        statement_date=day,
        statement_ids=tuple(row.id for row in pages),
        basis=StatementBasis(pages[0].basis) if pages[0].basis else None,
        complete=complete,
        lines=tuple(
            HoldingLine(
                isin=line.isin,
                quantity=line.quantity,
                quantity_type=QuantityType(line.quantity_type),
                available=line.available,
            )
            for line in lines
        ),
    )
