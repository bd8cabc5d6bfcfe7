"""Applying a state machine's transition table; the only place a status changes."""

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from app.core.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


def next_state(transitions: Mapping[tuple[S, E], S], current: S, event: E) -> S:
    """The state after ``event``, or ``InvalidTransition`` (409) naming both."""
    try:
        return transitions[(current, event)]
    except KeyError:
        raise InvalidTransition(
            f"'{event}' is not allowed when the status is '{current}'",
            current_status=str(current),
            event=str(event),
        ) from None


def allowed_events(transitions: Mapping[tuple[S, E], S], current: S) -> list[E]:
    return [event for (state, event) in transitions if state == current]
