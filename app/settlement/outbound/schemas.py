"""API models of outbound messages."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.settlement.outbound.states import MessageKind, MessageStatus


class OutboundMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    instruction_id: str
    kind: MessageKind = Field(
        description="`new` instructs; `cancel` withdraws `related_reference`."
    )
    format: str = Field(
        description="`sese.023.001.11`, `sese.020.001.07` (ISO 20022 XML with its head.001.001.02 "
        "header) or `MT540`..`MT543` (ISO 15022 block 4 text).",
        examples=["sese.023.001.11"],
    )
    reference: str = Field(
        description="Our reference (SEME): at most 16 SWIFT X characters, no leading or "
        "trailing `/`, no `//`. Every advice about the message names it."
    )
    related_reference: str | None = Field(
        description="A cancellation: the reference of the message it cancels."
    )
    content: str = Field(description="The message as written, never changed.")
    status: MessageStatus
    created_at: datetime
    claimed_at: datetime | None
    sent_at: datetime | None
    advised_at: datetime | None = Field(description="When the depository's answer was recorded.")
    status_reasons: list[dict[str, Any]] = Field(
        description="The depository's reasons for its processing status: `{code, text}`."
    )


class ClaimedOut(BaseModel):
    items: list[OutboundMessageOut]
