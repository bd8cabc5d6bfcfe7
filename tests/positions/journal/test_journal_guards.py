"""What keeps the journal right: the service's zero-sum check (every database), PostgreSQL's own
triggers (append-only rows, a deferred zero-sum check at COMMIT), reversals once only, pending
entries posted or voided once, settlement input checks, as-of answers that never move, and the
ledger check catching a tampered balance. Every amount is hand arithmetic.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Date, bindparam, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.auth import Actor, Role
from app.core.bulk import copies, insert_rows
from app.core.db import table_of
from app.core.errors import Conflict, InvalidTransition, ValidationFailed
from app.core.pagination import PageRequest
from app.core.types import ExactDecimal
from app.positions.balances import service as balances
from app.positions.balances.models import LedgerBalance, LedgerBalanceDay
from app.positions.balances.totals import Totals
from app.positions.bookings import service
from app.positions.bookings.lines import Direction, SettlementMovement, settlement_lines
from app.positions.journal import service as journal
from app.positions.journal.entries import EntryKind, Line, NewEntry
from app.positions.journal.models import JournalEntry, PendingEntry, Posting
from app.positions.journal.service import UnbalancedEntry
from app.positions.ledger_accounts.models import LedgerAccount
from app.positions.ledger_check.service import check_ledger
from tests.conftest import Database
from tests.factories import DEUTSCHE, GOLDMAN, JPM, TOTAL, trade_payload
from tests.positions.conftest import ledger_check, positions
from tests.support import Api, FrozenClock

ACTOR = Actor(key_id="key_ops", role=Role.OPERATIONS, name="Operations desk")
YESTERDAY = date(2026, 11, 24)
TODAY = date(2026, 11, 25)
TOMORROW = date(2026, 11, 26)
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
YESTERDAY_NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
# 23:30 UTC on the 25th is 00:30 on the 26th in Paris: a venue's day can begin before ours.
LATE_NOW = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)

CASH = "cash:CASH-USD"
EQUITY = "opening-equity"
SECURITIES = "securities:SEC-DTC"
PARTY = f"counterparty:{GOLDMAN}"


def funding(amount: str, *, value_date: date = TODAY, equity: str | None = None) -> NewEntry:
    """Cash in against opening equity (off by the difference when ``equity`` is given)."""
    return NewEntry(
        kind=EntryKind.ADJUSTMENT,
        value_date=value_date,
        description=f"Funding {amount}",
        lines=(
            Line(CASH, "USD", Decimal(amount)),
            Line(EQUITY, "USD", -Decimal(equity or amount)),
        ),
    )


async def post_one(session: AsyncSession, entry: NewEntry, *, now: datetime = NOW) -> str:
    [entry_id] = await journal.post(session, [entry], actor=ACTOR, now=now)
    return entry_id


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def cash_as_of(
    session: AsyncSession, day: date, *, known_at: datetime | None = None
) -> tuple[Decimal, Decimal] | None:
    """(settled, pending) of CASH-USD in USD at the end of ``day`` (as known at ``known_at``);
    None if it had no balance."""
    views, _ = await balances.cash_balances(
        session,
        as_of=day,
        page=PageRequest(),
        account="CASH-USD",
        currency="USD",
        known_at=known_at,
    )
    if not views:
        return None
    [view] = views
    return view.settled, view.pending


def postgres_only(db: Database) -> None:
    if db.backend != "postgres":
        pytest.skip("the journal's triggers exist on PostgreSQL only")


# (a) The service refuses an unbalanced entry, on every database --------------------------------


@pytest.mark.parametrize(
    ("entries", "detail", "imbalances"),
    [
        # 100.00 - 99.99 = 0.01 too much debit.
        (
            [funding("100.00", equity="99.99")],
            "The adjustment entry is off USD by 0.01.",
            {"USD": "0.01"},
        ),
        # A balanced entry in the same call is not written either: all or nothing.
        (
            [funding("50.00"), funding("100.00", equity="100.10")],
            "The adjustment entry is off USD by -0.10.",
            {"USD": "-0.10"},
        ),
        (
            [NewEntry(EntryKind.ADJUSTMENT, TODAY, "Nothing", ())],
            "The adjustment entry has no postings.",
            None,
        ),
    ],
    ids=["off-by-a-cent", "all-or-nothing", "no-postings"],
)
async def test_the_service_refuses_an_unbalanced_entry_and_writes_nothing(
    session: AsyncSession,
    entries: list[NewEntry],
    detail: str,
    imbalances: dict[str, str] | None,
) -> None:
    with pytest.raises(UnbalancedEntry) as caught:
        await journal.post(session, entries, actor=ACTOR, now=NOW)
    assert caught.value.status == 422
    assert caught.value.detail == detail
    assert caught.value.extensions == ({"imbalances": imbalances} if imbalances else {})
    await session.commit()
    assert await count(session, JournalEntry) == 0
    assert await count(session, Posting) == 0
    assert await count(session, LedgerBalance) == 0
    assert await count(session, LedgerAccount, LedgerAccount.code == CASH) == 0


# (b) PostgreSQL guards the journal itself ---------------------------------------------------------


async def committed_funding(db: Database, amount: str = "100.00") -> str:
    async with db.sessionmaker() as session:
        entry_id = await post_one(session, funding(amount))
        await session.commit()
    return entry_id


async def journal_rows(db: Database) -> list[tuple[Any, ...]]:
    async with db.sessionmaker() as session:
        entries = (await session.execute(select(JournalEntry.id, JournalEntry.description))).all()
        postings = (
            await session.execute(
                select(
                    Posting.entry_id, Posting.ledger_account, Posting.asset, Posting.amount
                ).order_by(Posting.id)
            )
        ).all()
    return [tuple(row) for row in [*entries, *postings]]


@pytest.mark.parametrize(
    ("statement", "operation", "table"),
    [
        (
            "UPDATE journal_entries SET description = 'rewritten' WHERE id = :id",
            "UPDATE",
            "journal_entries",
        ),
        ("DELETE FROM journal_entries WHERE id = :id", "DELETE", "journal_entries"),
        ("UPDATE postings SET amount = amount * 2 WHERE entry_id = :id", "UPDATE", "postings"),
        ("DELETE FROM postings WHERE entry_id = :id", "DELETE", "postings"),
    ],
)
async def test_journal_rows_cannot_be_updated_or_deleted_in_sql(
    db: Database, statement: str, operation: str, table: str
) -> None:
    postgres_only(db)
    entry_id = await committed_funding(db)
    before = await journal_rows(db)

    with pytest.raises(DBAPIError) as caught:
        async with db.engine.begin() as connection:
            await connection.execute(text(statement), {"id": entry_id})
    assert f"{operation} on {table} is not allowed: the table is append-only" in str(
        caught.value.orig
    )
    assert getattr(caught.value.orig, "sqlstate", None) == "42501"  # insufficient_privilege
    assert await journal_rows(db) == before


async def insert_raw_entry(
    connection: AsyncConnection, entry_id: str, postings: Sequence[tuple[str, str, str]]
) -> None:
    """An entry and its postings written past the service (no zero-sum check in Python)."""
    await connection.execute(
        insert(JournalEntry),
        [
            {
                "id": entry_id,
                "kind": "adjustment",
                "accounting_date": TODAY,
                "value_date": TODAY,
                "description": "Written in raw SQL",
                "created_at": NOW,
                "created_by": "raw-sql",
            }
        ],
    )
    if postings:
        await connection.execute(insert(Posting), raw_postings(entry_id, postings))


def raw_postings(entry_id: str, postings: Sequence[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [
        {"entry_id": entry_id, "ledger_account": account, "asset": asset, "amount": Decimal(amount)}
        for account, asset, amount in postings
    ]


@pytest.mark.parametrize(
    ("postings", "message"),
    [
        # suspense 100.00 against equity -99.99: off by +0.01 in USD.
        (
            [("suspense", "USD", "100.00"), (EQUITY, "USD", "-99.99")],
            "journal entry je_raw does not sum to zero in USD (off by 0.01)",
        ),
        # Balanced in USD, off by 5.00 in EUR.
        (
            [
                ("suspense", "USD", "100.00"),
                (EQUITY, "USD", "-100.00"),
                ("suspense", "EUR", "5.00"),
            ],
            "journal entry je_raw does not sum to zero in EUR (off by 5.00)",
        ),
        ([], "journal entry je_raw has no postings"),
    ],
    ids=["off-in-usd", "off-in-eur-only", "no-postings"],
)
async def test_an_unbalanced_entry_written_in_sql_fails_at_commit(
    db: Database, postings: list[tuple[str, str, str]], message: str
) -> None:
    postgres_only(db)
    async with db.engine.connect() as connection:
        transaction = await connection.begin()
        # The inserts themselves go through: the check is deferred to COMMIT.
        await insert_raw_entry(connection, "je_raw", postings)
        with pytest.raises(DBAPIError) as caught:
            await transaction.commit()
    assert message in str(caught.value.orig)
    assert getattr(caught.value.orig, "sqlstate", None) == "23514"  # check_violation
    assert await journal_rows(db) == []


def late_postings(entry_id: str, amounts: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {"entry_id": entry_id, "ledger_account": "suspense", "asset": "USD", "amount": Decimal(a)}
        for a in amounts
    ]


@pytest.mark.parametrize("amounts", [["0.01"], ["0.01", "-0.01"]], ids=["unbalanced", "balanced"])
async def test_a_posting_appended_to_a_committed_entry_in_sql_is_refused(
    db: Database, amounts: list[str]
) -> None:
    postgres_only(db)
    entry_id = await committed_funding(db)
    before = await journal_rows(db)
    async with db.engine.connect() as connection:
        transaction = await connection.begin()
        # Refused by the INSERT itself, even when the postings would keep the entry balanced.
        with pytest.raises(DBAPIError) as caught:
            await connection.execute(insert(Posting), late_postings(entry_id, amounts))
        await transaction.rollback()
    assert (
        f"journal entry {entry_id} was committed by an earlier transaction: "
        "it takes no more postings"
    ) in str(caught.value.orig)
    assert getattr(caught.value.orig, "sqlstate", None) == "23514"  # check_violation
    assert await journal_rows(db) == before


async def test_a_copy_with_one_posting_for_a_committed_entry_is_refused(db: Database) -> None:
    postgres_only(db)
    old_id = await committed_funding(db)
    before = await journal_rows(db)
    # One COPY (64 rows and more): 63 postings of a new, balanced entry (62 x 1.00 - 62.00)
    # and one for the committed entry.
    rows = [*late_postings("je_new", ["1.00"] * 62 + ["-62.00"]), *late_postings(old_id, ["0"])]
    async with db.sessionmaker() as session:
        assert copies(session.sync_session, len(rows))
        await insert_raw_entry(await session.connection(), "je_new", [])
        with pytest.raises(DBAPIError) as caught:
            await insert_rows(session, table_of(Posting), rows)
    assert f"journal entry {old_id} was committed by an earlier transaction" in str(
        caught.value.orig
    )
    assert await journal_rows(db) == before


@pytest.mark.parametrize(
    ("posting", "message"),
    [
        (("je_nowhere", "suspense"), "posting of journal entry je_nowhere, which does not exist"),
        (("je_raw", "counterparty:NOBODY"), "counterparty:NOBODY, which does not exist"),
    ],
    ids=["no-such-entry", "no-such-ledger-account"],
)
@pytest.mark.parametrize("rows", [1, 64], ids=["insert", "copy"])
async def test_a_posting_without_its_entry_or_ledger_account_is_refused(
    db: Database, posting: tuple[str, str], message: str, rows: int
) -> None:
    """What the foreign keys refused, the database refuses still (once per statement on
    PostgreSQL, per row on SQLite), by INSERT and by COPY alike."""
    entry_id, account = posting
    good = [("suspense", "USD", "1.00")] * (rows - 1)
    async with db.sessionmaker() as session:
        await insert_raw_entry(await session.connection(), "je_raw", [])
        with pytest.raises(IntegrityError) as caught:
            await insert_rows(
                session,
                table_of(Posting),
                [*raw_postings("je_raw", good), *raw_postings(entry_id, [(account, "USD", "0")])],
            )
    if db.backend == "postgres":
        assert message in str(caught.value.orig)
        assert getattr(caught.value.orig, "sqlstate", None) == "23503"  # foreign_key_violation
    else:
        assert "FOREIGN KEY constraint failed" in str(caught.value.orig)
    assert await journal_rows(db) == []


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM ledger_accounts WHERE code = 'suspense'",
        "UPDATE ledger_accounts SET code = 'suspended' WHERE code = 'suspense'",
    ],
    ids=["delete", "rename"],
)
async def test_a_ledger_account_with_postings_is_neither_deleted_nor_renamed(
    db: Database, statement: str
) -> None:
    postgres_only(db)
    async with db.engine.begin() as connection:
        lines = [("suspense", "USD", "100.00"), (EQUITY, "USD", "-100.00")]
        await insert_raw_entry(connection, "je_raw", lines)
    with pytest.raises(IntegrityError) as caught:
        async with db.engine.begin() as connection:
            await connection.execute(text(statement))
    assert "ledger account suspense has postings: it is neither deleted nor renamed" in str(
        caught.value.orig
    )
    async with db.engine.connect() as connection:
        kept = await connection.scalar(select(func.count()).where(LedgerAccount.code == "suspense"))
    assert kept == 1


@pytest.mark.parametrize("savepoint_around", ["entry", "postings"])
async def test_an_entry_and_its_postings_on_either_side_of_a_savepoint_commit(
    db: Database, savepoint_around: str
) -> None:
    postgres_only(db)
    lines = [("suspense", "USD", "100.00"), (EQUITY, "USD", "-100.00")]
    async with db.engine.begin() as connection:
        if savepoint_around == "entry":  # the entry's xmin is a subtransaction's
            async with connection.begin_nested():
                await insert_raw_entry(connection, "je_raw", [])
            await connection.execute(insert(Posting), raw_postings("je_raw", lines))
        else:
            await insert_raw_entry(connection, "je_raw", [])
            async with connection.begin_nested():
                await connection.execute(insert(Posting), raw_postings("je_raw", lines))
    assert await journal_rows(db) == [
        ("je_raw", "Written in raw SQL"),
        ("je_raw", "suspense", "USD", Decimal("100.00")),
        ("je_raw", EQUITY, "USD", Decimal("-100.00")),
    ]


async def test_each_entry_of_a_transaction_is_checked_at_commit(db: Database) -> None:
    postgres_only(db)
    async with db.engine.connect() as connection:
        transaction = await connection.begin()
        await insert_raw_entry(connection, "je_ok", [("suspense", "USD", "1.00")])
        await insert_raw_entry(connection, "je_off", [(EQUITY, "USD", "-1.00")])
        # je_ok's balancing posting, one statement with the others: je_ok balances, je_off not.
        await connection.execute(
            insert(Posting),
            raw_postings("je_ok", [(EQUITY, "USD", "-1.00")])
            + raw_postings("je_off", [(EQUITY, "USD", "-2.00")]),
        )
        with pytest.raises(DBAPIError) as caught:
            await transaction.commit()
    assert "journal entry je_off does not sum to zero in USD (off by -3.00)" in str(
        caught.value.orig
    )
    assert getattr(caught.value.orig, "sqlstate", None) == "23514"
    assert await journal_rows(db) == []


async def test_a_balanced_entry_written_in_sql_commits(db: Database) -> None:
    postgres_only(db)
    async with db.engine.begin() as connection:
        await insert_raw_entry(
            connection,
            "je_raw",
            [
                ("suspense", "USD", "100.00"),
                (EQUITY, "USD", "-100.00"),
                ("suspense", "EUR", "5.00"),
                (EQUITY, "EUR", "-5.00"),
            ],
        )
    rows = await journal_rows(db)
    assert rows == [
        ("je_raw", "Written in raw SQL"),
        ("je_raw", "suspense", "USD", Decimal("100.00")),
        ("je_raw", EQUITY, "USD", Decimal("-100.00")),
        ("je_raw", "suspense", "EUR", Decimal("5.00")),
        ("je_raw", EQUITY, "EUR", Decimal("-5.00")),
    ]


# (c) An entry is reversed once only -------------------------------------------------------------


async def test_an_entry_is_reversed_once_only(session: AsyncSession) -> None:
    entry_id = await post_one(session, funding("100.00"))
    original = await journal.get_entry(session, entry_id)
    reversal = await journal.reversal_of(session, original, description="Entered in error")
    assert reversal.kind is EntryKind.REVERSAL
    assert reversal.reverses_id == entry_id
    assert reversal.not_before == TODAY
    assert reversal.lines == (
        Line(CASH, "USD", Decimal("-100.00")),
        Line(EQUITY, "USD", Decimal("100.00")),
    )
    reversal_id = await post_one(session, reversal)
    await session.commit()

    with pytest.raises(Conflict) as caught:
        await journal.reversal_of(session, original, description="Entered in error, again")
    assert caught.value.status == 409
    assert caught.value.detail == f"Entry {entry_id} was already reversed by {reversal_id}."
    assert caught.value.extensions == {"reversed_by": reversal_id}
    assert await cash_as_of(session, TODAY) == (Decimal("0.00"), Decimal("0"))


async def test_a_reversal_cannot_be_reversed(session: AsyncSession) -> None:
    entry_id = await post_one(session, funding("100.00"))
    reversal = await journal.reversal_of(
        session, await journal.get_entry(session, entry_id), description="Entered in error"
    )
    reversal_id = await post_one(session, reversal)
    await session.commit()

    with pytest.raises(Conflict) as caught:
        await journal.reversal_of(
            session, await journal.get_entry(session, reversal_id), description="Undo the undo"
        )
    assert caught.value.status == 409
    assert caught.value.detail == (
        f"Entry {reversal_id} is itself a reversal; post a new entry instead."
    )


async def test_the_database_refuses_a_second_reversal_written_in_sql(
    db: Database, session: AsyncSession
) -> None:
    entry_id = await post_one(session, funding("100.00"))
    reversal = await journal.reversal_of(
        session, await journal.get_entry(session, entry_id), description="Entered in error"
    )
    await post_one(session, reversal)
    await session.commit()

    with pytest.raises(IntegrityError):
        async with db.engine.begin() as connection:
            await connection.execute(
                insert(JournalEntry),
                [
                    {
                        "id": "je_second_reversal",
                        "kind": "reversal",
                        "accounting_date": TODAY,
                        "value_date": TODAY,
                        "description": "A second reversal",
                        "reverses_id": entry_id,
                        "created_at": NOW,
                        "created_by": "raw-sql",
                    }
                ],
            )
    assert await count(session, JournalEntry, JournalEntry.reverses_id == entry_id) == 1


async def test_the_database_refuses_a_second_reversal_checked_before_the_first_was_posted(
    session: AsyncSession,
) -> None:
    # Two requests both pass reversal_of's check before either posts: the unique constraint on
    # reverses_id keeps the second out.
    entry_id = await post_one(session, funding("100.00"))
    await session.commit()
    original = await journal.get_entry(session, entry_id)
    first = await journal.reversal_of(session, original, description="Desk A")
    second = await journal.reversal_of(session, original, description="Desk B")
    await post_one(session, first)
    await session.commit()

    with pytest.raises(IntegrityError):
        await post_one(session, second)
    await session.rollback()
    assert await count(session, JournalEntry, JournalEntry.reverses_id == entry_id) == 1
    # 100.00 in, 100.00 back out once.
    assert await cash_as_of(session, TODAY) == (Decimal("0.00"), Decimal("0"))


# (d) Pending entries are posted or voided once --------------------------------------------------


def jpm_receipt(
    *,
    quantity: str = "100",
    amount: str = "18926.52",
    direction: Direction = Direction.RECEIVE,
    settlement_date: date = TODAY,
) -> SettlementMovement:
    # 100 JPM against 18926.52 USD (18925.00 gross + 1.50 commission + 0.02 fees).
    return SettlementMovement(
        reference="ins_1",
        counterparty=GOLDMAN,
        direction=direction,
        isin=JPM,
        quantity=Decimal(quantity),
        currency="USD",
        amount=Decimal(amount),
        securities_account="SEC-DTC",
        cash_account="CASH-USD",
        settlement_date=settlement_date,
    )


async def settle(
    session: AsyncSession, movement: SettlementMovement, pending_id: str | None = None
) -> service.SettlementPosted:
    return await service.post_settlement(
        session, movement=movement, actor=ACTOR, now=NOW, pending_id=pending_id
    )


async def void(session: AsyncSession, pending_id: str) -> None:
    await service.void_pending(
        session, pending_id=pending_id, reason="Instruction cancelled", actor=ACTOR, now=NOW
    )


@pytest.mark.parametrize(
    ("first", "then", "detail"),
    [
        ("post", "post", "'posted' is not allowed when the status is 'posted'"),
        ("void", "post", "'posted' is not allowed when the status is 'voided'"),
        ("post", "void", "'voided' is not allowed when the status is 'posted'"),
        ("void", "void", "'voided' is not allowed when the status is 'voided'"),
    ],
)
async def test_a_pending_entry_is_resolved_once_only(
    session: AsyncSession, first: str, then: str, detail: str
) -> None:
    pending_id = await service.expect_settlement(
        session, movement=jpm_receipt(), actor=ACTOR, now=NOW
    )
    await (
        settle(session, jpm_receipt(), pending_id) if first == "post" else void(session, pending_id)
    )
    await session.commit()
    posted_entries = await count(session, JournalEntry)

    with pytest.raises(InvalidTransition) as caught:
        await (
            settle(session, jpm_receipt(), pending_id)
            if then == "post"
            else void(session, pending_id)
        )
    assert caught.value.status == 409
    assert caught.value.detail == detail
    await session.rollback()
    assert await count(session, JournalEntry) == posted_entries
    report = await check_ledger(session)
    assert report.ok, report.problems


async def test_a_partial_settlement_leaves_the_exact_remainder_pending(
    session: AsyncSession,
) -> None:
    pending_id = await service.expect_settlement(
        session, movement=jpm_receipt(), actor=ACTOR, now=NOW
    )
    assert await cash_as_of(session, TODAY) == (Decimal("0"), Decimal("-18926.52"))

    # 40 of 100 against 7570.61: left 100 - 40 = 60 against 18926.52 - 7570.61 = 11355.91.
    partial = jpm_receipt(quantity="40", amount="7570.61")
    posted = await settle(session, partial, pending_id)
    assert posted.remainder_pending_id is not None
    remainder_id = posted.remainder_pending_id
    assert await journal.pending_lines(session, remainder_id) == [
        Line(SECURITIES, JPM, Decimal("60")),
        Line(PARTY, JPM, Decimal("-60")),
        Line(CASH, "USD", Decimal("-11355.91")),
        Line(PARTY, "USD", Decimal("11355.91")),
    ]
    assert await journal.entry_lines(session, posted.entry_id) == list(settlement_lines(partial))
    await session.commit()
    original = await session.get(PendingEntry, pending_id)
    remainder = await session.get(PendingEntry, remainder_id)
    assert original is not None
    assert remainder is not None
    assert (original.status, original.remainder_id) == ("posted", remainder_id)
    assert (remainder.status, remainder.expected_date) == ("open", TODAY)
    # Settled -7570.61, still expected -11355.91: projected -18926.52 as before.
    assert await cash_as_of(session, TODAY) == (Decimal("-7570.61"), Decimal("-11355.91"))

    rest = await settle(session, jpm_receipt(quantity="60", amount="11355.91"), remainder_id)
    assert rest.remainder_pending_id is None
    await session.commit()
    assert await cash_as_of(session, TODAY) == (Decimal("-18926.52"), Decimal("0.00"))
    report = await check_ledger(session)
    assert report.ok, report.problems


@pytest.mark.parametrize(
    ("movement", "detail"),
    [
        (
            jpm_receipt(quantity="150"),
            f"Settlement of ins_1 does not fit what was expected: 150 {JPM} on {SECURITIES}.",
        ),
        (
            jpm_receipt(amount="18926.53"),
            "Settlement of ins_1 does not fit what was expected: -18926.53 USD on cash:CASH-USD.",
        ),
        (
            jpm_receipt(direction=Direction.DELIVER),
            f"Settlement of ins_1 does not fit what was expected: -100 {JPM} on {SECURITIES}.",
        ),
    ],
    ids=["more-securities", "more-cash", "wrong-direction"],
)
async def test_settling_more_than_expected_is_refused_and_the_pending_stays_open(
    session: AsyncSession, movement: SettlementMovement, detail: str
) -> None:
    pending_id = await service.expect_settlement(
        session, movement=jpm_receipt(), actor=ACTOR, now=NOW
    )
    await session.commit()

    with pytest.raises(Conflict) as caught:
        await settle(session, movement, pending_id)
    assert caught.value.status == 409
    assert caught.value.detail == detail
    await session.rollback()
    assert await count(session, JournalEntry) == 0
    # Still open: the expected settlement posts in full.
    posted = await settle(session, jpm_receipt(), pending_id)
    assert posted.remainder_pending_id is None
    await session.commit()
    assert await cash_as_of(session, TODAY) == (Decimal("-18926.52"), Decimal("0.00"))


# (e) Settlement input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("movement", "problem"),
    [
        (jpm_receipt(settlement_date=TOMORROW), "settlement date 2026-11-26 has not come yet"),
        (
            jpm_receipt(quantity="-100"),
            "quantity and amount are never negative; the direction gives the sign",
        ),
        (
            jpm_receipt(amount="-18926.52"),
            "quantity and amount are never negative; the direction gives the sign",
        ),
        (
            jpm_receipt(quantity="0", amount="0.00"),
            "nothing moves: quantity and amount are both zero",
        ),
    ],
    ids=["settles-tomorrow", "negative-quantity", "negative-amount", "nothing-moves"],
)
async def test_a_settlement_that_cannot_be_is_refused(
    session: AsyncSession, movement: SettlementMovement, problem: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await settle(session, movement)
    assert caught.value.status == 422
    assert caught.value.detail == f"Settlement of ins_1: {problem}."
    await session.commit()
    assert await count(session, JournalEntry) == 0
    assert await count(session, LedgerBalance) == 0


# (f) As-of answers -------------------------------------------------------------------------------


async def test_an_entry_posted_today_for_yesterday_changes_yesterdays_view_not_what_was_known(
    session: AsyncSession,
) -> None:
    await post_one(session, funding("100.00", value_date=YESTERDAY), now=YESTERDAY_NOW)
    await session.commit()
    assert await cash_as_of(session, YESTERDAY) == (Decimal("100.00"), Decimal("0"))

    # Booked today with yesterday's value date: it counts from yesterday, and first showed at
    # today's close.
    late_id = await post_one(session, funding("40.00", value_date=YESTERDAY), now=NOW)
    await session.commit()
    late = await journal.get_entry(session, late_id)
    assert (late.value_date, late.accounting_date) == (YESTERDAY, TODAY)
    assert await cash_as_of(session, date(2026, 11, 23)) is None
    # 100.00 + 40.00, yesterday and today; yesterday as known then: 100.00.
    assert await cash_as_of(session, YESTERDAY) == (Decimal("140.00"), Decimal("0"))
    assert await cash_as_of(session, TODAY) == (Decimal("140.00"), Decimal("0"))
    assert await cash_as_of(session, YESTERDAY, known_at=YESTERDAY_NOW) == (
        Decimal("100.00"),
        Decimal("0"),
    )


def moved(amount: str, against: str, *, value_date: date = TODAY) -> NewEntry:
    """Cash in against ``against`` (a fixed account)."""
    return NewEntry(
        kind=EntryKind.ADJUSTMENT,
        value_date=value_date,
        description=f"{amount} against {against}",
        lines=(Line(CASH, "USD", Decimal(amount)), Line(against, "USD", -Decimal(amount))),
    )


async def daily_rows(session: AsyncSession, account: str) -> list[tuple[date, Decimal]]:
    rows = await session.execute(
        select(LedgerBalanceDay.as_of_date, LedgerBalanceDay.posted)
        .join(LedgerBalance, LedgerBalance.id == LedgerBalanceDay.balance_id)
        .where(LedgerBalance.ledger_account == account, LedgerBalance.asset == "USD")
        .order_by(LedgerBalanceDay.as_of_date)
    )
    return [(day, posted) for day, posted in rows.all()]


async def test_an_entry_for_today_after_one_dated_tomorrow_keeps_every_daily_row_exact(
    session: AsyncSession,
) -> None:
    await post_one(session, funding("10.00", value_date=YESTERDAY), now=YESTERDAY_NOW)
    await session.commit()
    # At 23:30 UTC: an entry dated tomorrow (a venue already on the 26th), then two for today
    # on the same accounts: the first has no row of its own yet, the second finds it.
    await post_one(session, funding("100.00", value_date=TOMORROW), now=LATE_NOW)
    await session.commit()
    await post_one(session, funding("40.00", value_date=TODAY), now=LATE_NOW)
    await session.commit()
    await post_one(session, funding("5.00", value_date=TODAY), now=LATE_NOW)
    await session.commit()

    # 24th: 10.00; 25th: 10.00 + 40.00 + 5.00 = 55.00; 26th: 55.00 + 100.00 = 155.00.
    assert await cash_as_of(session, YESTERDAY) == (Decimal("10.00"), Decimal("0"))
    assert await cash_as_of(session, TODAY) == (Decimal("55.00"), Decimal("0"))
    assert await cash_as_of(session, TOMORROW) == (Decimal("155.00"), Decimal("0"))
    report = await check_ledger(session)
    assert report.ok, report.problems


async def test_a_backdated_change_moves_its_days_row_and_every_later_one(
    session: AsyncSession,
) -> None:
    # Each entry for today also touches an account with no later row, so the post gets past
    # the defect above and the backdating itself is what is tested.
    await post_one(session, moved("10.00", EQUITY, value_date=YESTERDAY), now=YESTERDAY_NOW)
    await session.commit()
    await post_one(session, moved("100.00", EQUITY, value_date=TOMORROW), now=LATE_NOW)
    await session.commit()
    # No row of the 25th yet: it starts from the 24th's 10.00.
    await post_one(session, moved("40.00", "suspense"), now=LATE_NOW)
    await session.commit()
    # The 25th's row exists now: it moves, with the 26th's.
    await post_one(session, moved("5.00", "write-offs"), now=LATE_NOW)
    await session.commit()

    # 24th: 10.00; 25th: 10.00 + 40.00 + 5.00 = 55.00; 26th: 55.00 + 100.00 = 155.00.
    assert await daily_rows(session, CASH) == [
        (YESTERDAY, Decimal("10.00")),
        (TODAY, Decimal("55.00")),
        (TOMORROW, Decimal("155.00")),
    ]
    assert await cash_as_of(session, YESTERDAY) == (Decimal("10.00"), Decimal("0"))
    assert await cash_as_of(session, TODAY) == (Decimal("55.00"), Decimal("0"))
    assert await cash_as_of(session, TOMORROW) == (Decimal("155.00"), Decimal("0"))
    assert await cash_as_of(session, date(2026, 11, 27)) == (Decimal("155.00"), Decimal("0"))
    # Equity: -10.00 on the 24th, -110.00 from the 26th; it has no row of the 25th.
    assert await daily_rows(session, EQUITY) == [
        (YESTERDAY, Decimal("-10.00")),
        (TOMORROW, Decimal("-110.00")),
    ]
    report = await check_ledger(session)
    assert report.ok, report.problems


async def test_backdated_days_of_one_post_build_on_each_other(session: AsyncSession) -> None:
    # The latest row is tomorrow's; then one post moves yesterday (no row on or before it) and
    # today (no row either: it starts from yesterday's, which the same post made).
    await post_one(session, moved("100.00", EQUITY, value_date=TOMORROW), now=LATE_NOW)
    await session.commit()
    entries = [moved("10.00", "suspense", value_date=YESTERDAY), moved("40.00", "write-offs")]
    await journal.post(session, entries, actor=ACTOR, now=LATE_NOW)
    await session.commit()

    # 24th: 10.00; 25th: 10.00 + 40.00 = 50.00; 26th: 50.00 + 100.00 = 150.00.
    assert await daily_rows(session, CASH) == [
        (YESTERDAY, Decimal("10.00")),
        (TODAY, Decimal("50.00")),
        (TOMORROW, Decimal("150.00")),
    ]
    assert await cash_as_of(session, TODAY) == (Decimal("50.00"), Decimal("0"))
    report = await check_ledger(session)
    assert report.ok, report.problems


async def test_one_post_moving_a_day_before_the_latest_and_the_latest_keeps_both_exact(
    session: AsyncSession,
) -> None:
    # The latest row is tomorrow's; one post then moves yesterday (backdated: tomorrow's row
    # moves with it) and tomorrow itself, on the same balance: the row of tomorrow is written
    # once, with both.
    await post_one(session, moved("100.00", EQUITY, value_date=TOMORROW), now=LATE_NOW)
    await session.commit()
    entries = [
        moved("10.00", "suspense", value_date=YESTERDAY),
        moved("1.00", "write-offs", value_date=TOMORROW),
    ]
    await journal.post(session, entries, actor=ACTOR, now=LATE_NOW)
    await session.commit()

    # 24th: 10.00; 26th: 10.00 + 100.00 + 1.00 = 111.00.
    assert await daily_rows(session, CASH) == [
        (YESTERDAY, Decimal("10.00")),
        (TOMORROW, Decimal("111.00")),
    ]
    assert await cash_as_of(session, TODAY) == (Decimal("10.00"), Decimal("0"))
    assert await cash_as_of(session, TOMORROW) == (Decimal("111.00"), Decimal("0"))
    report = await check_ledger(session)
    assert report.ok, report.problems


async def test_dates_back_and_forth_in_one_transaction_keep_every_daily_row_exact(
    session: AsyncSession,
) -> None:
    # One unit of work (a run's chunk, say) posting tomorrow, today, tomorrow, today, without a
    # commit in between; as above each entry for today also touches a fresh account.
    await post_one(session, moved("100.00", EQUITY, value_date=TOMORROW), now=LATE_NOW)
    await post_one(session, moved("40.00", "suspense"), now=LATE_NOW)
    await post_one(session, moved("1000.00", EQUITY, value_date=TOMORROW), now=LATE_NOW)
    await post_one(session, moved("5.00", "write-offs"), now=LATE_NOW)
    await session.commit()

    # 25th: 40.00 + 5.00 = 45.00; 26th: 45.00 + 100.00 + 1000.00 = 1145.00.
    assert await daily_rows(session, CASH) == [
        (TODAY, Decimal("45.00")),
        (TOMORROW, Decimal("1145.00")),
    ]
    assert await cash_as_of(session, TODAY) == (Decimal("45.00"), Decimal("0"))
    assert await cash_as_of(session, TOMORROW) == (Decimal("1145.00"), Decimal("0"))
    report = await check_ledger(session)
    assert report.ok, report.problems


async def book(api: Api, **overrides: str) -> None:
    response = await api.post("/trades", json=trade_payload(**overrides), role="trader")
    assert response.status_code == 201, response.text


def total_trade(
    side: str, quantity: str, price: str, *, dated: date, at: str, counterparty: str = GOLDMAN
) -> dict[str, str]:
    return {
        "isin": TOTAL,
        "currency": "EUR",
        "venue": "XPAR",
        "counterparty_lei": counterparty,
        "side": side,
        "quantity": quantity,
        "price": price,
        "trade_date": dated.isoformat(),
        "trade_time": at,
    }


async def total_position(api: Api, as_of: date) -> tuple[str, str, str, str] | None:
    found = await positions(api, book="EQ-FLOW", isin=TOTAL, as_of=as_of.isoformat())
    if not found:
        return None
    [position] = found
    return (
        position["quantity"],
        position["cost"],
        position["average_cost"],
        position["realized_pnl"],
    )


# 00:25 on the 26th in Paris, and 17:00 on the 25th.
PARIS_TOMORROW = "2026-11-25T23:25:00Z"
PARIS_TODAY = "2026-11-25T16:00:00Z"


@pytest.mark.parametrize(
    "late_counterparty",
    [
        GOLDMAN,
        # Another counterparty: its unsettled account has no later row, only the book's
        # position and the commission and fees are backdated.
        DEUTSCHE,
    ],
)
async def test_a_paris_trade_dated_tomorrow_then_one_for_today_are_exact_as_of_each_day(
    api: Api, reference: None, clock: FrozenClock, late_counterparty: str
) -> None:
    clock.set(LATE_NOW)
    # Buy 100 TOTAL @ 60.00 = 6000.00, dated the 26th at XPAR.
    await book(api, **total_trade("buy", "100", "60.00", dated=TOMORROW, at=PARIS_TOMORROW))
    # Then a trade of the 25th reported late: buy 50 @ 58.00 = 2900.00.
    await book(
        api,
        **total_trade(
            "buy", "50", "58.00", dated=TODAY, at=PARIS_TODAY, counterparty=late_counterparty
        ),
    )

    assert await total_position(api, YESTERDAY) is None
    # 25th: 50 at 2900.00, average 58.
    assert await total_position(api, TODAY) == ("50", "2900.00", "58.00000000", "0")
    # 26th: 150 at 2900.00 + 6000.00 = 8900.00, average 8900.00 / 150 = 59.33333333.
    assert await total_position(api, TOMORROW) == ("150", "8900.00", "59.33333333", "0")
    check = await ledger_check(api)
    assert check["ok"], check


async def test_a_sale_for_today_booked_after_a_purchase_dated_tomorrow_is_costed_as_of_today(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    clock.set(LATE_NOW)
    # Buy 100 TOTAL @ 60.00 = 6000.00 dated the 26th at XPAR.
    await book(api, **total_trade("buy", "100", "60.00", dated=TOMORROW, at=PARIS_TOMORROW))
    # Sell 50 @ 58.00 = 2900.00 dated the 25th, reported late (to Deutsche Bank, so the post
    # gets past the backdating defect).
    await book(
        api,
        **total_trade("sell", "50", "58.00", dated=TODAY, at=PARIS_TODAY, counterparty=DEUTSCHE),
    )

    # As of the 26th (both trades) the figures hold either way: the purchase closes the short
    # of 50, paying 6000.00 x 50 / 100 = 3000.00 for what was sold for 2900.00 (-100.00), and
    # leaves a long 50 at 3000.00, average 60.
    assert await total_position(api, TOMORROW) == ("50", "3000.00", "60.00000000", "-100.00")
    # As of the 25th only the sale exists: short 50 that received 2900.00, average 58, and
    # nothing realised (there is no long that day to close): the sale executed first, so the
    # purchase's cost was restated, not the sale costed against it.
    assert await total_position(api, TODAY) == ("-50", "-2900.00", "58.00000000", "0")
    check = await ledger_check(api)
    assert check["ok"], check


# (g) Running balances and the ledger check --------------------------------------------------------


async def test_lock_creates_missing_balance_rows_once(session: AsyncSession) -> None:
    keys = [(CASH, "USD"), (SECURITIES, JPM)]
    heads = await balances.lock(session, keys, now=NOW)
    assert set(heads) == set(keys)
    assert all((head.totals, head.last_date) == (Totals(), None) for head in heads.values())
    # Locking again in the same transaction hands back the same rows.
    assert await balances.lock(session, keys, now=NOW) == heads
    await session.commit()

    rows = (
        await session.execute(
            select(
                LedgerBalance.id,
                LedgerBalance.ledger_account,
                LedgerBalance.asset,
                LedgerBalance.posted,
                LedgerBalance.pending,
                LedgerBalance.cost,
                LedgerBalance.realized_pnl,
                LedgerBalance.last_date,
            ).order_by(LedgerBalance.ledger_account)
        )
    ).all()
    zero = Decimal(0)
    assert [tuple(row) for row in rows] == [
        (heads[(CASH, "USD")].id, CASH, "USD", zero, zero, zero, zero, None),
        (heads[(SECURITIES, JPM)].id, SECURITIES, JPM, zero, zero, zero, zero, None),
    ]
    accounts = (
        await session.execute(
            select(LedgerAccount.code, LedgerAccount.kind, LedgerAccount.reference)
            .where(LedgerAccount.code.in_([CASH, SECURITIES]))
            .order_by(LedgerAccount.code)
        )
    ).all()
    assert [tuple(row) for row in accounts] == [
        (CASH, "cash", "CASH-USD"),
        (SECURITIES, "securities", "SEC-DTC"),
    ]

    # A later transaction finds the existing rows and creates only the missing one.
    again = await balances.lock(session, [*keys, (CASH, "EUR")], now=NOW)
    assert again[(CASH, "USD")].id == heads[(CASH, "USD")].id
    assert again[(SECURITIES, JPM)].id == heads[(SECURITIES, JPM)].id
    await session.commit()
    assert await count(session, LedgerBalance) == 3


async def two_fundings(session: AsyncSession) -> tuple[str, str]:
    first = await post_one(session, funding("100.00", value_date=YESTERDAY), now=YESTERDAY_NOW)
    await session.commit()
    second = await post_one(session, funding("40.00"), now=NOW)
    await session.commit()
    report = await check_ledger(session)
    assert report.ok, report.problems
    await session.rollback()  # SQLite: end the read transaction (BEGIN IMMEDIATE holds the lock)
    return first, second


async def test_the_ledger_check_flags_a_tampered_balance_naming_the_first_entry(
    db: Database, session: AsyncSession
) -> None:
    first, _ = await two_fundings(session)
    # ledger_balances is not append-only: a write past the service goes through, and is caught.
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE ledger_balances SET posted = :posted "
                "WHERE ledger_account = :account AND asset = 'USD'"
            ).bindparams(bindparam("posted", type_=ExactDecimal())),
            {"posted": Decimal("150.00"), "account": CASH},
        )

    async with db.sessionmaker() as fresh:
        report = await check_ledger(fresh)
    assert not report.ok
    assert [(p.kind, p.entry_id, p.ledger_account, p.asset) for p in report.problems] == [
        ("balance_mismatch", first, CASH, "USD")
    ]
    [problem] = report.problems
    # Stored 150.00; the postings sum to 100.00 + 40.00 = 140.00.
    assert "is Totals(posted=Decimal('150.00')" in problem.detail
    assert "sum to Totals(posted=Decimal('140.00')" in problem.detail
    assert report.first_bad_entry_id == first
    assert (report.entries_checked, report.postings_checked, report.balances_checked) == (2, 4, 2)


@pytest.mark.parametrize(("day", "named"), [(YESTERDAY, 0), (TODAY, 1)], ids=["yesterday", "today"])
async def test_the_ledger_check_flags_a_tampered_daily_row_naming_that_days_entry(
    db: Database, session: AsyncSession, day: date, named: int
) -> None:
    entries = await two_fundings(session)
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE ledger_balance_days SET posted = :posted WHERE as_of_date = :day "
                "AND balance_id = (SELECT id FROM ledger_balances "
                "WHERE ledger_account = :account AND asset = 'USD')"
            ).bindparams(bindparam("posted", type_=ExactDecimal()), bindparam("day", type_=Date())),
            {"posted": Decimal("999.99"), "day": day, "account": CASH},
        )

    async with db.sessionmaker() as fresh:
        report = await check_ledger(fresh)
    assert [(p.kind, p.entry_id, p.ledger_account) for p in report.problems] == [
        ("daily_balance_mismatch", entries[named], CASH)
    ]
    assert report.first_bad_entry_id == entries[named]
