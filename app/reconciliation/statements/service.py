"""Bank statements: a file received is read whole and stored in one transaction, or refused
whole; each statement's integrity is checked against itself and the account's previous one and
stored with it. For the rest of reconciliation: ``booked_entries`` and ``closing_balance``.

Receiving a file, in order:
1. the format: ``?format=``, else the Content-Type, else the first bytes;
2. CSV: the named mapping (``/statement-mappings``), 422 without one or with an unknown one;
3. every statement parsed (422 naming the line or element: nothing stored, not even the file);
4. each statement's account matched to one of our cash accounts (422 naming it otherwise);
5. the same (account, kind, statement id, sequence) received before: 409, naming the stored
   statement when the content is the same, with both content hashes when it is not;
6. the raw file stored, then each statement in continuity order (sequence and page, else day),
   each checked against the one before it (``integrity.check``) and stored with its breaks;
   one audit record for the file and one per statement.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record_changes
from app.core.auth import Actor
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.core.snapshots import row_snapshot
from app.reconciliation.mappings import service as mappings
from app.reconciliation.mappings.service import NamedMapping
from app.reconciliation.statements import repository
from app.reconciliation.statements.identity import content_hash, sequence_key, statement_date
from app.reconciliation.statements.integrity import Previous, check, sequence_of
from app.reconciliation.statements.limits import check_storable
from app.reconciliation.statements.models import BankStatement, StatementEntry, StatementFile
from app.reconciliation.statements.our_account import NotOurAccount, match_account
from app.reconciliation.statements.parsing.detect import StatementFormat, detect_format
from app.reconciliation.statements.parsing.model import ParsedStatement, StatementParseError
from app.reconciliation.statements.parsing.parse import parse_statements
from app.reconciliation.statements.rows import entry_rows, statement_row
from app.reconciliation.statements.values import ClosingBalance, StatementLine
from app.reference.accounts import service as accounts
from app.reference.values import AccountRef

FILE_ENTITY = "statement_file"
STATEMENT_ENTITY = "bank_statement"


class StatementUnreadable(ValidationFailed):
    slug = "statement-unreadable"
    title = "The statement file cannot be read"


class StatementAlreadyReceived(Conflict):
    slug = "statement-already-received"
    title = "This statement was received before"


@dataclass(frozen=True)
class Received:
    """What a file's statements are read as: each with our account, in the file's order."""

    statements: Sequence[ParsedStatement]
    accounts: Sequence[AccountRef]
    statement_format: StatementFormat
    mapping: NamedMapping | None


# Receiving -------------------------------------------------------------------------------------


async def receive_file(
    session: AsyncSession,
    *,
    data: bytes,
    given_format: StatementFormat | None,
    content_type: str | None,
    mapping_name: str | None,
    actor: Actor,
    now: datetime,
) -> list[BankStatement]:
    """Every statement of the file stored (in the file's order), or nothing: see the module."""
    received = await _read(session, data, given_format, content_type, mapping_name)
    await repository.lock_accounts(session, [account.code for account in received.accounts])
    await _refuse_repeats(session, received)
    file = _file_row(data, received, content_type, actor=actor, now=now)
    await repository.add_file(session, file)
    stored: dict[int, BankStatement] = {}
    for index in _continuity_order(received.statements):
        stored[index] = await _store(
            session, file, received.statements[index], received.accounts[index], now=now
        )
    rows = [stored[index] for index in range(len(stored))]
    changes = [Change(FILE_ENTITY, file.id, "received", None, _file_snapshot(file))]
    changes += [
        Change(STATEMENT_ENTITY, row.id, "received", None, row_snapshot(row)) for row in rows
    ]
    await record_changes(session, changes, actor=actor, now=now)
    return rows


async def _read(
    session: AsyncSession,
    data: bytes,
    given_format: StatementFormat | None,
    content_type: str | None,
    mapping_name: str | None,
) -> Received:
    statement_format = given_format or detect_format(data, content_type=content_type)
    if statement_format is None:
        problem = "the Content-Type and the content do not tell; pass ?format="
        raise ValidationFailed(
            f"The statement file's format is unknown: {problem}.",
            errors=[FieldProblem("format", problem)],
        )
    mapping = None
    if statement_format is StatementFormat.CSV:
        mapping = await _mapping(session, mapping_name)
    try:
        statements = parse_statements(
            data,
            statement_format=statement_format,
            mapping=mapping.mapping if mapping is not None else None,
        )
        check_storable(statements)
    except StatementParseError as error:
        raise StatementUnreadable(
            f"{error.location}: {error.message}. Nothing was stored.",
            errors=[FieldProblem(error.location, error.message)],
            location=error.location,
        ) from None
    ours = await _our_accounts(session, statements)
    return Received(statements, ours, statement_format, mapping)


async def _mapping(session: AsyncSession, name: str | None) -> NamedMapping:
    if name is None:
        problem = "a CSV statement needs ?mapping=<name> (see /statement-mappings)"
    else:
        mapping = await mappings.find_mapping(session, name=name)
        if mapping is not None:
            return mapping
        problem = f"there is no statement mapping '{name}'"
    raise ValidationFailed(
        f"{problem[0].upper()}{problem[1:]}; nothing was stored.",
        errors=[FieldProblem("mapping", problem)],
    )


async def _our_accounts(
    session: AsyncSession, statements: Sequence[ParsedStatement]
) -> list[AccountRef]:
    ours = list((await accounts.every_account(session)).values())
    matched: list[AccountRef] = []
    for number, statement in enumerate(statements, start=1):
        try:
            matched.append(match_account(statement.account, statement.currency, ours))
        except NotOurAccount as error:
            raise ValidationFailed(
                f"Statement {number} ({statement.statement_id}): {error}; nothing of the file "
                "was stored.",
                errors=[FieldProblem("account", str(error))],
                account=statement.account,
            ) from None
    return matched


async def _refuse_repeats(session: AsyncSession, received: Received) -> None:
    """409 for a statement received before; 422 for one the file holds twice."""
    seen: set[tuple[str, str, str, str]] = set()
    for statement, account in zip(received.statements, received.accounts, strict=True):
        key = (account.code, statement.kind.value, statement.statement_id, sequence_key(statement))
        if key in seen:
            raise ValidationFailed(
                f"The file holds statement {statement.statement_id} of {account.code} "
                f"({key[3]}) twice; nothing was stored.",
                errors=[FieldProblem("statement_id", f"'{statement.statement_id}' is repeated")],
            )
        seen.add(key)
        stored = await repository.by_identity(
            session,
            account=key[0],
            kind=key[1],
            statement_id=key[2],
            sequence_key=key[3],
        )
        if stored is not None:
            raise _already_received(stored, statement)


def _already_received(stored: BankStatement, statement: ParsedStatement) -> Conflict:
    received_hash = content_hash(statement)
    which = f"statement {stored.statement_id} of {stored.account} ({stored.sequence_key})"
    if received_hash == stored.content_hash:
        return StatementAlreadyReceived(
            f"The {which} was received before as {stored.id}, with the same content; the whole "
            "file was refused.",
            id=stored.id,
            content_hash=stored.content_hash,
        )
    return StatementAlreadyReceived(
        f"The {which} was received before as {stored.id} with other content (stored "
        f"{stored.content_hash}, received {received_hash}); the whole file was refused.",
        id=stored.id,
        stored_content_hash=stored.content_hash,
        received_content_hash=received_hash,
    )


def _continuity_order(statements: Sequence[ParsedStatement]) -> list[int]:
    """The file's statements in the order they follow on: by sequence and page, else by day
    (a file listing them newest first is checked oldest first)."""

    def key(index: int) -> tuple[bool, int, int, date]:
        statement = statements[index]
        sequence = sequence_of(statement)
        day = statement_date(statement) or date.min
        return (sequence is None, sequence or 0, statement.page or 0, day)

    return sorted(range(len(statements)), key=key)


def _file_row(
    data: bytes, received: Received, content_type: str | None, *, actor: Actor, now: datetime
) -> StatementFile:
    mapping = received.mapping
    return StatementFile(
        id=new_id("stf"),
        content=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        format=received.statement_format.value,
        content_type=content_type[:255] if content_type else None,
        mapping=mapping.name if mapping is not None else None,
        mapping_version=mapping.version if mapping is not None else None,
        statements=len(received.statements),
        received_at=now,
        received_by=actor.key_id,
    )


def _file_snapshot(file: StatementFile) -> dict[str, object]:
    return row_snapshot(file, exclude=frozenset({"content"}))  # the bytes are the row's own


async def _store(
    session: AsyncSession,
    file: StatementFile,
    statement: ParsedStatement,
    account: AccountRef,
    *,
    now: datetime,
) -> BankStatement:
    previous = await _previous(session, account.code, statement)
    breaks = check(statement, previous)
    row = statement_row(
        statement,
        file=file,
        account=account.code,
        content=content_hash(statement),
        breaks=breaks,
        now=now,
    )
    await repository.add_statement(session, row, entry_rows(row, statement))
    return row


async def _previous(
    session: AsyncSession, account: str, statement: ParsedStatement
) -> Previous | None:
    """The account's stored statement of the same kind just before this one: the highest
    sequence (and page) not after it when it has a sequence, else (or when none of those
    is stored: the account's earlier statements came without) the latest by day."""
    sequence = sequence_of(statement)
    kind = statement.kind.value
    row = None
    if sequence is not None:
        row = await repository.previous_by_sequence(
            session, account=account, kind=kind, sequence=sequence, page=statement.page
        )
    if row is None:
        row = await repository.previous_by_date(
            session, account=account, kind=kind, day=statement_date(statement)
        )
    if row is None:
        return None
    return Previous(
        statement_id=row.statement_id,
        currency=row.currency,
        closing=row.closing_booked_amount,
        sequence=row.sequence,
        page=row.page,
    )


# Reading ---------------------------------------------------------------------------------------


async def get_statement(
    session: AsyncSession, *, statement_id: str
) -> tuple[BankStatement, Sequence[StatementEntry]]:
    row = await repository.get(session, statement_id)
    if row is None:
        raise NotFound(f"No bank statement '{statement_id}'.")
    return row, await repository.entries_of(session, statement_id)


async def list_statements(
    session: AsyncSession,
    *,
    page: PageRequest,
    account: str | None = None,
    kind: str | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    integrity: str | None = None,
) -> tuple[Sequence[BankStatement], str | None]:
    return await repository.page_of(
        session,
        page=page,
        account=account,
        kind=kind,
        from_date=from_date,
        to_date=to_date,
        integrity=integrity,
    )


# For the rest of reconciliation -----------------------------------------------------------------


async def booked_entries(session: AsyncSession, account: str, day: date) -> list[StatementLine]:
    """The booked entries the bank reported on our cash account ``account`` for ``day``: those
    with value date ``day``, and those with booking date ``day`` and no value date. Only
    end-of-day statements count (camt.053, MT940, MT950, CSV, JSON ``statement``): an intraday
    report or a notification shows entries the day's statement shows again. Frozen values in
    the order received (statement, then line); an empty list when nothing was reported."""
    return await repository.booked_lines(session, account=account, day=day)


async def closing_balance(session: AsyncSession, account: str, day: date) -> ClosingBalance | None:
    """The closing booked balance of the account's end-of-day statement for ``day`` (its
    closing balance dated ``day``; of several, the latest by sequence, then received), or None
    when no statement of that day has one."""
    return await repository.closing_on(session, account=account, day=day)


async def entries_by_ids(session: AsyncSession, ids: Sequence[str]) -> list[StatementLine]:
    """The stored entries with these ids, in id order (unknown ids left out): what a manual
    match is given."""
    return await repository.lines_by_ids(session, ids)


async def accounts_with_statement(session: AsyncSession, *, day: date) -> list[str]:
    """The accounts whose end-of-day statement for ``day`` was received, in code order: what
    the end-of-day cycle reconciles."""
    return await repository.accounts_with_statement_on(session, day=day)
