"""Trade capture (single and batch), amendment, cancellation, history and queries."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import groupby
from typing import Any, NoReturn

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import (
    Change,
    HistoryEntry,
    entity_history,
    record_changes_of_each,
    state_as_of,
    transition,
    write_with_changes,
)
from app.core import bulk
from app.core.auth import Actor
from app.core.db import UnitOfWork
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.core.states import next_state
from app.core.versioning import check_version
from app.positions.bookings import service as positions
from app.positions.bookings.service import TradeEconomics
from app.reference.markets.service import get_market_ref
from app.reference.service import ReferenceSet, load_reference, load_reference_fresh
from app.trades.capture import repository
from app.trades.capture.images import new_trade_image
from app.trades.capture.lifecycle import ENTITY, transition_trade
from app.trades.capture.models import Trade
from app.trades.capture.rules import Booking, TradeTerms, evaluate
from app.trades.capture.schemas import BatchItemResult, BatchOutcome, TradeIn, TradePatch
from app.trades.capture.states import TRANSITIONS, TradeEvent, TradeStatus
from app.trades.confirmations.service import match_alleged_rows, rematch_amended

_trade_in = TypeAdapter(TradeIn)


def _terms(data: TradeIn) -> TradeTerms:
    return TradeTerms(
        book=data.book,
        counterparty_lei=data.counterparty_lei,
        isin=data.isin,
        side=data.side.value,
        quantity=data.quantity,
        price=data.price,
        currency=data.currency,
        trade_date=data.trade_date,
        trade_time=data.trade_time,
        venue=data.venue,
        settlement_date=data.settlement_date,
        commission=data.commission,
        fees=data.fees,
        accrued_interest=data.accrued_interest,
    )


def _terms_of(trade: Trade) -> TradeTerms:
    return TradeTerms(
        book=trade.book,
        counterparty_lei=trade.counterparty_lei,
        isin=trade.isin,
        side=trade.side,
        quantity=trade.quantity,
        price=trade.price,
        currency=trade.currency,
        trade_date=trade.trade_date,
        trade_time=trade.trade_time,
        venue=trade.venue,
        settlement_date=trade.settlement_date,
        commission=trade.commission,
        fees=trade.fees,
        accrued_interest=trade.accrued_interest,
    )


async def _reference_for(session: AsyncSession, terms: Sequence[TradeTerms]) -> ReferenceSet:
    return await load_reference(
        session,
        isins=(t.isin for t in terms),
        mics=(t.venue for t in terms),
        books=(t.book for t in terms),
        leis=(t.counterparty_lei for t in terms),
    )


def _trade_row(
    terms: TradeTerms, booking: Booking, *, external_id: str, actor: Actor, now: datetime
) -> dict[str, Any]:
    """A new trade's columns, as the row to insert: every one of them, since the row is also
    the audited after-image that ``GET /audit/verify`` compares the trade with."""
    return {
        "id": new_id("trd"),
        "external_id": external_id,
        "book": terms.book,
        "counterparty_lei": terms.counterparty_lei,
        "isin": terms.isin,
        "side": terms.side,
        "quantity": terms.quantity,
        "price": terms.price,
        "currency": terms.currency,
        "trade_date": terms.trade_date,
        "trade_time": terms.trade_time,
        "venue": terms.venue,
        "settlement_date": booking.settlement_date,
        "commission": booking.amounts.commission,
        "fees": booking.amounts.fees,
        "accrued_interest": booking.amounts.accrued_interest,
        "gross_amount": booking.amounts.gross_amount,
        "net_amount": booking.amounts.net_amount,
        "status": TradeStatus.CAPTURED.value,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "created_by": actor.key_id,
        "cancel_reason": None,
        "affirmation_overdue_at": None,
        "counterparty_of_record": None,
        "obligation_id": None,
    }


def _economics(row: dict[str, Any]) -> TradeEconomics:
    """What the journal books for a trade (its columns, as a row or read off the model)."""
    return TradeEconomics(
        trade_id=row["id"],
        book=row["book"],
        counterparty_lei=row["counterparty_lei"],
        isin=row["isin"],
        side=row["side"],
        quantity=row["quantity"],
        currency=row["currency"],
        trade_date=row["trade_date"],
        trade_time=row["trade_time"],
        gross_amount=row["gross_amount"],
        commission=row["commission"],
        fees=row["fees"],
        accrued_interest=row["accrued_interest"],
        net_amount=row["net_amount"],
    )


def _columns(trade: Trade) -> dict[str, Any]:
    return {column.key: getattr(trade, column.key) for column in Trade.__table__.columns}


def _locked_in_venues(reference: ReferenceSet) -> set[str]:
    return {mic for mic, market in reference.markets.items() if market.locked_in}


def _capture_records(
    row: dict[str, Any], *, locked_in: bool, texts: dict[Any, Any] | None = None
) -> list[Change]:
    """A new trade's audit records: captured, then, on a locked-in venue, confirmed at once by
    the transition table. The row itself (changed here) is inserted as it ends: one write.
    ``texts``: the times and days written so far, shared by the trades of a batch."""
    captured_image = new_trade_image(row, {} if texts is None else texts)
    changes = [Change(ENTITY, row["id"], "captured", before=None, after=captured_image)]
    if locked_in:
        event = TradeEvent.CONFIRMED_LOCKED_IN
        row["status"] = next_state(TRANSITIONS, TradeStatus(row["status"]), event).value
        row["version"] += 1
        # Only the status and the version moved: the image is the captured one with them.
        confirmed_image = {**captured_image, "status": row["status"], "version": row["version"]}
        changes.append(
            Change(ENTITY, row["id"], event.value, before=captured_image, after=confirmed_image)
        )
    return changes


@dataclass(frozen=True, slots=True)
class NewTrade:
    """A trade evaluated and ready to write: its row (the audited after-image), its audit
    records, whether its venue confirms it at once, and who books it when."""

    row: dict[str, Any]
    changes: list[Change]
    locked_in: bool
    actor: Actor
    now: datetime

    @property
    def identity(self) -> tuple[str, str]:
        """(book, external_id): what a second booking of the trade is refused on."""
        return self.row["book"], self.row["external_id"]


def _new_trade(
    terms: TradeTerms,
    booking: Booking,
    *,
    external_id: str,
    locked_in: bool,
    actor: Actor,
    now: datetime,
    texts: dict[Any, Any] | None = None,
) -> NewTrade:
    row = _trade_row(terms, booking, external_id=external_id, actor=actor, now=now)
    changes = _capture_records(row, locked_in=locked_in, texts=texts)
    return NewTrade(row, changes, locked_in, actor, now)


async def prepare_trade(
    session: AsyncSession, *, data: TradeIn, actor: Actor, now: datetime
) -> NewTrade:
    """Evaluate one trade against reference data (422 when a rule fails) and make it ready to
    write; nothing is written."""
    terms = _terms(data)
    reference = await _reference_for(session, [terms])
    return _prepared(terms, reference, data=data, actor=actor, now=now)


async def prepare_fresh_trade(
    uow: UnitOfWork, *, data: TradeIn, actor: Actor, now: datetime
) -> NewTrade:
    """``prepare_trade`` in a unit of work that has written nothing, so the reference data's
    token may be read outside it (``load_reference_fresh``): its session is not even made
    when the cached reference rows are all the trade needs."""
    terms = _terms(data)
    reference = await load_reference_fresh(
        uow,
        isins=[terms.isin],
        mics=[terms.venue],
        books=[terms.book],
        leis=[terms.counterparty_lei],
    )
    return _prepared(terms, reference, data=data, actor=actor, now=now)


def _prepared(
    terms: TradeTerms, reference: ReferenceSet, *, data: TradeIn, actor: Actor, now: datetime
) -> NewTrade:
    outcome = evaluate(terms, reference, now=now)
    if isinstance(outcome, list):
        raise ValidationFailed(_summary(outcome), errors=outcome)
    locked_in = terms.venue in _locked_in_venues(reference)
    return _new_trade(
        terms, outcome, external_id=data.external_id, locked_in=locked_in, actor=actor, now=now
    )


async def capture_trade(
    session: AsyncSession, *, data: TradeIn, actor: Actor, now: datetime
) -> Trade:
    """Book one trade. On a locked-in venue it is confirmed at once (the CCP confirms it);
    elsewhere an alleged confirmation waiting for it is matched."""
    new = await prepare_trade(session, data=data, actor=actor, now=now)
    trade = await repository.insert_unless_booked(session, new.row)
    if trade is None:
        await _refuse_booked(session, book=data.book, external_id=data.external_id)
    await _book_new(session, [new])
    return trade


async def capture_group(
    session: AsyncSession, trades: Sequence[NewTrade]
) -> list[Trade | dict[str, Any] | Conflict]:
    """Book the trades of several requests in one transaction (``grouped``), each answered
    as ``capture_trade`` answers it alone: its trade (its row, or the session's object where a
    step after the insert changed it), or the 409 naming the trade booked under its (book,
    external_id); of two in the group with the same, the first is booked."""
    first: dict[tuple[str, str], NewTrade] = {}
    for new in trades:
        first.setdefault(new.identity, new)
    # In (book, external_id) order: concurrent groups wait on each other's new rows in one order.
    inserted = await repository.insert_many_unless_booked(
        session, [first[identity].row for identity in sorted(first)]
    )
    refused = [identity for identity, new in first.items() if new.row["id"] not in inserted]
    booked = await repository.booked_ids(session, refused) if refused else {}
    booked.update({i: new.row["id"] for i, new in first.items() if new.row["id"] in inserted})
    # A trade that booking changed (an alleged confirmation matched it) is answered as it is
    # now; the others as inserted.
    changed = await _book_new(session, [new for new in trades if new.row["id"] in inserted])
    answers: list[Trade | dict[str, Any] | Conflict] = []
    for new in trades:
        trade_id = new.row["id"]
        if trade_id in inserted:
            answers.append(changed.get(trade_id) or new.row)
        else:
            answers.append(_booked_conflict(*new.identity, booked.get(new.identity)))
    return answers


async def _book_new(session: AsyncSession, trades: Sequence[NewTrade]) -> dict[str, Trade]:
    """What follows the insert of new trades, for single, grouped and batch capture alike:
    their audit records (each with its request's actor and time), the alleged confirmations
    they match, and their trade-date bookings, one ``book_trades`` per API key (the journal
    says who booked an entry) with every position locked first, in one order. Returns the
    trades a matching confirmation moved, by id, as they are now."""
    if not trades:
        return {}
    await record_changes_of_each(
        session,
        [
            ([c for new in same for c in new.changes], actor, now)
            for (actor, now), same in groupby(trades, key=lambda new: (new.actor, new.now))
        ],
    )
    return await _book_recorded(session, trades)


async def _book_recorded(
    session: AsyncSession,
    trades: Sequence[NewTrade],
    drafts: Sequence[positions.DraftedTrade] | None = None,
) -> dict[str, Trade]:
    """``_book_new`` after the trades' audit records: the alleged confirmations they match and
    their trade-date bookings. ``drafts``: the trades' bookings drafted already, in order."""
    bilateral = [(n.row, n.actor, n.now) for n in trades if not n.locked_in]
    moved = await match_alleged_rows(session, bilateral, actor=trades[0].actor, now=trades[0].now)
    if drafts is None:
        drafts = positions.draft_trades(_economics(new.row) for new in trades)
    # Last: it locks the book's positions in the securities until the commit.
    by_key: dict[str, list[tuple[NewTrade, positions.DraftedTrade]]] = {}
    for new, drafted in zip(trades, drafts, strict=True):
        by_key.setdefault(new.actor.key_id, []).append((new, drafted))
    if len(by_key) > 1:
        latest = max(new.now for new in trades)
        await positions.lock_positions(session, [d.trade for d in drafts], now=latest)
    for of_key in by_key.values():
        await positions.book_drafted(
            session,
            [drafted for _, drafted in of_key],
            actor=of_key[0][0].actor,
            now=max(new.now for new, _ in of_key),
        )
    return moved


def _booked_conflict(book: str, external_id: str, trade_id: str | None) -> Conflict:
    return Conflict(
        f"external_id '{external_id}' is already booked in {book} as {trade_id}.",
        trade_id=trade_id,
    )


async def _refuse_booked(session: AsyncSession, *, book: str, external_id: str) -> NoReturn:
    """409, naming the trade booked under this ``external_id`` (nothing of ours was written)."""
    booked = await repository.booked_ids(session, [(book, external_id)])
    raise _booked_conflict(book, external_id, booked.get((book, external_id)))


def _summary(problems: Sequence[FieldProblem]) -> str:
    return "; ".join(f"{p.field}: {p.message}" for p in problems[:5])


def _item_problem(index: int, problems: Sequence[FieldProblem]) -> dict[str, Any]:
    return ValidationFailed(
        f"Item {index} was not booked: {_summary(problems)}", errors=problems
    ).to_problem()


def _validation_problems(error: ValidationError) -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "item"
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(FieldProblem(field, message))
    return problems


# A batch's items are judged a part at a time: a part's trades go to the database (one COPY
# for the batch) while the next part is judged, so that Python and PostgreSQL work at once.
# Small: the database waits for the first part, and takes in the last after the judging ends.
_PART = 100


@dataclass
class _Judging:
    """What judging a batch's items needs, and their outcomes so far (``results``, by index;
    ``booked_ids`` also names the trades created by earlier items)."""

    reference: ReferenceSet
    locked_in: set[str]
    booked_ids: dict[tuple[str, str], str]
    results: list[BatchItemResult | None]
    actor: Actor
    now: datetime
    texts: dict[Any, Any] = field(default_factory=dict)  # times and days written once a batch

    def judge(self, index: int, data: TradeIn, terms: TradeTerms) -> NewTrade | None:
        """One item's outcome: duplicate, rejected, or created (the trade to write)."""
        key = (data.book, data.external_id)
        if key in self.booked_ids:
            self.results[index] = BatchItemResult(
                index=index, outcome=BatchOutcome.DUPLICATE, id=self.booked_ids[key], problem=None
            )
            return None
        outcome = evaluate(terms, self.reference, now=self.now)
        if isinstance(outcome, list):
            problem = _item_problem(index, outcome)
            self.results[index] = BatchItemResult(
                index=index, outcome=BatchOutcome.REJECTED, id=None, problem=problem
            )
            return None
        new = _new_trade(
            terms,
            outcome,
            external_id=data.external_id,
            locked_in=data.venue in self.locked_in,
            actor=self.actor,
            now=self.now,
            texts=self.texts,
        )
        self.booked_ids[key] = new.row["id"]
        self.results[index] = BatchItemResult(
            index=index, outcome=BatchOutcome.CREATED, id=new.row["id"], problem=None
        )
        return new


def _parsed(items: Sequence[Any]) -> tuple[list[BatchItemResult | None], list[tuple[int, TradeIn]]]:
    """Each item parsed (by index), or answered rejected when it is not a trade."""
    results: list[BatchItemResult | None] = [None] * len(items)
    parsed: list[tuple[int, TradeIn]] = []
    for index, item in enumerate(items):
        try:
            parsed.append((index, _trade_in.validate_python(item)))
        except ValidationError as error:
            problem = _item_problem(index, _validation_problems(error))
            results[index] = BatchItemResult(
                index=index, outcome=BatchOutcome.REJECTED, id=None, problem=problem
            )
    return results, parsed


async def _drafted(news: Sequence[NewTrade]) -> list[positions.DraftedTrade]:
    """``positions.draft_trades`` of the trades, a part at a time: between parts the event loop
    lets a COPY under way send its next rows (it cannot while Python works), so that the
    database takes them in meanwhile instead of after."""
    drafts: list[positions.DraftedTrade] = []
    for start in range(0, len(news), _PART):
        drafts += positions.draft_trades(_economics(new.row) for new in news[start : start + _PART])
        await asyncio.sleep(0)
    return drafts


async def capture_batch(
    session: AsyncSession, *, items: Sequence[Any], actor: Actor, now: datetime
) -> list[BatchItemResult]:
    """Book every good item; report each item's outcome in order. Nothing is half-booked.
    Trades on locked-in venues are confirmed at once, as in ``capture_trade``."""
    results, parsed = _parsed(items)
    terms = {index: _terms(data) for index, data in parsed}
    reference = await _reference_for(session, list(terms.values()))
    booked_ids = await repository.booked_ids(session, [(d.book, d.external_id) for _, d in parsed])
    judging = _Judging(reference, _locked_in_venues(reference), booked_ids, results, actor, now)
    news: list[NewTrade] = []

    async def judged() -> AsyncIterator[list[dict[str, Any]]]:
        for start in range(0, len(parsed), _PART):
            part = [
                new
                for index, data in parsed[start : start + _PART]
                if (new := judging.judge(index, data, terms[index])) is not None
            ]
            news.extend(part)
            if part:
                yield [new.row for new in part]

    await repository.insert_streamed(session, judged(), most=len(parsed))
    if news:
        # Then their audit records, in the trades' order.
        changes = [change for new in news for change in new.changes]
        pending = await write_with_changes(session, [], changes, actor=actor, now=now)
        # While the database takes in the last of them: the bookings as far as they go before
        # the positions are locked.
        drafts = await _drafted(news)
        await bulk.finished(session, pending)
        await _book_recorded(session, news, drafts)
    return [result for result in results if result is not None]


async def amend_trade(
    session: AsyncSession,
    *,
    trade_id: str,
    patch: TradePatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Trade:
    """Re-validate the amended terms, recompute what we derive, bump the version, re-confirm:
    on a locked-in venue at once, elsewhere by matching its confirmation again.

    Settlement date and accrued interest are recomputed unless the amendment sends them.
    """
    trade = await repository.lock(session, trade_id)
    # Refused after clearing before the version is even looked at.
    next_state(TRANSITIONS, TradeStatus(trade.status), TradeEvent.AMENDED)
    check_version(current=trade.version, expected=version, what=f"Trade {trade_id}")
    changes = patch.model_dump(exclude_unset=True)
    _refuse_emptied(changes)
    amended = await _amended_columns(session, trade, changes, now=now)
    if all(getattr(trade, name) == value for name, value in amended.items()):
        return trade
    await transition(
        session,
        trade,
        transitions=TRANSITIONS,
        event=TradeEvent.AMENDED,
        entity_type=ENTITY,
        actor=actor,
        now=now,
        **amended,
        version=trade.version + 1,
        updated_at=now,
    )
    if (await get_market_ref(session, mic=trade.venue)).locked_in:
        await _confirm_locked_in(session, trade, actor=actor, now=now)
    else:
        await rematch_amended(session, trade, actor=actor, now=now)
    await positions.rebook_trade(session, _economics(_columns(trade)), actor=actor, now=now)
    return trade


async def _confirm_locked_in(
    session: AsyncSession, trade: Trade, *, actor: Actor, now: datetime
) -> None:
    """The trade (locked by the caller) is on a locked-in venue: its CCP confirms it, no
    counterparty does, so it is confirmed at once."""
    await transition(
        session,
        trade,
        transitions=TRANSITIONS,
        event=TradeEvent.CONFIRMED_LOCKED_IN,
        entity_type=ENTITY,
        actor=actor,
        now=now,
        version=trade.version + 1,
        updated_at=now,
    )


def _refuse_emptied(changes: dict[str, Any]) -> None:
    """An amendment may clear the accrued interest (to have it derived), nothing else."""
    refused = [
        name for name, value in changes.items() if value is None and name != "accrued_interest"
    ]
    if refused:
        raise ValidationFailed(
            "These fields cannot be emptied.",
            errors=[FieldProblem(n, "may not be null") for n in refused],
        )


async def _amended_columns(
    session: AsyncSession, trade: Trade, changes: dict[str, Any], *, now: datetime
) -> dict[str, Any]:
    """The trade's columns after the amendment: the fields sent, and everything derived from
    the amended terms validated again."""
    terms = replace(_terms_of(trade), **_derived_inputs(changes))
    outcome = evaluate(terms, await _reference_for(session, [terms]), now=now)
    if isinstance(outcome, list):
        raise ValidationFailed(_summary(outcome), errors=outcome)
    return {
        **{
            name: getattr(terms, name)
            for name in changes
            if name not in ("settlement_date", "accrued_interest")
        },
        "settlement_date": outcome.settlement_date,
        # A new trade date or venue is a new affirmation cutoff: judge it afresh.
        **({"affirmation_overdue_at": None} if {"trade_date", "venue"} & changes.keys() else {}),
        "accrued_interest": outcome.amounts.accrued_interest,
        "commission": outcome.amounts.commission,
        "fees": outcome.amounts.fees,
        "gross_amount": outcome.amounts.gross_amount,
        "net_amount": outcome.amounts.net_amount,
    }


def _derived_inputs(changes: dict[str, Any]) -> dict[str, Any]:
    """The amended terms, with settlement date and accrued interest cleared where they must be
    derived again: a new trade date or venue moves the settlement date; a new quantity or
    settlement date changes the accrued interest. Values sent explicitly are kept."""
    inputs = dict(changes)
    if "settlement_date" not in changes and {"trade_date", "venue"} & changes.keys():
        inputs["settlement_date"] = None
    settlement_may_move = "settlement_date" in inputs
    if "accrued_interest" not in changes and (settlement_may_move or "quantity" in changes):
        inputs["accrued_interest"] = None
    return inputs


async def cancel_trade(
    session: AsyncSession, *, trade_id: str, reason: str, actor: Actor, now: datetime
) -> Trade:
    trade = await transition_trade(
        session,
        trade_id=trade_id,
        event=TradeEvent.CANCELLED,
        actor=actor,
        now=now,
        cancel_reason=reason,
    )
    await positions.unbook_trade(session, trade_id=trade_id, reason=reason, actor=actor, now=now)
    return trade


async def get_trade(session: AsyncSession, *, trade_id: str) -> Trade:
    return await repository.get(session, trade_id)


async def trade_as_of(session: AsyncSession, *, trade_id: str, as_of: datetime) -> dict[str, Any]:
    """The trade as it stood at ``as_of``, rebuilt from its audit trail."""
    return await state_as_of(session, Trade, entity_type=ENTITY, entity_id=trade_id, as_of=as_of)


async def trade_history(session: AsyncSession, *, trade_id: str) -> list[HistoryEntry]:
    records = await entity_history(session, entity_type=ENTITY, entity_id=trade_id)
    if not records:
        raise NotFound(f"No trade '{trade_id}'.")
    return records


async def list_trades(
    session: AsyncSession,
    *,
    page: PageRequest,
    status: TradeStatus | None = None,
    book: str | None = None,
    counterparty_lei: str | None = None,
    isin: str | None = None,
    trade_date: date | None = None,
    settlement_date: date | None = None,
) -> tuple[Sequence[Trade], str | None]:
    filters = {
        "status": status.value if status else None,
        "book": book,
        "counterparty_lei": counterparty_lei,
        "isin": isin,
        "trade_date": trade_date,
        "settlement_date": settlement_date,
    }
    return await repository.page(session, page=page, filters=filters)


# Reports (values only, streamed a chunk at a time) ------------------------------------------

REPORT_FIELDS = (
    "id",
    "external_id",
    "status",
    "book",
    "counterparty_lei",
    "counterparty_of_record",
    "isin",
    "side",
    "quantity",
    "price",
    "currency",
    "gross_amount",
    "commission",
    "fees",
    "accrued_interest",
    "net_amount",
    "trade_date",
    "settlement_date",
    "venue",
)


def _report_row(trade: Trade) -> dict[str, Any]:
    return {name: getattr(trade, name) for name in REPORT_FIELDS}


async def trades_dated(
    session: AsyncSession, *, start: date, end: date
) -> AsyncIterator[dict[str, Any]]:
    """Every trade dated ``start`` to ``end`` (inclusive), in id order, as plain values, read
    from the database a chunk at a time (a large blotter is never loaded whole)."""
    after: str | None = None
    while True:
        chunk = await repository.chunk_by_trade_date(
            session, start=start, end=end, after=after, limit=repository.REPORT_CHUNK
        )
        for trade in chunk:
            yield _report_row(trade)
        if len(chunk) < repository.REPORT_CHUNK:
            return
        after = chunk[-1].id


async def unsettled_trades(session: AsyncSession, *, as_of: date) -> AsyncIterator[dict[str, Any]]:
    """Every trade dated on or before ``as_of`` that is neither settled nor cancelled, in id
    order, as plain values, a chunk at a time."""
    after: str | None = None
    while True:
        chunk = await repository.chunk_unsettled(
            session, as_of=as_of, after=after, limit=repository.REPORT_CHUNK
        )
        for trade in chunk:
            yield _report_row(trade)
        if len(chunk) < repository.REPORT_CHUNK:
            return
        after = chunk[-1].id
