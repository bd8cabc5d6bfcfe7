"""Checking the trail: recompute the hash chain over a stretch of ``seq``, find the stretch a
time window covers, and compare the current rows with their last audited state."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository, sealing
from app.audit.chain import record_hash
from app.audit.drift import AuditedTable, DriftReport, find_drift
from app.audit.models import GENESIS_HASH, AuditRecord, AuditSeal
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


async def anchor(session: AsyncSession, first_seq: int) -> str | None:
    """The hash a stretch starting at ``first_seq`` links to: the genesis hash at ``seq`` 1,
    else the stored hash of the seal just before; None when that seal is missing."""
    if first_seq <= 1:
        return GENESIS_HASH
    before = await repository.seal_before(session, first_seq)
    return before.hash if before is not None and before.seq == first_seq - 1 else None


class ChainWalk:
    """Walks sealed records in ``seq`` order from ``first_seq``, recomputing each hash, and
    keeps the first place that does not match (wrong place, broken link or changed content).
    After it, the walk goes on from the stored hashes, so every later record is still read."""

    def __init__(self, first_seq: int, previous: str) -> None:
        self.expected_seq = first_seq
        self.previous = previous
        self.checked = 0
        self.first_bad_seq: int | None = None

    def step(self, record: AuditRecord, seal: AuditSeal) -> bool:
        """Check one record; False if it is the first that does not match."""
        recomputed = record_hash(hashed_fields(record, seq=seal.seq, prev_hash=self.previous))
        good = (
            seal.seq == self.expected_seq
            and seal.prev_hash == self.previous
            and seal.hash == recomputed
        )
        first_bad = not good and self.first_bad_seq is None
        if first_bad:
            self.first_bad_seq = self.expected_seq
        else:
            self.checked += 1
        self.previous, self.expected_seq = seal.hash, seal.seq + 1
        return not first_bad


async def verify_chain(
    session: AsyncSession, *, first_seq: int = 1, last_seq: int | None = None
) -> ChainCheck:
    """Recompute every seal from ``first_seq`` to ``last_seq`` (the head when None), in order.

    The first record links to the hash stored before it (the genesis hash at ``seq`` 1): a
    stretch verifies on its own, and the whole chain is the stretch from 1.
    """
    first_seq = max(first_seq, 1)
    previous = await anchor(session, first_seq)
    if previous is None:
        return ChainCheck(False, 0, first_seq - 1, 0, "")
    walk = ChainWalk(first_seq, previous)
    while True:
        head_seq, head_hash = walk.expected_seq - 1, walk.previous
        chunk = await repository.chain_slice(
            session, after_seq=walk.expected_seq - 1, last_seq=last_seq, limit=VERIFY_CHUNK
        )
        for sealed in chunk:
            if not walk.step(sealed.record, sealed.seal):
                return ChainCheck(False, walk.checked, walk.first_bad_seq, head_seq, head_hash)
            head_seq, head_hash = walk.expected_seq - 1, walk.previous
        session.expunge_all()
        if len(chunk) < VERIFY_CHUNK:
            break
    return ChainCheck(True, walk.checked, None, walk.expected_seq - 1, walk.previous)


@dataclass(frozen=True)
class Stretch:
    """The seals a time window covers: ``first_seq`` to ``last_seq`` (empty when first comes
    after last). ``last_hash`` is the hash at ``last_seq``: the chain's head as it stood at the
    window's end (the current head for an open window)."""

    first_seq: int
    last_seq: int
    last_hash: str

    @property
    def empty(self) -> bool:
        return self.first_seq > self.last_seq


async def stretch_of(
    session: AsyncSession, *, sealed_from: datetime | None, sealed_to: datetime | None
) -> Stretch:
    """The records sealed at or after ``sealed_from`` and before ``sealed_to`` (either open).

    One sealer seals in ``seq`` order, so ``sealed_at`` rises with ``seq`` and a window of
    time is one contiguous stretch of the chain.
    """
    head_seq, head_hash = await repository.chain_head(session)
    last_seq, last_hash = head_seq, head_hash
    if sealed_to is not None:
        last_seq, last_hash = await repository.last_seal_before(session, sealed_to) or (
            0,
            GENESIS_HASH,
        )
    first_seq = 1
    if sealed_from is not None:
        found = await repository.first_seq_sealed_from(session, sealed_from)
        first_seq = head_seq + 1 if found is None else found
    return Stretch(first_seq, last_seq, last_hash)


@dataclass(frozen=True)
class TrailCheck:
    """What ``GET /audit/verify`` answers: the chain over the stretch, the records waiting for
    the sealer, and the drift (None when not asked for)."""

    stretch: Stretch
    chain: ChainCheck
    head_seq: int
    head_hash: str
    unsealed: int
    drift: DriftReport | None

    @property
    def ok(self) -> bool:
        return self.chain.ok and (self.drift is None or self.drift.count == 0)


async def verify_trail(
    session: AsyncSession,
    *,
    sealed_from: datetime | None,
    sealed_to: datetime | None,
    tables: Iterable[AuditedTable] | None,
    now: datetime,
) -> TrailCheck:
    """Verify the chain over the stretch sealed in the window and, unless ``tables`` is None,
    compare every row of those tables with its last audited state.

    Give the session one snapshot of the database (``core.db.read_snapshot``): the head, the
    stretch, the backlog and the rows then all describe one moment.
    """
    head_seq, head_hash = await repository.chain_head(session)
    stretch = await stretch_of(session, sealed_from=sealed_from, sealed_to=sealed_to)
    if stretch.empty:
        chain = ChainCheck(True, 0, None, stretch.last_seq, stretch.last_hash)
    else:
        chain = await verify_chain(session, first_seq=stretch.first_seq, last_seq=stretch.last_seq)
    waiting = await sealing.backlog(session, now=now)
    drift = None if tables is None else await find_drift(session, tables)
    return TrailCheck(stretch, chain, head_seq, head_hash, waiting.unsealed, drift)
