"""Confirmation matching: find our trade, compare it with the counterparty's view, move both
state machines, explain every difference; force-match under four-eyes; affirmation deadlines."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import audited, row_as_of, transition
from app.core.auth import Actor
from app.core.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.core.states import next_state
from app.reference.counterparties.service import get_counterparty_ref
from app.reference.markets.service import markets_by_mic
from app.reference.tolerances.service import find_matching_tolerance
from app.trades.capture import repository as trades_repository
from app.trades.capture.lifecycle import flag_affirmation_overdue, transition_trade
from app.trades.capture.models import Trade
from app.trades.capture.states import TradeEvent, TradeStatus
from app.trades.confirmations import repository
from app.trades.confirmations.deadlines import Deadline, deadline, is_near
from app.trades.confirmations.matching import (
    Outcome,
    Reason,
    Terms,
    Tolerance,
    compare,
    select_candidate,
    several_fit,
)
from app.trades.confirmations.models import Confirmation
from app.trades.confirmations.schemas import ConfirmationIn
from app.trades.confirmations.states import (
    CONFIRMATION_TRANSITIONS,
    ConfirmationEvent,
    ConfirmationStatus,
)

ENTITY = "confirmation"
_OPPOSITE = {"buy": "sell", "sell": "buy"}
_TERM_FIELDS = (
    "isin",
    "side",
    "quantity",
    "price",
    "currency",
    "trade_date",
    "settlement_date",
    "net_amount",
    "accrued_interest",
)
# Matching again (new terms on either side) withdraws a force-match proposal or approval: it was
# about terms that no longer stand, and a left-over proposal would let one key approve alone.
_NO_FORCE_MATCH: dict[str, Any] = {
    "force_match_proposed_by": None,
    "force_match_reason": None,
    "force_match_proposed_at": None,
    "force_match_trade_id": None,
    "force_match_approved_by": None,
}


@dataclass(frozen=True)
class CapturedTrade:
    """What matching needs of a trade just booked (batch capture has rows, not ORM objects)."""

    id: str
    counterparty_lei: str
    external_id: str
    terms: Terms
    # Who booked it and when, where trades of several requests are matched at once (grouped
    # capture): what a match records is theirs. None: the caller's actor and time.
    booked_by: Actor | None = None
    booked_at: datetime | None = None


def _field(values: Mapping[str, Any] | Trade, name: str) -> Any:
    return values[name] if isinstance(values, Mapping) else getattr(values, name)


def trade_terms(values: Mapping[str, Any] | Trade) -> Terms:
    return Terms(**{name: _field(values, name) for name in _TERM_FIELDS})


def captured(
    values: Mapping[str, Any] | Trade, *, by: Actor | None = None, at: datetime | None = None
) -> CapturedTrade:
    return CapturedTrade(
        id=_field(values, "id"),
        counterparty_lei=_field(values, "counterparty_lei"),
        external_id=_field(values, "external_id"),
        terms=trade_terms(values),
        booked_by=by,
        booked_at=at,
    )


def _their_terms(source: ConfirmationIn | Confirmation) -> Terms:
    return Terms(
        isin=source.isin,
        side=str(source.side),
        quantity=source.quantity,
        price=source.price,
        currency=source.currency,
        trade_date=source.trade_date,
        settlement_date=source.settlement_date,
        net_amount=source.net_amount,
        accrued_interest=source.accrued_interest,
    )


def _same_terms(previous: Confirmation, data: ConfirmationIn) -> bool:
    return previous.trade_reference == data.trade_reference and _their_terms(
        previous
    ) == _their_terms(data)


async def _tolerance(session: AsyncSession, currency: str) -> Tolerance:
    row = await find_matching_tolerance(session, currency=currency)
    if row is None:
        return Tolerance()
    return Tolerance(
        price_abs=row.price_abs,
        net_amount_abs=row.net_amount_abs,
        net_amount_bps=row.net_amount_bps,
    )


def _stored(reasons: Sequence[Reason]) -> list[dict[str, Any]]:
    return [
        {"code": r.code.value, "field": r.field, "ours": r.ours, "theirs": r.theirs}
        for r in reasons
    ]


def _reasons(outcome: Outcome) -> list[dict[str, Any]]:
    return _stored(outcome.reasons)


@dataclass(frozen=True)
class _Found:
    trade: Trade | None
    candidates: tuple[str, ...] = ()


async def _find_trade(
    session: AsyncSession, data: ConfirmationIn, previous: Confirmation | None, tolerance: Tolerance
) -> _Found:
    """Our trade by reference, else the one a correction was linked to, else by economics.

    Several fitting trades are reported as candidates, never guessed between."""
    if data.trade_reference is not None:
        trades = await trades_repository.live_by_reference(
            session, counterparty_lei=data.counterparty_lei, external_id=data.trade_reference
        )
        if len(trades) > 1:
            return _Found(None, tuple(sorted(t.id for t in trades)))
        return _Found(trades[0] if trades else None)
    if previous is not None and previous.trade_id is not None:
        linked = await trades_repository.find(session, previous.trade_id)
        if linked is not None and linked.status != TradeStatus.CANCELLED.value:
            return _Found(linked)
    fitting = await trades_repository.unconfirmed_same_day(
        session,
        counterparty_lei=data.counterparty_lei,
        isin=data.isin,
        trade_date=data.trade_date,
        side=_OPPOSITE[str(data.side)],
    )
    same_day = {t.id: t for t in fitting}
    selection = select_candidate(
        theirs=_their_terms(data),
        candidates=[(trade_id, trade_terms(t)) for trade_id, t in same_day.items()],
        tolerance=tolerance,
    )
    if selection.trade_id is not None:
        return _Found(same_day[selection.trade_id])
    if selection.ambiguous:
        return _Found(None, selection.ambiguous)
    if len(same_day) == 1:  # the only trade it can be about: compare, to explain the differences
        return _Found(next(iter(same_day.values())))
    # Several same-day trades and none fits: which one it is about would be a guess.
    return _Found(None)


async def _supersede_others(
    session: AsyncSession, *, trade_id: str, keep: str, actor: Actor, now: datetime
) -> None:
    """A trade has one live confirmation: a newer one replaces an unmatched or alleged one."""
    for other in await repository.lock_others_of_trade(session, trade_id=trade_id, keep=keep):
        if other.status == ConfirmationStatus.MATCHED.value:
            raise Conflict(
                f"Trade {trade_id} is already confirmed by {other.confirmation_id} ({other.id}).",
                confirmation_id=other.id,
            )
        await _move(session, other, ConfirmationEvent.SUPERSEDED, actor=actor, now=now)


async def _move(
    session: AsyncSession,
    confirmation: Confirmation,
    event: ConfirmationEvent,
    *,
    actor: Actor,
    now: datetime,
    **changes: Any,
) -> None:
    """Move the confirmation on by ``event`` (setting ``changes``), bump its version, audit."""
    await transition(
        session,
        confirmation,
        transitions=CONFIRMATION_TRANSITIONS,
        event=event,
        entity_type=ENTITY,
        actor=actor,
        now=now,
        **changes,
        version=confirmation.version + 1,
        updated_at=now,
    )


async def _apply_to_trade(
    session: AsyncSession, trade_id: str, outcome: Outcome, *, actor: Actor, now: datetime
) -> Trade:
    event = (
        TradeEvent.CONFIRMATION_MATCHED if outcome.matched else TradeEvent.CONFIRMATION_UNMATCHED
    )
    return await transition_trade(session, trade_id=trade_id, event=event, actor=actor, now=now)


def _ambiguity(candidates: Sequence[str], data: ConfirmationIn) -> list[dict[str, Any]]:
    return _stored([several_fit(candidates, trade_reference=data.trade_reference)])


async def _require_counterparty(session: AsyncSession, lei: str) -> None:
    try:
        await get_counterparty_ref(session, lei=lei)
    except NotFound:
        raise ValidationFailed(
            f"counterparty_lei: counterparty '{lei}' is not known",
            errors=[FieldProblem("counterparty_lei", f"counterparty '{lei}' is not known")],
        ) from None


@dataclass(frozen=True)
class _Verdict:
    """How a confirmation compared: its event, the reasons it shows, and the comparison with
    the trade found (None when no single trade was found)."""

    event: ConfirmationEvent
    reasons: list[dict[str, Any]]
    outcome: Outcome | None = None


def _judge(found: _Found, data: ConfirmationIn, tolerance: Tolerance) -> _Verdict:
    if found.trade is not None:
        outcome = compare(
            ours=trade_terms(found.trade), theirs=_their_terms(data), tolerance=tolerance
        )
        event = ConfirmationEvent.MATCHED if outcome.matched else ConfirmationEvent.UNMATCHED
        return _Verdict(event, _reasons(outcome), outcome)
    if found.candidates:
        return _Verdict(ConfirmationEvent.UNMATCHED, _ambiguity(found.candidates, data))
    return _Verdict(ConfirmationEvent.NO_TRADE, [])


async def receive_confirmation(
    session: AsyncSession, *, data: ConfirmationIn, actor: Actor, now: datetime
) -> Confirmation:
    """Record a confirmation (or a correction of one) and match it against our trades."""
    await _require_counterparty(session, data.counterparty_lei)
    previous = await repository.lock_sent_as(
        session, counterparty_lei=data.counterparty_lei, confirmation_id=data.confirmation_id
    )
    if previous is not None and previous.status == ConfirmationStatus.SUPERSEDED.value:
        raise Conflict(f"Confirmation {data.confirmation_id} was superseded by a newer one.")
    if (
        previous is not None
        and previous.status != ConfirmationStatus.ALLEGED.value
        and _same_terms(previous, data)
    ):
        return previous  # a re-send, not a correction: nothing to match again
    tolerance = await _tolerance(session, data.currency)
    found = await _find_trade(session, data, previous, tolerance)
    verdict = _judge(found, data, tolerance)
    terms = data.model_dump(exclude={"confirmation_id", "counterparty_lei"})
    terms["side"] = str(data.side)
    fields = {
        **terms,
        "trade_id": found.trade.id if found.trade is not None else None,
        "reasons": verdict.reasons,
        "candidates": list(found.candidates),
    }
    if previous is None:
        confirmation = await _record_received(
            session, data, verdict.event, fields, actor=actor, now=now
        )
    else:
        confirmation = previous
        await _move(
            session, confirmation, verdict.event, actor=actor, now=now, **fields, **_NO_FORCE_MATCH
        )
    if found.trade is not None and verdict.outcome is not None:
        await _supersede_others(
            session, trade_id=found.trade.id, keep=confirmation.id, actor=actor, now=now
        )
        await _apply_to_trade(session, found.trade.id, verdict.outcome, actor=actor, now=now)
    return confirmation


async def _record_received(
    session: AsyncSession,
    data: ConfirmationIn,
    event: ConfirmationEvent,
    fields: dict[str, Any],
    *,
    actor: Actor,
    now: datetime,
) -> Confirmation:
    """A confirmation first received, in the state its first comparison gives it, audited."""
    status = next_state(CONFIRMATION_TRANSITIONS, ConfirmationStatus.ALLEGED, event).value
    confirmation = Confirmation(
        id=new_id("cnf"),
        confirmation_id=data.confirmation_id,
        counterparty_lei=data.counterparty_lei,
        status=status,
        version=1,
        received_at=now,
        updated_at=now,
        received_by=actor.key_id,
        **fields,
    )
    async with audited(
        session,
        confirmation,
        entity_type=ENTITY,
        action="received",
        actor=actor,
        now=now,
        created=True,
        event_type=f"{ENTITY}.{status}",
    ):
        session.add(confirmation)
    return confirmation


async def match_alleged(
    session: AsyncSession, trades: Sequence[CapturedTrade], *, actor: Actor, now: datetime
) -> dict[str, Trade]:
    """Trades just booked or amended may be the ones alleged confirmations are about. Returns
    the trades it moved (matched or unmatched), by id, as they are now."""
    if not trades:
        return {}
    alleged = await repository.lock_alleged_from(session, {t.counterparty_lei for t in trades})
    return await _match_locked(session, alleged, trades, actor=actor, now=now)


async def match_alleged_rows(
    session: AsyncSession,
    booked: Sequence[tuple[Mapping[str, Any], Actor, datetime]],
    *,
    actor: Actor,
    now: datetime,
) -> dict[str, Trade]:
    """``match_alleged`` of trades given as their rows, each with who booked it and when
    (batch capture): a trade is made a ``CapturedTrade`` only when an alleged confirmation
    comes from its counterparty, as few do (their terms were a twentieth of a batch's CPU)."""
    if not booked:
        return {}
    alleged = await repository.lock_alleged_from(
        session, {row["counterparty_lei"] for row, _, _ in booked}
    )
    if not alleged:
        return {}
    alleging = {confirmation.counterparty_lei for confirmation in alleged}
    trades = [
        captured(row, by=by, at=at) for row, by, at in booked if row["counterparty_lei"] in alleging
    ]
    return await _match_locked(session, alleged, trades, actor=actor, now=now)


async def _match_locked(
    session: AsyncSession,
    alleged: Sequence[Confirmation],
    trades: Sequence[CapturedTrade],
    *,
    actor: Actor,
    now: datetime,
) -> dict[str, Trade]:
    """The alleged confirmations (locked, oldest first) matched against the trades."""
    moved: dict[str, Trade] = {}
    taken: set[str] = set()
    tolerances: dict[str, Tolerance] = {}
    for confirmation in alleged:
        theirs = _their_terms(confirmation)
        if confirmation.currency not in tolerances:
            tolerances[confirmation.currency] = await _tolerance(session, confirmation.currency)
        tolerance = tolerances[confirmation.currency]
        mine = [
            t
            for t in trades
            if t.counterparty_lei == confirmation.counterparty_lei and t.id not in taken
        ]
        if confirmation.trade_reference is not None:
            fitting = [t for t in mine if t.external_id == confirmation.trade_reference]
            trade = fitting[0] if len(fitting) == 1 else None
        else:
            selection = select_candidate(
                theirs=theirs, candidates=[(t.id, t.terms) for t in mine], tolerance=tolerance
            )
            trade = next((t for t in mine if t.id == selection.trade_id), None)
        if trade is None:
            continue
        taken.add(trade.id)
        outcome = compare(ours=trade.terms, theirs=theirs, tolerance=tolerance)
        event = ConfirmationEvent.MATCHED if outcome.matched else ConfirmationEvent.UNMATCHED
        by, at = trade.booked_by or actor, trade.booked_at or now
        await _move(
            session,
            confirmation,
            event,
            actor=by,
            now=at,
            trade_id=trade.id,
            reasons=_reasons(outcome),
            candidates=[],
            **_NO_FORCE_MATCH,
        )
        moved[trade.id] = await _apply_to_trade(session, trade.id, outcome, actor=by, now=at)
    return moved


async def rematch_amended(
    session: AsyncSession, trade: Trade, *, actor: Actor, now: datetime
) -> None:
    """An amended trade is compared again with its confirmation, or with alleged ones."""
    confirmation = await repository.lock_compared_of_trade(session, trade.id)
    if confirmation is None:
        await match_alleged(session, [captured(trade)], actor=actor, now=now)
        return
    tolerance = await _tolerance(session, confirmation.currency)
    outcome = compare(
        ours=trade_terms(trade), theirs=_their_terms(confirmation), tolerance=tolerance
    )
    event = ConfirmationEvent.MATCHED if outcome.matched else ConfirmationEvent.UNMATCHED
    await _move(
        session,
        confirmation,
        event,
        actor=actor,
        now=now,
        reasons=_reasons(outcome),
        **_NO_FORCE_MATCH,
    )
    await _apply_to_trade(session, trade.id, outcome, actor=actor, now=now)


# Force-match under four-eyes ---------------------------------------------------------------


async def force_match(
    session: AsyncSession,
    *,
    confirmation_id: str,
    reason: str,
    trade_id: str | None,
    actor: Actor,
    now: datetime,
) -> tuple[Confirmation, bool]:
    """First call proposes, a call by another key approves. Returns (confirmation, approved)."""
    confirmation = await repository.lock(session, confirmation_id)
    if confirmation.status not in (
        ConfirmationStatus.UNMATCHED.value,
        ConfirmationStatus.ALLEGED.value,
    ):
        raise Conflict(
            f"Confirmation {confirmation_id} is {confirmation.status}: nothing to force."
        )
    if confirmation.force_match_proposed_by is None:
        await _propose_force_match(
            session, confirmation, reason=reason, trade_id=trade_id, actor=actor, now=now
        )
        return confirmation, False
    await _approve_force_match(session, confirmation, trade_id=trade_id, actor=actor, now=now)
    return confirmation, True


async def _propose_force_match(
    session: AsyncSession,
    confirmation: Confirmation,
    *,
    reason: str,
    trade_id: str | None,
    actor: Actor,
    now: datetime,
) -> None:
    """The first key names the trade (the linked one by default) and the reason."""
    target = trade_id or confirmation.trade_id
    if target is None:
        raise ValidationFailed(
            "This confirmation is linked to no trade: name the trade to match it to.",
            errors=[FieldProblem("trade_id", "is required when no trade is linked")],
        )
    trade = await trades_repository.find(session, target)
    if trade is None or trade.counterparty_lei != confirmation.counterparty_lei:
        raise ValidationFailed(
            f"Trade '{target}' is not a trade with {confirmation.counterparty_lei}.",
            errors=[FieldProblem("trade_id", "is not a trade with this counterparty")],
        )
    async with audited(
        session,
        confirmation,
        entity_type=ENTITY,
        action="force_match_proposed",
        actor=actor,
        now=now,
    ):
        confirmation.force_match_proposed_by = actor.key_id
        confirmation.force_match_reason = reason
        confirmation.force_match_proposed_at = now
        confirmation.force_match_trade_id = target
        confirmation.version += 1
        confirmation.updated_at = now


async def _approve_force_match(
    session: AsyncSession,
    confirmation: Confirmation,
    *,
    trade_id: str | None,
    actor: Actor,
    now: datetime,
) -> None:
    """Another key approves: the confirmation is matched and the trade confirmed."""
    if confirmation.force_match_proposed_by == actor.key_id:
        raise Forbidden("Four-eyes: the force-match must be approved by another operations key.")
    target = confirmation.force_match_trade_id
    if trade_id is not None and trade_id != target:
        raise Conflict(f"The proposal matches trade {target}, not {trade_id}.")
    assert target is not None  # set with every proposal
    await _supersede_others(session, trade_id=target, keep=confirmation.id, actor=actor, now=now)
    await _move(
        session,
        confirmation,
        ConfirmationEvent.FORCE_MATCHED,
        actor=actor,
        now=now,
        trade_id=target,
        force_match_approved_by=actor.key_id,
    )
    await transition_trade(
        session, trade_id=target, event=TradeEvent.CONFIRMATION_MATCHED, actor=actor, now=now
    )


# Queries ----------------------------------------------------------------------------------


async def get_confirmation(
    session: AsyncSession, *, confirmation_id: str, as_of: datetime | None = None
) -> Confirmation:
    """The confirmation now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await row_as_of(
            session, Confirmation, entity_type=ENTITY, entity_id=confirmation_id, as_of=as_of
        )
    return await repository.get(session, confirmation_id)


async def list_confirmations(
    session: AsyncSession,
    *,
    page: PageRequest,
    statuses: Sequence[ConfirmationStatus] = (),
    counterparty_lei: str | None = None,
    trade_id: str | None = None,
) -> tuple[Sequence[Confirmation], str | None]:
    return await repository.page(
        session, page=page, statuses=statuses, counterparty_lei=counterparty_lei, trade_id=trade_id
    )


async def confirmation_exceptions(
    session: AsyncSession, *, page: PageRequest, counterparty_lei: str | None = None
) -> tuple[Sequence[Confirmation], str | None]:
    """The exception queue: unmatched and alleged confirmations."""
    return await list_confirmations(
        session,
        page=page,
        counterparty_lei=counterparty_lei,
        statuses=(ConfirmationStatus.UNMATCHED, ConfirmationStatus.ALLEGED),
    )


# Affirmation deadline ----------------------------------------------------------------------


async def _with_deadlines(
    session: AsyncSession, trades: Sequence[Trade], *, now: datetime
) -> list[tuple[Trade, Deadline]]:
    markets = await markets_by_mic(session, mics={t.venue for t in trades})
    return [
        (
            trade,
            deadline(
                trade_date=trade.trade_date,
                local_time=markets[trade.venue].affirmation_cutoff,
                timezone=markets[trade.venue].timezone,
                now=now,
            ),
        )
        for trade in trades
    ]


async def unaffirmed_trades(
    session: AsyncSession,
    *,
    now: datetime,
    within: timedelta,
    venue: str | None = None,
    book: str | None = None,
    limit: int = 1000,
) -> list[tuple[Trade, Deadline]]:
    """Unconfirmed trades past their market's cutoff or within ``within`` of it, most urgent
    first."""
    # Urgency depends on each market's cutoff, so filter in Python and limit afterwards: the
    # unconfirmed population is the exception list, small by construction.
    trades = await trades_repository.unconfirmed(session, venue=venue, book=book)
    rows = await _with_deadlines(session, trades, now=now)
    urgent = [(t, d) for t, d in rows if d.overdue or is_near(d, within=within)]
    return sorted(urgent, key=lambda pair: (pair[1].cutoff, pair[0].id))[:limit]


@dataclass(frozen=True)
class LookedAt:
    """A chunk of unconfirmed trades an affirmation deadline run looked at."""

    count: int
    last_id: str | None  # where the next chunk starts; None when there was none
    flagged: list[str]  # those past their cutoff, now flagged


async def count_unflagged_unconfirmed(session: AsyncSession) -> int:
    return await trades_repository.count_unflagged_unconfirmed(session)


async def flag_overdue_affirmations(
    session: AsyncSession, *, now: datetime, actor: Actor, after_id: str | None, limit: int
) -> LookedAt:
    """Mark, once, every trade of the next ``limit`` unconfirmed ones (in id order after
    ``after_id``) whose cutoff has passed, raising one event each.

    Rows are claimed with SKIP LOCKED so concurrent runs never flag a trade twice."""
    trades = await trades_repository.claim_unflagged_unconfirmed(
        session, after_id=after_id, limit=limit
    )
    rows = await _with_deadlines(session, trades, now=now)
    overdue = [trade for trade, due in rows if due.overdue]
    await flag_affirmation_overdue(session, overdue, actor=actor, now=now)
    last_id = trades[-1].id if trades else None
    return LookedAt(len(trades), last_id, [trade.id for trade in overdue])
