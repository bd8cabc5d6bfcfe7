"""A file-based gateway: claim pending messages and write each to a directory, one file per
message named by its reference (``.xml`` for ISO 20022, ``.fin`` for ISO 15022). A message is
reported sent only once its file is on disk (written, fsynced, renamed into place, the
directory fsynced); one whose file could not be written stays claimed and is claimed again
after the lease."""

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.auth import Actor
from app.core.clock import Clock
from app.core.db import UnitOfWork
from app.settlement.outbound import service
from app.settlement.outbound.models import OutboundMessage


def file_name(message: OutboundMessage) -> str:
    suffix = ".fin" if message.format.startswith("MT") else ".xml"
    return message.reference + suffix


def write_durably(directory: Path, name: str, content: str) -> Path:
    """``content`` (UTF-8, bytes as written) in ``directory/name``, on disk before this
    returns: a temporary file fsynced, renamed into place, then the directory fsynced."""
    target = directory / name
    temporary = directory / f".{name}.part"
    with open(temporary, "wb") as handle:
        handle.write(content.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return target


@dataclass
class Exported:
    written: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # message id -> why


async def export(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    directory: Path,
    limit: int,
    actor: Actor,
    clock: Clock,
    writer: Callable[[Path, str, str], Path] = write_durably,
) -> Exported:
    """Claim up to ``limit`` messages (committed), write their files, report each sent (one
    transaction each) once its file is written."""
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    async with sessionmaker() as session, UnitOfWork(session):
        claimed = await service.claim(
            session, limit=limit, lease=service.lease(), actor=actor, now=clock()
        )
        work = [(m.id, file_name(m), m.content) for m in claimed]
    exported = Exported()
    for message_id, name, content in work:
        try:
            path = await asyncio.to_thread(writer, directory, name, content)
        except OSError as error:
            exported.failed[message_id] = str(error)
            continue
        async with sessionmaker() as session, UnitOfWork(session):
            await service.mark_sent(session, message_id=message_id, actor=actor, now=clock())
        exported.written.append(path)
    return exported
