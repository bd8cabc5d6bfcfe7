"""Settlement test helpers: the demo SSIs and changes to them (through the API), instructions
made by clearing, enrichment, and the audit trail and outbox of one entity."""

from typing import Any

import httpx
from sqlalchemy import select

from app.audit.models import AuditRecord
from tests.clearing.support import OPS, book_confirmed, clear, instructions
from tests.conftest import Database
from tests.factories import bund_trade_payload
from tests.reference.factories import ssi_payload
from tests.support import Api

INSTRUCTIONS = "/settlement-instructions"
ENTITY = "settlement_instruction"
CLEARED_AT = "2026-11-25T15:00:00Z"  # the frozen clock: when clearing made the instructions


def bund(**overrides: Any) -> dict[str, Any]:
    """``bund_trade_payload`` as overrides for ``book_confirmed`` (which adds its own id)."""
    payload = bund_trade_payload(**overrides)
    del payload["external_id"]
    return payload


async def book_and_clear(api: Api, *trades: dict[str, Any]) -> list[dict[str, Any]]:
    """Book and confirm each trade (``book_confirmed`` overrides), clear every settlement date
    they fall on; returns the booked trades."""
    booked = [await book_confirmed(api, **overrides) for overrides in trades]
    for settlement_date in sorted({t["settlement_date"] for t in booked}):
        await clear(api, settlement_date)
    return booked


async def instruction_of(api: Api, trade: dict[str, Any]) -> dict[str, Any]:
    """The one instruction of the obligation the (cleared) trade settles in."""
    response = await api.get(f"/trades/{trade['id']}", role=OPS)
    assert response.status_code == 200, response.text
    obligation_id = response.json()["obligation_id"]
    assert obligation_id is not None, response.text
    found = await instructions(api, obligation_id=obligation_id)
    assert len(found) == 1, found
    return found[0]


async def get_instruction(api: Api, instruction_id: str) -> dict[str, Any]:
    response = await api.get(f"{INSTRUCTIONS}/{instruction_id}", role=OPS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def enrich(api: Api, instruction_id: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("role", OPS)
    return await api.post(f"{INSTRUCTIONS}/{instruction_id}/enrich", **kwargs)


# SSIs --------------------------------------------------------------------------------------


async def demo_ssi(api: Api, counterparty_lei: str, mic: str) -> dict[str, Any]:
    """The counterparty's one demo SSI for the market."""
    response = await api.get(
        "/ssis", params={"counterparty_lei": counterparty_lei, "mic": mic}, role=OPS
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    assert len(items) == 1, items
    return items[0]


def as_instructed(ssi: dict[str, Any]) -> dict[str, Any]:
    """The SSI as an instruction carries it (``counterparty_ssi``)."""
    return {key: ssi[key] for key in ("id", "place_of_settlement", "agent_bic", "account")}


async def add_ssi(api: Api, **overrides: Any) -> dict[str, Any]:
    """POST /ssis with ``ssi_payload(**overrides)``; returns the SSI."""
    response = await api.post("/ssis", json=ssi_payload(**overrides), role=OPS)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def remove_ssis(api: Api, *ssi_ids: str) -> None:
    """DELETE /ssis/{id} for each SSI, with the version it is at."""
    for ssi_id in ssi_ids:
        read = await api.get(f"/ssis/{ssi_id}", role=OPS)
        assert read.status_code == 200, read.text
        response = await api.delete(
            f"/ssis/{ssi_id}", headers={"If-Match": read.headers["etag"]}, role=OPS
        )
        assert response.status_code == 204, response.text


# Audit and outbox --------------------------------------------------------------------------


async def audit_trail(db: Database, entity_id: str) -> list[AuditRecord]:
    async with db.sessionmaker() as session:
        statement = (
            select(AuditRecord).where(AuditRecord.entity_id == entity_id).order_by(AuditRecord.id)
        )
        return list((await session.scalars(statement)).all())


async def outbox(db: Database, entity_id: str) -> list[AuditRecord]:
    """The entity's records that publish an event (the trail is the outbox)."""
    return [record for record in await audit_trail(db, entity_id) if record.event_type]
