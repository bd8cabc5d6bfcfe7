"""The break lifecycle as data.

A break is ``open`` until operations explain it (``explained``), propose writing it off
(``write_off_proposed``: an adjustment awaits its four-eyes decision; approval makes it
``written_off``, rejection opens it again), or a later statement or booking matches what it
was about (``closed``; a later run closes it the same way when its items form another break
or its difference is gone, and reopens a closed break whose match was undone)."""

from collections.abc import Mapping
from enum import StrEnum


class BreakStatus(StrEnum):
    OPEN = "open"
    EXPLAINED = "explained"
    WRITE_OFF_PROPOSED = "write_off_proposed"
    WRITTEN_OFF = "written_off"
    CLOSED = "closed"


class BreakEvent(StrEnum):
    EXPLAINED = "explained"
    WRITE_OFF_PROPOSED = "write_off_proposed"
    WRITE_OFF_APPROVED = "write_off_approved"
    WRITE_OFF_REJECTED = "write_off_rejected"
    MATCHED = "matched"
    # Found by a run: its items now form another break, or its difference is gone.
    SUPERSEDED = "superseded"
    RESOLVED = "resolved"
    # The match that closed it was undone, and a run found the difference again.
    FOUND_AGAIN = "found_again"


BREAK_TRANSITIONS: Mapping[tuple[BreakStatus, BreakEvent], BreakStatus] = {
    (BreakStatus.OPEN, BreakEvent.EXPLAINED): BreakStatus.EXPLAINED,
    (BreakStatus.OPEN, BreakEvent.WRITE_OFF_PROPOSED): BreakStatus.WRITE_OFF_PROPOSED,
    (BreakStatus.WRITE_OFF_PROPOSED, BreakEvent.WRITE_OFF_APPROVED): BreakStatus.WRITTEN_OFF,
    (BreakStatus.WRITE_OFF_PROPOSED, BreakEvent.WRITE_OFF_REJECTED): BreakStatus.OPEN,
    (BreakStatus.OPEN, BreakEvent.MATCHED): BreakStatus.CLOSED,
    (BreakStatus.EXPLAINED, BreakEvent.MATCHED): BreakStatus.CLOSED,
    (BreakStatus.OPEN, BreakEvent.SUPERSEDED): BreakStatus.CLOSED,
    (BreakStatus.OPEN, BreakEvent.RESOLVED): BreakStatus.CLOSED,
    (BreakStatus.CLOSED, BreakEvent.FOUND_AGAIN): BreakStatus.OPEN,
}

# Who owns a break matters while there is still work on it.
ASSIGNABLE = frozenset({BreakStatus.OPEN, BreakStatus.WRITE_OFF_PROPOSED})
