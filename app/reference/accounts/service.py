"""Our accounts: create, amend, read (audited); accounts for other domains as ``AccountRef``
values."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.pagination import PageRequest
from app.reference import records
from app.reference.accounts import repository
from app.reference.accounts.models import Account
from app.reference.accounts.schemas import AccountIn, AccountPatch, check_account_terms
from app.reference.fields import check_terms
from app.reference.values import AccountRef

ENTITY = "account"


async def create_account(
    session: AsyncSession, *, data: AccountIn, actor: Actor, now: datetime
) -> Account:
    check_terms(data.model_dump(), check_account_terms)
    account = Account(**records.storage(data))
    return await records.create(session, account, entity_type=ENTITY, actor=actor, now=now)


async def update_account(
    session: AsyncSession,
    *,
    code: str,
    patch: AccountPatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Account:
    account = records.found(await repository.get(session, code, lock=True), ENTITY, code)
    return await records.update(
        session,
        account,
        records.changes(Account, patch),
        entity_type=ENTITY,
        expected_version=version,
        actor=actor,
        now=now,
        check=check_account_terms,
    )


async def get_account(
    session: AsyncSession, *, code: str, as_of: datetime | None = None
) -> Account:
    """The account now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await records.as_of(session, Account, ENTITY, code, as_of)
    return records.found(await repository.get(session, code), ENTITY, code)


async def list_accounts(
    session: AsyncSession, *, page: PageRequest, kind: str | None, currency: str | None
) -> tuple[Sequence[Account], str | None]:
    return await repository.page(session, page, kind=kind, currency=currency)


# For other domains -------------------------------------------------------------------------


async def accounts_by_code(session: AsyncSession, *, codes: Iterable[str]) -> dict[str, AccountRef]:
    wanted = list(set(codes))
    if not wanted:
        return {}
    return {a.code: a for a in await repository.refs_by_code(session, wanted)}


async def every_account(session: AsyncSession) -> dict[str, AccountRef]:
    return {a.code: a for a in await repository.every_ref(session)}
