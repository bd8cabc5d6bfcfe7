"""The journal over HTTP: entries with their postings."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import Paging, Uow
from app.core.errors import problem_responses
from app.core.moments import UtcDateTime
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.positions.journal import service
from app.positions.journal.auth import JournalRead
from app.positions.journal.entries import EntryKind
from app.positions.journal.filters import EntryFilter
from app.positions.journal.schemas import JournalEntryOut, PostingOut

Code = Annotated[str | None, Query(min_length=1, max_length=64)]

router = APIRouter(tags=["Journal"], dependencies=[ISO_QUERY_DATES])


def _entry_out(view: service.EntryView) -> JournalEntryOut:
    return JournalEntryOut(
        id=view.entry.id,
        kind=EntryKind(view.entry.kind),
        accounting_date=view.entry.accounting_date,
        value_date=view.entry.value_date,
        effective_at=view.entry.effective_at,
        description=view.entry.description,
        source_type=view.entry.source_type,
        source_id=view.entry.source_id,
        reverses_id=view.entry.reverses_id,
        reversed_by=view.reversed_by,
        pending_id=view.entry.pending_id,
        created_at=view.entry.created_at,
        created_by=view.entry.created_by,
        postings=[
            PostingOut.model_validate(posting, from_attributes=True) for posting in view.postings
        ],
    )


@router.get(
    "/journal-entries",
    response_model=Page[JournalEntryOut],
    responses=problem_responses(),
    summary="Journal entries with their postings",
)
async def list_journal_entries(
    uow: Uow,
    _actor: JournalRead,
    page: Paging,
    ledger_account: Code = None,
    asset: Annotated[str | None, Query(min_length=3, max_length=12)] = None,
    kind: EntryKind | None = None,
    source_id: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    from_date: Annotated[date | None, Query(alias="from", description="Accounting date.")] = None,
    to_date: Annotated[date | None, Query(alias="to", description="Accounting date.")] = None,
    value_from: Annotated[date | None, Query(description="Value date, on or after.")] = None,
    value_to: Annotated[date | None, Query(description="Value date, on or before.")] = None,
    booked_after: Annotated[
        UtcDateTime | None,
        Query(
            description="Booked after this moment: with `value_to`, the entries that changed "
            "an as-of answer since a `known_at` one."
        ),
    ] = None,
    booked_to: Annotated[UtcDateTime | None, Query(description="Booked by this moment.")] = None,
) -> Page[JournalEntryOut]:
    """Entries touching a ledger account or an asset, of a kind, from a source (a trade id, an
    instruction, an adjustment), between accounting dates, value dates or booking times."""
    wanted = EntryFilter(
        ledger_account=ledger_account,
        asset=asset,
        kind=None if kind is None else kind.value,
        source_id=source_id,
        from_date=from_date,
        to_date=to_date,
        value_from=value_from,
        value_to=value_to,
        booked_after=booked_after,
        booked_to=booked_to,
    )
    views, cursor = await service.journal_entries(uow.session, page=page, wanted=wanted)
    return Page(items=[_entry_out(view) for view in views], next_cursor=cursor)


@router.get(
    "/journal-entries/{entry_id}",
    response_model=JournalEntryOut,
    responses=problem_responses(404),
    summary="One journal entry",
)
async def get_journal_entry(entry_id: str, uow: Uow, _actor: JournalRead) -> JournalEntryOut:
    return _entry_out(await service.journal_entry(uow.session, entry_id=entry_id))
