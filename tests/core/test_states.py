"""The state-machine helper, and the trade lifecycle table checked exhaustively against it."""

import itertools
from enum import StrEnum

import pytest

from app.core.errors import Conflict, InvalidTransition
from app.core.states import allowed_events, next_state
from app.trades.capture.states import TRANSITIONS, TradeEvent, TradeStatus


class Door(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"


class Push(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    LOCK = "lock"
    UNLOCK = "unlock"


DOOR = {
    (Door.CLOSED, Push.OPEN): Door.OPEN,
    (Door.OPEN, Push.CLOSE): Door.CLOSED,
    (Door.CLOSED, Push.LOCK): Door.LOCKED,
    (Door.LOCKED, Push.UNLOCK): Door.CLOSED,
}


@pytest.mark.parametrize(
    ("current", "event", "expected"),
    [
        (Door.CLOSED, Push.OPEN, Door.OPEN),
        (Door.OPEN, Push.CLOSE, Door.CLOSED),
        (Door.CLOSED, Push.LOCK, Door.LOCKED),
        (Door.LOCKED, Push.UNLOCK, Door.CLOSED),
    ],
)
def test_next_state_follows_the_table(current: Door, event: Push, expected: Door) -> None:
    assert next_state(DOOR, current, event) is expected


def test_a_refused_transition_is_a_409_naming_the_state_and_the_event() -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_state(DOOR, Door.LOCKED, Push.OPEN)
    error = caught.value
    assert isinstance(error, Conflict)
    assert error.status == 409
    assert error.detail == "'open' is not allowed when the status is 'locked'"
    assert error.extensions == {"current_status": "locked", "event": "open"}
    assert error.to_problem("/api/v1/doors/1") == {
        "type": "https://settlement.example/problems/invalid-transition",
        "title": "This change is not allowed in the current state",
        "status": 409,
        "detail": "'open' is not allowed when the status is 'locked'",
        "instance": "/api/v1/doors/1",
        "current_status": "locked",
        "event": "open",
    }
    assert error.__cause__ is None
    assert error.__suppress_context__ is True


@pytest.mark.parametrize(
    ("current", "events"),
    [
        (Door.CLOSED, [Push.OPEN, Push.LOCK]),
        (Door.OPEN, [Push.CLOSE]),
        (Door.LOCKED, [Push.UNLOCK]),
    ],
)
def test_allowed_events_lists_the_table_rows_for_a_state(current: Door, events: list[Push]) -> None:
    assert allowed_events(DOOR, current) == events


def test_allowed_events_of_a_state_missing_from_the_table_is_empty() -> None:
    assert allowed_events({(Door.CLOSED, Push.OPEN): Door.OPEN}, Door.LOCKED) == []


# The trade lifecycle, written out move by move: a change to the table must change this list.
TRADE_MOVES = [
    ("captured", "confirmation_matched", "confirmed"),
    ("captured", "confirmation_unmatched", "mismatched"),
    ("captured", "confirmed_locked_in", "confirmed"),
    ("captured", "amended", "captured"),
    ("captured", "cancelled", "cancelled"),
    ("confirmed", "confirmation_matched", "confirmed"),
    ("confirmed", "confirmation_unmatched", "mismatched"),
    ("confirmed", "amended", "captured"),
    ("confirmed", "cancelled", "cancelled"),
    ("confirmed", "cleared", "cleared"),
    ("mismatched", "confirmation_matched", "confirmed"),
    ("mismatched", "confirmation_unmatched", "mismatched"),
    ("mismatched", "amended", "captured"),
    ("mismatched", "cancelled", "cancelled"),
    ("cleared", "instructed", "instructed"),
    ("instructed", "partially_settled", "partially_settled"),
    ("instructed", "settled", "settled"),
    ("partially_settled", "partially_settled", "partially_settled"),
    ("partially_settled", "settled", "settled"),
]
ALLOWED = {(status, event) for status, event, _ in TRADE_MOVES}


def test_the_trade_table_is_exactly_the_documented_moves() -> None:
    rendered = sorted((str(s), str(e), str(t)) for (s, e), t in TRANSITIONS.items())
    assert rendered == sorted(TRADE_MOVES)


@pytest.mark.parametrize(("status", "event", "target"), TRADE_MOVES)
def test_every_allowed_trade_move(status: str, event: str, target: str) -> None:
    assert next_state(TRANSITIONS, TradeStatus(status), TradeEvent(event)) == TradeStatus(target)


REFUSED = [
    (status, event)
    for status, event in itertools.product(TradeStatus, TradeEvent)
    if (status.value, event.value) not in ALLOWED
]


def test_the_refused_pairs_are_the_rest_of_the_status_event_grid() -> None:
    assert len(TradeStatus) * len(TradeEvent) == 72
    assert len(REFUSED) == 72 - 19


@pytest.mark.parametrize(("status", "event"), REFUSED, ids=lambda v: str(v))
def test_every_trade_move_outside_the_table_is_refused(
    status: TradeStatus, event: TradeEvent
) -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_state(TRANSITIONS, status, event)
    assert caught.value.status == 409
    assert caught.value.detail == f"'{event}' is not allowed when the status is '{status}'"
    assert caught.value.extensions == {"current_status": str(status), "event": str(event)}


@pytest.mark.parametrize("status", [TradeStatus.CANCELLED, TradeStatus.SETTLED])
def test_cancelled_and_settled_are_terminal(status: TradeStatus) -> None:
    assert allowed_events(TRANSITIONS, status) == []


@pytest.mark.parametrize(
    ("status", "events"),
    [
        (
            "captured",
            [
                "confirmation_matched",
                "confirmation_unmatched",
                "confirmed_locked_in",
                "amended",
                "cancelled",
            ],
        ),
        (
            "confirmed",
            ["confirmation_matched", "confirmation_unmatched", "amended", "cancelled", "cleared"],
        ),
        ("mismatched", ["confirmation_matched", "confirmation_unmatched", "amended", "cancelled"]),
        ("cleared", ["instructed"]),
        ("instructed", ["partially_settled", "settled"]),
        ("partially_settled", ["partially_settled", "settled"]),
        ("settled", []),
        ("cancelled", []),
    ],
)
def test_allowed_trade_events_per_status(status: str, events: list[str]) -> None:
    allowed = allowed_events(TRANSITIONS, TradeStatus(status))
    assert sorted(allowed) == sorted(TradeEvent(event) for event in events)


def test_amend_and_cancel_only_before_clearing() -> None:
    amendable = {s for (s, e) in TRANSITIONS if e is TradeEvent.AMENDED}
    cancellable = {s for (s, e) in TRANSITIONS if e is TradeEvent.CANCELLED}
    before_clearing = {TradeStatus.CAPTURED, TradeStatus.CONFIRMED, TradeStatus.MISMATCHED}
    assert amendable == before_clearing
    assert cancellable == before_clearing
