"""The trades booked under (book, external_id) pairs: what a batch's duplicates are told from."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.trades.capture import repository
from tests.conftest import Database
from tests.factories import trade_payload
from tests.support import Api


async def test_booked_ids_names_each_booked_pair_in_one_statement_on_postgresql(
    api: Api, db: Database, session: AsyncSession, reference: None
) -> None:
    items = [
        trade_payload(external_id="BK-1"),
        trade_payload(external_id="BK-2"),
        trade_payload(external_id="BK-1", book="FI-RATES"),
    ]
    response = await api.post("/trades/batch", json={"items": items}, role="trader")
    assert response.status_code == 200, response.text
    ids = [result["id"] for result in response.json()["results"]]
    unbooked = [(book, f"BK-NONE-{n}") for n in range(600) for book in ("EQ-FLOW", "FI-RATES")]
    keys = [("FI-RATES", "BK-2"), ("EQ-FLOW", "BK-2"), *unbooked, ("FI-RATES", "BK-1")]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    await session.connection()  # begun: only the queries are counted
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        booked = await repository.booked_ids(session, [*keys, ("EQ-FLOW", "BK-1")])
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)

    assert booked == {
        ("EQ-FLOW", "BK-1"): ids[0],
        ("EQ-FLOW", "BK-2"): ids[1],
        ("FI-RATES", "BK-1"): ids[2],
    }
    # Elsewhere one query per book and 500 keys.
    assert len(statements) == (1 if db.backend == "postgres" else 4)
