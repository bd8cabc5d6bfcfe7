"""One unit of work per request: the commit happens before the answer, or nothing is booked."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from app.audit.models import AuditRecord
from app.core.db import REQUEST_SESSIONS_SCOPE_KEY, UnitOfWork, get_uow
from app.reference.rates.models import PenaltyRate
from app.trades.capture.models import Trade
from tests.conftest import Database
from tests.factories import trade_payload
from tests.support import Api

PROBLEMS = "https://settlement.example/problems/"


def _failing_commit(error: Exception) -> Any:
    async def commit(self: AsyncSession) -> None:
        raise error

    return commit


async def _count(db: Database, model: Any) -> int:
    async with db.sessionmaker() as session:
        return int((await session.scalar(select(func.count()).select_from(model))) or 0)


async def test_a_failed_commit_is_a_503_and_books_nothing(
    api: Api, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit_before = await _count(db, AuditRecord)
    monkeypatch.setattr(
        AsyncSession,
        "commit",
        _failing_commit(OperationalError("commit", {}, Exception("disk full"))),
    )
    response = await api.post("/trades", json=trade_payload(), role="trader")
    monkeypatch.undo()

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "type": PROBLEMS + "service-unavailable",
        "title": "The service cannot answer right now",
        "status": 503,
        "detail": "The database did not answer; retry shortly.",
        "instance": "/api/v1/trades",
    }
    listed = await api.get("/trades", role="trader")
    assert listed.status_code == 200
    assert listed.json() == {"items": [], "next_cursor": None}
    assert await _count(db, Trade) == 0
    assert await _count(db, AuditRecord) == audit_before


async def test_a_commit_lost_to_a_concurrent_writer_is_a_409(
    api: Api, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        AsyncSession,
        "commit",
        _failing_commit(IntegrityError("INSERT", {}, Exception("duplicate key"))),
    )
    response = await api.post("/trades", json=trade_payload(), role="trader")
    monkeypatch.undo()

    assert response.status_code == 409, response.text
    assert response.json() == {
        "type": PROBLEMS + "conflict",
        "title": "Conflict with the current state",
        "status": 409,
        "detail": "The change conflicts with data written at the same time; retry it.",
        "instance": "/api/v1/trades",
    }
    assert await _count(db, Trade) == 0


async def test_after_a_failed_commit_the_same_idempotency_key_books_for_real(
    api: Api, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = trade_payload()
    headers = {"Idempotency-Key": "uow-retry-1"}
    monkeypatch.setattr(
        AsyncSession,
        "commit",
        _failing_commit(OperationalError("commit", {}, Exception("disk full"))),
    )
    failed = await api.post("/trades", json=payload, headers=headers, role="trader")
    monkeypatch.undo()
    assert failed.status_code == 503

    retried = await api.post("/trades", json=payload, headers=headers, role="trader")
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert retried.json()["external_id"] == payload["external_id"]
    assert await _count(db, Trade) == 1


class _RecordingSession:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def commit(self) -> None:
        self.calls.append("commit")

    async def rollback(self) -> None:
        self.calls.append("rollback")


async def test_unit_of_work_commits_when_the_block_succeeds() -> None:
    session = _RecordingSession()
    async with UnitOfWork(session) as uow:  # type: ignore[arg-type]
        assert cast(object, uow.session) is session
    assert session.calls == ["commit"]


async def test_unit_of_work_rolls_back_and_reraises_when_the_block_fails() -> None:
    session = _RecordingSession()
    with pytest.raises(LookupError, match=r"^no such trade$"):
        async with UnitOfWork(session):  # type: ignore[arg-type]
            raise LookupError("no such trade")
    assert session.calls == ["rollback"]


async def test_unit_of_work_writes_nothing_when_the_block_fails(db: Database) -> None:
    before = await _count(db, PenaltyRate)

    async def flush_then_fail() -> None:
        async with db.sessionmaker() as session, UnitOfWork(session):
            session.add(
                PenaltyRate(
                    id="pnr_uow_test",
                    csdr_class="other",
                    rate=Decimal("0.0002"),
                    effective_from=date(2027, 1, 1),
                    created_at=datetime(2026, 11, 25, tzinfo=UTC),
                )
            )
            await session.flush()
            raise RuntimeError("after the flush")

    with pytest.raises(RuntimeError, match=r"^after the flush$"):
        await flush_then_fail()
    assert await _count(db, PenaltyRate) == before == 8


async def test_unit_of_work_makes_flushed_work_durable(db: Database) -> None:
    async with db.sessionmaker() as session, UnitOfWork(session):
        session.add(
            PenaltyRate(
                id="pnr_uow_test",
                csdr_class="other",
                rate=Decimal("0.0002"),
                effective_from=date(2027, 1, 1),
                created_at=datetime(2026, 11, 25, tzinfo=UTC),
            )
        )
    assert await _count(db, PenaltyRate) == 9


class _DriverError(Exception):
    """What a PostgreSQL driver raises, with the server's SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "error",
    [
        DBAPIError("connect", {}, _DriverError("sorry, too many clients already", "53300")),
        DBAPIError("connect", {}, _DriverError("the database system is starting up", "57P03")),
        DBAPIError("commit", {}, _DriverError("connection is closed", "08003")),
        PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),
    ],
    ids=["too-many-clients", "starting-up", "connection-lost", "pool-exhausted"],
)
async def test_no_connection_to_be_had_is_a_503_to_retry(
    api: Api, reference: None, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    monkeypatch.setattr(AsyncSession, "commit", _failing_commit(error))
    response = await api.post("/trades", json=trade_payload(), role="trader")
    monkeypatch.undo()

    assert (response.status_code, response.headers["retry-after"]) == (503, "5"), response.text
    assert response.json()["type"] == PROBLEMS + "service-unavailable"


async def test_a_database_error_that_is_not_about_connections_stays_a_500(
    api: Api, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = DBAPIError("INSERT", {}, _DriverError("numeric field overflow", "22003"))
    monkeypatch.setattr(AsyncSession, "commit", _failing_commit(error))
    response = await api.post("/trades", json=trade_payload(), role="trader")
    monkeypatch.undo()

    assert response.status_code == 500, response.text
    assert response.json()["type"] == PROBLEMS + "internal-error"


async def test_every_request_gives_its_connection_back_answered_or_refused(
    api: Api, app: Any, reference: None
) -> None:
    """The request's session is closed by the ``RequestSessions`` middleware, not by a
    dependency's exit: what a request connected goes back to the pool once it is answered."""
    pool = app.state.engine.sync_engine.pool
    listed = await api.get("/trades", role="trader")  # reads on the request's session
    assert listed.status_code == 200, listed.text
    missing = await api.get("/trades/trd_00000000000000000000000000", role="trader")
    assert missing.status_code == 404, missing.text  # read, then refused
    payload = trade_payload()
    booked = await api.post("/trades", json=payload, role="trader")
    assert booked.status_code == 201, booked.text
    refused = await api.post("/trades", json=payload, role="trader")
    assert refused.status_code == 409, refused.text  # the same external_id again
    assert pool.checkedout() == 0


async def test_a_grouped_capture_makes_no_session_for_its_request(
    api: Api, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its key and the reference data are read outside any session (PostgreSQL) and the group
    books in a session of its own: the request's, made anyway, cost 10-15 us of CPU."""
    await api.post("/trades", json=trade_payload(external_id="WARM-1"), role="trader")
    made: list[AsyncSession] = []
    original = AsyncSession.__init__

    def counted(self: AsyncSession, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(AsyncSession, "__init__", counted)
    response = await api.post("/trades", json=trade_payload(), role="trader")
    monkeypatch.undo()

    assert response.status_code == 201, response.text
    # PostgreSQL: the group's session alone; SQLite (no groups): the request's, which books.
    assert len(made) == 1


async def test_a_request_unit_of_work_makes_its_session_at_first_use(
    app: Any, db: Database
) -> None:
    sessions: list[AsyncSession] = []
    scope = {"type": "http", "app": app, REQUEST_SESSIONS_SCOPE_KEY: sessions}
    uow = await get_uow(Request(scope))

    assert await get_uow(Request(scope)) is uow  # one per request, whoever asks
    assert uow.bind is app.state.sessionmaker.kw["bind"]
    async with uow:  # nothing done in it: nothing to commit, no session made
        pass
    assert (uow.made_session, sessions) == (None, [])

    session = uow.session
    assert (uow.made_session, sessions) == (session, [session])
    assert uow.session is session
    await session.close()
