"""Standing settlement instructions: create, amend, delete, read (audited); each
counterparty's SSIs for other domains as ``SsiRef`` values."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.reference import records
from app.reference.counterparties import service as counterparties
from app.reference.fields import check_terms
from app.reference.markets import service as markets
from app.reference.ssis import repository
from app.reference.ssis.models import Ssi
from app.reference.ssis.schemas import SsiIn, SsiPatch, check_ssi_scope
from app.reference.values import SsiRef

ENTITY = "ssi"


async def create_ssi(session: AsyncSession, *, data: SsiIn, actor: Actor, now: datetime) -> Ssi:
    check_terms(data.model_dump(), check_ssi_scope)
    lei = data.counterparty_lei
    records.known(
        await counterparties.counterparty_exists(session, lei=lei), "counterparty_lei", lei
    )
    if data.mic is not None:
        records.known(await markets.market_exists(session, mic=data.mic), "mic", data.mic)
    ssi = Ssi(id=new_id("ssi"), **records.storage(data))
    return await records.create(session, ssi, entity_type=ENTITY, actor=actor, now=now)


async def update_ssi(
    session: AsyncSession,
    *,
    ssi_id: str,
    patch: SsiPatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Ssi:
    ssi = records.found(await repository.get(session, ssi_id, lock=True), ENTITY, ssi_id)
    return await records.update(
        session,
        ssi,
        records.changes(Ssi, patch),
        entity_type=ENTITY,
        expected_version=version,
        actor=actor,
        now=now,
    )


async def delete_ssi(
    session: AsyncSession, *, ssi_id: str, version: int, actor: Actor, now: datetime
) -> None:
    """Remove an SSI (e.g. the one too many behind an ``SSI_AMBIGUOUS`` repair reason).

    Instructions already made keep the SSI they copied; only enrichment from now on stops
    finding it. The audit record keeps its last state as the before image."""
    ssi = records.found(await repository.get(session, ssi_id, lock=True), ENTITY, ssi_id)
    await records.delete(
        session, ssi, entity_type=ENTITY, expected_version=version, actor=actor, now=now
    )


async def get_ssi(session: AsyncSession, *, ssi_id: str, as_of: datetime | None = None) -> Ssi:
    """The SSI now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await records.as_of(session, Ssi, ENTITY, ssi_id, as_of)
    return records.found(await repository.get(session, ssi_id), ENTITY, ssi_id)


async def list_ssis(
    session: AsyncSession,
    *,
    page: PageRequest,
    counterparty_lei: str | None,
    mic: str | None,
    currency: str | None,
) -> tuple[Sequence[Ssi], str | None]:
    return await repository.page(
        session, page, counterparty_lei=counterparty_lei, mic=mic, currency=currency
    )


# For other domains -------------------------------------------------------------------------


async def ssis_of(session: AsyncSession, *, leis: Iterable[str]) -> dict[str, list[SsiRef]]:
    """Each counterparty's standing settlement instructions."""
    wanted = list(set(leis))
    found: dict[str, list[SsiRef]] = {lei: [] for lei in wanted}
    if wanted:
        for ssi in await repository.refs_of_counterparties(session, wanted):
            found[ssi.counterparty_lei].append(ssi)
    return found
