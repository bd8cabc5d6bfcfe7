"""Every query and lock on the confirmations table, named for what it fetches."""

from collections.abc import Collection, Sequence

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import driver
from app.core.errors import NotFound
from app.core.pagination import PageRequest, fetch_page
from app.trades.confirmations.models import Confirmation
from app.trades.confirmations.states import ConfirmationStatus


async def get(session: AsyncSession, confirmation_id: str) -> Confirmation:
    confirmation = await session.get(Confirmation, confirmation_id)
    if confirmation is None:
        raise NotFound(f"No confirmation '{confirmation_id}'.")
    return confirmation


async def lock(session: AsyncSession, confirmation_id: str) -> Confirmation:
    """The confirmation, locked (FOR UPDATE) and read afresh."""
    confirmation = await session.get(
        Confirmation, confirmation_id, with_for_update=True, populate_existing=True
    )
    if confirmation is None:
        raise NotFound(f"No confirmation '{confirmation_id}'.")
    return confirmation


async def lock_sent_as(
    session: AsyncSession, *, counterparty_lei: str, confirmation_id: str
) -> Confirmation | None:
    """The confirmation this counterparty sent under its ``confirmation_id``, locked."""
    statement = (
        select(Confirmation)
        .where(
            Confirmation.counterparty_lei == counterparty_lei,
            Confirmation.confirmation_id == confirmation_id,
        )
        .with_for_update()
    )
    return (await session.scalars(statement)).one_or_none()


async def lock_others_of_trade(
    session: AsyncSession, *, trade_id: str, keep: str
) -> Sequence[Confirmation]:
    """The trade's confirmations other than ``keep`` that are not superseded, locked."""
    statement = (
        select(Confirmation)
        .where(
            Confirmation.trade_id == trade_id,
            Confirmation.id != keep,
            Confirmation.status != ConfirmationStatus.SUPERSEDED.value,
        )
        .with_for_update()
    )
    return (await session.scalars(statement)).all()


_ALLEGED_ORDER = (Confirmation.received_at, Confirmation.id)
# Built once: every capture group runs it, and mostly finds none.
_ALLEGED_IDS_FROM = (
    select(Confirmation.id)
    .where(
        Confirmation.status == ConfirmationStatus.ALLEGED.value,
        Confirmation.counterparty_lei == any_(bindparam("leis", type_=ARRAY(String))),
    )
    .order_by(*_ALLEGED_ORDER)
    .with_for_update()
)


async def lock_alleged_from(
    session: AsyncSession, counterparty_leis: Collection[str]
) -> Sequence[Confirmation]:
    """Alleged confirmations from these counterparties, locked, oldest first."""
    if session.get_bind().dialect.name == "postgresql":
        # Locked by id straight through asyncpg (``driver``), then, only when there are some,
        # loaded: the ORM's statement costs a capture group more than the database's work.
        leis = sorted(counterparty_leis)
        rows = await driver.fetch(session, _ALLEGED_IDS_FROM, {"leis": leis})
        if not rows:
            return []
        ids = [row[0] for row in rows]
        loaded = select(Confirmation).where(Confirmation.id.in_(ids)).order_by(*_ALLEGED_ORDER)
        return (await session.scalars(loaded)).all()
    statement = (
        select(Confirmation)
        .where(
            Confirmation.status == ConfirmationStatus.ALLEGED.value,
            Confirmation.counterparty_lei.in_(counterparty_leis),
        )
        .order_by(*_ALLEGED_ORDER)
        .with_for_update()
    )
    return (await session.scalars(statement)).all()


async def lock_compared_of_trade(session: AsyncSession, trade_id: str) -> Confirmation | None:
    """The trade's matched or unmatched confirmation (a trade has at most one), locked."""
    statement = (
        select(Confirmation)
        .where(
            Confirmation.trade_id == trade_id,
            Confirmation.status.in_(
                (ConfirmationStatus.MATCHED.value, ConfirmationStatus.UNMATCHED.value)
            ),
        )
        .with_for_update()
    )
    return (await session.scalars(statement)).one_or_none()


async def page(
    session: AsyncSession,
    *,
    page: PageRequest,
    statuses: Sequence[ConfirmationStatus],
    counterparty_lei: str | None,
    trade_id: str | None,
) -> tuple[Sequence[Confirmation], str | None]:
    """A page of confirmations in id order, in any of ``statuses`` (all when empty)."""
    statement = select(Confirmation)
    if statuses:
        statement = statement.where(Confirmation.status.in_([s.value for s in statuses]))
    if counterparty_lei:
        statement = statement.where(Confirmation.counterparty_lei == counterparty_lei)
    if trade_id:
        statement = statement.where(Confirmation.trade_id == trade_id)
    return await fetch_page(session, statement, Confirmation.id, page)
