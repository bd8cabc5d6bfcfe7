"""The event feed: sealed events after a ``seq``, of the types asked for, in seal order."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.feed import EVERY_TYPE, SealedEvent, TypeFilter, events_after
from app.core.errors import FieldProblem, ValidationFailed
from app.events.types import MAX_PATTERNS, pattern_problem, select_types


def parse_types(raw: str | None) -> TypeFilter:
    """``types=trade.amended,trade.*``: comma-separated patterns (``app.events.types``); a
    malformed one is a 422 naming it. None (no parameter) is every type."""
    if raw is None:
        return EVERY_TYPE
    patterns = [part.strip() for part in raw.split(",")]
    problems = [
        FieldProblem("types", f"'{pattern}' {problem}")
        for pattern in patterns
        if (problem := pattern_problem(pattern) if pattern else "is empty") is not None
    ]
    if len(patterns) > MAX_PATTERNS:
        problems.append(FieldProblem("types", f"at most {MAX_PATTERNS} patterns"))
    if problems:
        raise ValidationFailed("The event types are not valid.", errors=problems)
    selection = select_types(patterns)
    return TypeFilter(exact=selection.exact, prefixes=selection.prefixes)


async def read_feed(
    session: AsyncSession, *, after: int, types: TypeFilter, limit: int
) -> list[SealedEvent]:
    return await events_after(session, after=after, types=types, limit=limit)
