"""``GET /events``: the event feed, read from the sealed trail."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import Uow
from app.core.errors import problem_responses
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.events.auth import EventsRead
from app.events.feed import service
from app.events.feed.schemas import EventFeed, EventOut
from app.events.types import PATTERN_SYNTAX

MAX_SEQ = 2**63 - 1  # a BIGINT: larger is a 422, not a database error

router = APIRouter(prefix="/events", tags=["Events"])


@router.get(
    "",
    response_model=EventFeed,
    responses=problem_responses(),
    summary="The event feed, in seal order, after a seq",
    description=(
        "Every change of state is an event, published once the sealer has chained it (well "
        "under a second after its commit), in that order (`seq`): not in the order of commits "
        "or ids, so a consumer that passes the last `seq` it processed as `after` never skips "
        "an event that committed late. Start at `after=0`; keep `next_after`.\n\n"
        "Delivery is **at least once** on the consumer's side: after a crash, resume from the "
        "last `seq` you stored *after* processing, and skip an `event_id` you already "
        "processed. Events of one entity come in the order they happened.\n\n"
        f"`types`: comma-separated, each {PATTERN_SYNTAX}. An event's type is "
        "`<entity_type>.<action>` (`trade.captured`, `trade.amended`, "
        "`settlement_instruction.settled`, `webhook_subscription.paused`...)."
    ),
)
async def read_events(
    uow: Uow,
    _actor: EventsRead,
    after: Annotated[
        int, Query(ge=0, le=MAX_SEQ, description="The last `seq` you have; events after it.")
    ] = 0,
    types: Annotated[
        str | None,
        Query(min_length=1, max_length=4000, examples=["trade.*,settlement_instruction.settled"]),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> EventFeed:
    wanted = service.parse_types(types)
    events = await service.read_feed(uow.session, after=after, types=wanted, limit=limit)
    return EventFeed(
        items=[EventOut.of(event) for event in events],
        next_after=events[-1].seq if events else after,
    )
