"""The chart of accounts: ledger accounts of our books, accounts and counterparties are created
on first use; the fixed ones come with the migration."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest
from app.positions.ledger_accounts import repository
from app.positions.ledger_accounts.codes import LedgerKind, parse
from app.positions.ledger_accounts.models import LedgerAccount


async def ensure_ledger_accounts(
    session: AsyncSession, codes: Iterable[str], *, now: datetime
) -> None:
    """Create the ledger accounts of our books, accounts and counterparties on first use."""
    rows: list[dict[str, Any]] = []
    for code in sorted(set(codes)):
        parsed = parse(code)
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
        existing = await repository.existing_codes(session, [r["code"] for r in rows])
        missing = [row for row in rows if row["code"] not in existing]
        if missing:
            await repository.insert_missing(session, missing)


async def existing_codes(session: AsyncSession, *, codes: Sequence[str]) -> set[str]:
    """Which of these codes are ledger accounts already."""
    return await repository.existing_codes(session, codes)


async def ledger_accounts(
    session: AsyncSession, *, page: PageRequest, kind: LedgerKind | None = None
) -> tuple[Sequence[LedgerAccount], str | None]:
    return await repository.page_of_accounts(
        session, page=page, kind=None if kind is None else kind.value
    )
