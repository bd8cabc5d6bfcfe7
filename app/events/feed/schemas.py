from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.audit.feed import SealedEvent
from app.events.types import event_id


class EventData(BaseModel):
    before: dict[str, Any] | None = Field(description="The entity before; null when created.")
    after: dict[str, Any] | None = Field(description="The entity after the change.")


class EventOut(BaseModel):
    seq: int = Field(description="The event's place in the sealed chain: the feed's order.")
    event_id: str = Field(
        description="Stable: the same in the feed and in every webhook delivery (`webhook-id`)."
    )
    event_type: str = Field(examples=["trade.amended"])
    occurred_at: datetime
    entity_type: str
    entity_id: str
    data: EventData

    @classmethod
    def of(cls, event: SealedEvent) -> "EventOut":
        return cls(
            seq=event.seq,
            event_id=event_id(event.seq),
            event_type=event.event_type,
            occurred_at=event.occurred_at,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            data=EventData(before=event.before, after=event.after),
        )


class EventFeed(BaseModel):
    items: list[EventOut]
    next_after: int = Field(
        description="Pass as `after` for the next events: the last `seq` returned (the `after` "
        "you sent when there was none yet)."
    )
