"""Checking the trail: recompute the hash chain over a stretch of ``seq``."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.audit.chain import record_hash
from app.audit.models import GENESIS_HASH
from app.audit.sealing import hashed_fields

VERIFY_CHUNK = 1000


@dataclass(frozen=True)
class ChainCheck:
    """``ok`` when every sealed record checked recomputes to its hash and links to the one
    before; otherwise ``first_bad_seq`` names the first place that does not."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    last_seq: int
    last_hash: str


async def verify_chain(
    session: AsyncSession, *, first_seq: int = 1, last_seq: int | None = None
) -> ChainCheck:
    """Recompute every seal from ``first_seq`` to ``last_seq`` (the head when None), in order.

    The first record links to the hash stored before it (the genesis hash at ``seq`` 1): a
    stretch verifies on its own, and the whole chain is the stretch from 1.
    """
    expected_seq = max(first_seq, 1)
    if expected_seq == 1:
        previous = GENESIS_HASH
    else:
        before = await repository.seal_before(session, expected_seq)
        if before is None or before.seq != expected_seq - 1:
            return ChainCheck(False, 0, expected_seq - 1 if expected_seq > 1 else 1, 0, "")
        previous = before.hash
    checked = 0
    head_seq = expected_seq - 1
    while True:
        chunk = await repository.chain_slice(
            session, after_seq=expected_seq - 1, last_seq=last_seq, limit=VERIFY_CHUNK
        )
        for sealed in chunk:
            record, seal = sealed.record, sealed.seal
            recomputed = record_hash(hashed_fields(record, seq=seal.seq, prev_hash=previous))
            if seal.seq != expected_seq or seal.prev_hash != previous or seal.hash != recomputed:
                return ChainCheck(False, checked, expected_seq, head_seq, previous)
            previous, head_seq = seal.hash, seal.seq
            expected_seq, checked = expected_seq + 1, checked + 1
        session.expunge_all()
        if len(chunk) < VERIFY_CHUNK:
            break
    return ChainCheck(True, checked, None, head_seq, previous)
