"""Two gateways claiming at once never take the same message (PostgreSQL, SKIP LOCKED); the
file gateway (``settlement outbound export``) writes each claimed message and reports it sent
only once its file is on disk."""

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.auth import SYSTEM_ACTOR
from app.core.db import UnitOfWork
from app.settlement.outbound import export, repository, service
from app.settlement.outbound.models import OutboundMessage
from tests.conftest import Database
from tests.settlement.outbound.support import XETRA, instructed, messages_of
from tests.support import Api, FrozenClock

LEASE = timedelta(minutes=5)


async def _copies(db: Database, message_id: str, count: int, clock: FrozenClock) -> None:
    """``count`` more pending messages like this one (other references), oldest first."""
    async with db.sessionmaker() as session, UnitOfWork(session):
        original = await repository.get(session, message_id)
        assert original is not None
        copies = []
        for n in range(count):
            copy = OutboundMessage(
                **{
                    c: getattr(original, c)
                    for c in ("instruction_id", "kind", "format", "content", "status_reasons")
                },
                id=f"om_copy{n:03d}",
                reference=f"COPY{n:012d}",
                related_reference=None,
                status="pending",
                created_at=clock() + timedelta(seconds=n + 1),
                version=1,
            )
            copies.append(copy)
        await repository.add_all(session, copies)


async def test_two_gateways_claiming_at_once_never_share_a_message(
    api: Api, db: Database, reference: None, clock: FrozenClock
) -> None:
    if db.backend != "postgres":
        pytest.skip("concurrent claimers: SKIP LOCKED is PostgreSQL's")
    instruction = await instructed(api)
    [first] = await messages_of(api, instruction["id"])
    await _copies(db, first["id"], 11, clock)
    start = asyncio.Event()

    async def gateway() -> list[str]:
        async with db.sessionmaker() as session, UnitOfWork(session):
            await start.wait()
            claimed = await service.claim(
                session, limit=5, lease=LEASE, actor=SYSTEM_ACTOR, now=clock()
            )
            await asyncio.sleep(0.2)  # hold the locks while the other claims
            return [m.id for m in claimed]

    tasks = [asyncio.create_task(gateway()) for _ in range(2)]
    await asyncio.sleep(0.05)
    start.set()
    one, other = await asyncio.gather(*tasks)

    assert (len(one), len(other)) == (5, 5)
    assert set(one).isdisjoint(other)
    async with db.sessionmaker() as session, UnitOfWork(session):
        rest = await service.claim(session, limit=100, lease=LEASE, actor=SYSTEM_ACTOR, now=clock())
    assert len(rest) == 2
    assert set(one) | set(other) | {m.id for m in rest} == {first["id"]} | {
        f"om_copy{n:03d}" for n in range(11)
    }


async def test_export_writes_one_file_per_message_then_reports_it_sent(
    api: Api, db: Database, reference: None, clock: FrozenClock, tmp_path: Path
) -> None:
    paris = await instructed(api)
    xetra = await instructed(api, **XETRA)

    exported = await export.export(
        db.sessionmaker, directory=tmp_path, limit=10, actor=SYSTEM_ACTOR, clock=clock
    )

    [sese] = await messages_of(api, paris["id"])
    [mt] = await messages_of(api, xetra["id"])
    assert exported.written == [
        tmp_path / f"{sese['reference']}.xml",
        tmp_path / f"{mt['reference']}.fin",
    ]
    files = {path.name: path.read_bytes() for path in sorted(tmp_path.iterdir())}  # noqa: ASYNC240
    assert files == {
        f"{sese['reference']}.xml": sese["content"].encode(),
        f"{mt['reference']}.fin": mt["content"].encode(),
    }
    assert (sese["status"], mt["status"]) == ("sent", "sent")


async def test_a_message_whose_file_fails_stays_claimed_until_the_lease_ends(
    api: Api, db: Database, reference: None, clock: FrozenClock, tmp_path: Path
) -> None:
    instruction = await instructed(api)

    def full_disk(directory: Path, name: str, content: str) -> Path:
        raise OSError(28, "No space left on device")

    failed = await export.export(
        db.sessionmaker,
        directory=tmp_path,
        limit=10,
        actor=SYSTEM_ACTOR,
        clock=clock,
        writer=full_disk,
    )
    [message] = await messages_of(api, instruction["id"])
    assert (failed.written, list(failed.failed)) == ([], [message["id"]])
    assert message["status"] == "claimed"

    soon = await export.export(
        db.sessionmaker, directory=tmp_path, limit=10, actor=SYSTEM_ACTOR, clock=clock
    )
    clock.advance(minutes=6)
    later = await export.export(
        db.sessionmaker, directory=tmp_path, limit=10, actor=SYSTEM_ACTOR, clock=clock
    )

    assert (soon.written, [p.name for p in later.written]) == (
        [],
        [f"{message['reference']}.xml"],
    )
    [message] = await messages_of(api, instruction["id"])
    assert message["status"] == "sent"
