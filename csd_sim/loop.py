"""The simulator at work: claim our outbound messages, report each sent, feed it to the engine
and post its answers; on a settlement day, settle and post the confirmations and statuses.
``step`` and ``run_day`` are what tests drive (in process over ASGITransport or against a
server); ``run`` polls until stopped, for the ``settlement csd-sim`` command."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from csd_sim.answers import compose
from csd_sim.calendar import is_business_day
from csd_sim.client import OutboundMessage, Posted, ServiceClient
from csd_sim.engine import Engine
from csd_sim.messages.instruction import MalformedMessage
from csd_sim.messages.reading import family_of, read_instruction

# When ``run_day`` is not given the time of its settlement: the afternoon, in UTC.
SETTLEMENT_TIME = time(16, 0)


@dataclass
class StepReport:
    claimed: list[OutboundMessage] = field(default_factory=list)
    # Our references the simulator could not read (answered with a rejection).
    malformed: list[str] = field(default_factory=list)
    posted: list[Posted] = field(default_factory=list)

    def extend(self, other: "StepReport") -> None:
        self.claimed += other.claimed
        self.malformed += other.malformed
        self.posted += other.posted


class Simulator:
    def __init__(
        self,
        engine: Engine,
        client: ServiceClient,
        *,
        claim_limit: int = 100,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.claim_limit = claim_limit
        self.echo = echo or (lambda _line: None)

    def _receive(self, message: OutboundMessage, report: StepReport) -> None:
        try:
            instruction = read_instruction(
                message.format, message.content, reference=message.reference
            )
        except MalformedMessage as problem:
            report.malformed.append(message.reference)
            self.echo(f"rejected {message.reference}: {problem}")
            family = family_of(message.format)
            if self.engine.scenario.answer_format != "auto":
                family = self.engine.scenario.answer_format
            self.engine.reject(message.reference, problem, family=family)
            return
        self.engine.receive(instruction)

    async def _post_due(self, today: date, now: datetime, report: StepReport) -> None:
        for answer in self.engine.take(today):
            outgoing = compose(
                answer,
                scenario=self.engine.scenario,
                message_id=self.engine.ids.next_message(),
                now=now,
            )
            posted = await self.client.post_advice(outgoing)
            report.posted.append(posted)
            verdict = (
                "" if posted.accepted else f" refused ({posted.status_code}): {posted.problem}"
            )
            self.echo(f"posted {outgoing.message_id} for {answer.advice.our_reference}{verdict}")

    async def step(self, today: date, now: datetime) -> StepReport:
        """Claim every pending outbound message (a batch at a time), mark each sent, answer."""
        report = StepReport()
        while True:
            batch = await self.client.claim(self.claim_limit)
            for message in batch:
                await self.client.mark_sent(message.id)
                report.claimed.append(message)
                self._receive(message, report)
            if len(batch) < self.claim_limit:
                break
        await self._post_due(today, now, report)
        return report

    async def run_day(self, day: date, now: datetime | None = None) -> StepReport:
        """``step``, then the day's settlement (at ``now``, by default 16:00 UTC on ``day``)
        and its answers, the late confirmations that fall due that day included."""
        moment = now or datetime.combine(day, SETTLEMENT_TIME, tzinfo=UTC)
        report = await self.step(day, moment)
        self.engine.settle_day(day, moment)
        settled = StepReport()
        await self._post_due(day, moment, settled)
        report.extend(settled)
        return report

    async def run(
        self,
        *,
        clock: Callable[[], datetime],
        poll_interval: float,
        day: date | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Until ``stop`` is set: ``run_day`` for ``day`` (the clock's UTC date if None) every
        ``poll_interval`` seconds; settlement is continuous, as at T2S, and a status is only
        posted when it changes."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            now = clock()
            await self.run_day(day or now.astimezone(UTC).date(), now)
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_interval)
            except TimeoutError:
                continue


def business_days(start: date, count: int, holidays: frozenset[date]) -> list[date]:
    """``count`` business days from ``start`` (``start`` included when it is one)."""
    days: list[date] = []
    day = start
    while len(days) < count:
        if is_business_day(day, holidays):
            days.append(day)
        day += timedelta(days=1)
    return days
