"""The chart of accounts: ledger accounts of our books, accounts and counterparties are created
on first use; the fixed ones come with the migration."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import dialect_insert
from app.positions import accounts
from app.positions.models import LedgerAccount


async def ensure_ledger_accounts(
    session: AsyncSession, codes: Iterable[str], *, now: datetime
) -> None:
    """Create the ledger accounts of our books, accounts and counterparties on first use."""
    rows = []
    for code in sorted(set(codes)):
        parsed = accounts.parse(code)
        if parsed is None:
            raise ValueError(f"'{code}' is not a ledger account code")
        rows.append(
            {
                "code": code,
                "kind": parsed.kind.value,
                "name": parsed.name,
                "reference": parsed.reference,
                "created_at": now,
            }
        )
    if rows:
        existing = set(
            (
                await session.scalars(
                    select(LedgerAccount.code).where(
                        LedgerAccount.code.in_([r["code"] for r in rows])
                    )
                )
            ).all()
        )
        missing = [row for row in rows if row["code"] not in existing]
        if missing:
            statement = dialect_insert(session, LedgerAccount).on_conflict_do_nothing(
                index_elements=["code"]
            )
            await session.execute(statement, missing)
