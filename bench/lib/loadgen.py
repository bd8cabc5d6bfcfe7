"""A lean HTTP/1.1 load generator in a process of its own, so that its CPU is its own (and
reported) rather than the bench's, and a Python client's cost per request does not cap what the
server is measured at.

The bench builds every request as bytes (``http1.request_bytes``) and hands a ``Job`` over
(pickled, in a file); the generator (``python -m bench.lib.loadgen DIR``) opens its keep-alive
connections, sends the warm-up requests on them, says ``ready`` and waits for ``go`` on stdin,
so the bench starts its meters on warm connections; then it runs the load, says ``done`` and
writes the ``Outcome``.

- Closed loop (no schedule): ``connections`` connections, connection i to ``targets[i % len]``;
  each sends the next request not yet taken when its previous answer has come. Latency from the
  send.
- Open loop (``schedule``: send times in seconds from the start, drawn in advance): request i
  leaves at its time, to ``targets[i % len]``, on an idle warm connection to it, or on one opened
  then when all are busy (counted in ``Outcome.opened``). Latency from the *scheduled* time, so
  a late send or a queue shows in full (no coordinated omission); ``send_lag`` says how late
  each left.
"""

from __future__ import annotations

import asyncio
import math
import pickle
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bench.lib.db import PROJECT_ROOT
from bench.lib.http1 import Response, ResponseParser

LOST = -1  # status of a request whose connection closed before its answer
UNANSWERED = -2  # no answer by the end of the drain (open loop)
NOT_SENT = -3  # closed loop: still waiting for a connection when ``seconds`` were over
Clock = Callable[[], float]


@dataclass
class Job:
    targets: list[tuple[str, int]]  # (host, port) of each server
    requests: list[bytes]
    connections: int  # opened and warmed before the load (closed loop: all it uses)
    warm: list[bytes] = field(default_factory=list)  # sent closed loop before ``ready``
    schedule: list[float] | None = None  # open loop: send times, seconds from the start
    keep_bodies: bool | list[bool] = False  # all, none, or per request
    seconds: float | None = None  # closed loop: no request sent after this long (NOT_SENT)
    drain: float = 600.0  # open loop: seconds after the last send that answers are waited for


@dataclass
class Outcome:
    """Per request, in the order of ``Job.requests``: its status (or LOST, UNANSWERED, NOT_SENT),
    latency in seconds, when it ended (seconds from the start of the load), the index of the
    target it went to, and its body when kept (else b"")."""

    statuses: list[int]
    latencies: list[float]
    ended: list[float]
    targets: list[int]
    bodies: list[bytes]
    warm_statuses: list[int]
    cpu: float  # the generator's CPU seconds from ``go`` to ``done``
    wall: float
    connections: int  # warm ones and those opened during the load
    opened: int  # opened during the load: all idle ones busy (open loop) or one closed
    send_lag: list[float]  # open loop: each send's actual less its scheduled time

    @property
    def cpu_ms(self) -> float:
        """The generator's CPU per request, in ms."""
        sent = len(self.statuses) - self.count(NOT_SENT)
        return 1000 * self.cpu / sent if sent else 0.0

    def count(self, status: int) -> int:
        return sum(s == status for s in self.statuses)


class Sender(Protocol):
    """A connection as the drivers see it."""

    target: int
    open: bool
    sent: float

    def send(self, index: int, payload: bytes) -> None: ...


class Connection(asyncio.Protocol):
    def __init__(self, driver: Driver, target: int) -> None:
        self.driver, self.target = driver, target
        self.parser = ResponseParser()
        self.transport: asyncio.Transport | None = None
        self.open, self.index, self.sent = True, -1, 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP one: it can write

    def send(self, index: int, payload: bytes) -> None:
        assert self.transport is not None
        self.index, self.sent = index, self.driver.clock()
        self.transport.write(payload)

    def data_received(self, data: bytes) -> None:
        for response in self.parser.feed(data):
            if not response.keep_alive and self.transport is not None:
                self.open = False
                self.transport.close()
            index, self.index = self.index, -1
            self.driver.answered(self, index, response)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        index, self.index = self.index, -1
        last = self.parser.closed()
        if index >= 0 and last is not None:
            self.driver.answered(self, index, last)
        elif index >= 0:
            self.driver.lost(self, index)


class Driver:
    """What both loops share: the results, the connections, the end. ``keep``: the bodies to
    keep, of all requests or each."""

    def __init__(
        self,
        job: Job,
        requests: Sequence[bytes],
        keep: bool | Sequence[bool] = False,
        clock: Clock = time.perf_counter,
    ) -> None:
        self.job, self.requests, self.clock = job, requests, clock
        n = len(requests)
        self.statuses, self.latencies, self.ended = [UNANSWERED] * n, [math.nan] * n, [math.nan] * n
        self.targets = [i % len(job.targets) for i in range(n)]
        self.bodies = [b""] * n
        self.keep = [keep] * n if isinstance(keep, bool) else keep
        self.remaining, self.opened, self.started = n, 0, clock()
        self.done: asyncio.Future[None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()  # reconnections under way, kept referenced

    def finished(self) -> asyncio.Future[None]:
        if self.done is None:
            self.done = asyncio.get_running_loop().create_future()
            if not self.remaining:
                self.done.set_result(None)
        return self.done

    async def connect(self, target: int) -> Connection:
        host, port = self.job.targets[target]
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(lambda: Connection(self, target), host, port)
        return connection

    def spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def record(
        self, index: int, status: int, now: float, since: float, target: int, body: bytes
    ) -> None:
        """Request ``index`` ended ``now`` (its latency from ``since``)."""
        self.statuses[index], self.latencies[index] = status, now - since
        self.ended[index], self.targets[index] = now - self.started, target
        if self.keep[index]:
            self.bodies[index] = body
        self.settled(1)

    def settled(self, count: int) -> None:
        self.remaining -= count
        if not self.remaining and self.done is not None and not self.done.done():
            self.done.set_result(None)

    def answered(self, conn: Sender, index: int, response: Response) -> None:
        raise NotImplementedError

    def lost(self, conn: Sender, index: int) -> None:
        raise NotImplementedError


class ClosedLoop(Driver):
    """Each connection sends the next request not yet taken when its last answer came, until
    ``Job.seconds`` are over: the requests left then are NOT_SENT."""

    next = 0

    def start(self, connections: Sequence[Sender]) -> None:
        for conn in connections:
            if conn.open:
                self.feed(conn)
            else:
                self.replace(conn.target)

    def feed(self, conn: Sender) -> None:
        left = len(self.requests) - self.next
        seconds = self.job.seconds
        if left and seconds is not None and self.clock() - self.started >= seconds:
            self.statuses[self.next :] = [NOT_SENT] * left
            self.next = len(self.requests)
            self.settled(left)
            return
        if left:
            index, self.next = self.next, self.next + 1
            conn.send(index, self.requests[index])

    def answered(self, conn: Sender, index: int, response: Response) -> None:
        status, body = response.status, response.body
        self.record(index, status, self.clock(), conn.sent, conn.target, body)
        if conn.open:
            self.feed(conn)
        else:
            self.replace(conn.target)

    def lost(self, conn: Sender, index: int) -> None:
        self.record(index, LOST, self.clock(), conn.sent, conn.target, b"")
        self.replace(conn.target)

    def replace(self, target: int) -> None:
        """A closed connection's place taken by a new one, while requests are left."""
        if self.next < len(self.requests):
            self.opened += 1
            self.spawn(self._reopen(target))

    async def _reopen(self, target: int) -> None:
        try:
            conn = await self.connect(target)
        except OSError:
            if self.next < len(self.requests):  # this place's next request fails, then retry
                index, self.next = self.next, self.next + 1
                now = self.clock()
                self.record(index, LOST, now, now, target, b"")
                await asyncio.sleep(0.01)
                self.replace(target)
            return
        self.feed(conn)


class OpenLoop(Driver):
    """Request i leaves at ``start + schedule[i]`` on an idle connection to its target, or on
    one opened for it when none is idle; its latency runs from that scheduled time."""

    def __init__(
        self,
        job: Job,
        requests: Sequence[bytes],
        keep: bool | Sequence[bool] = False,
        clock: Clock = time.perf_counter,
    ) -> None:
        super().__init__(job, requests, keep, clock)
        self.idle: list[list[Sender]] = [[] for _ in job.targets]
        self.dues: list[float] = []
        self.send_lag = [math.nan] * len(requests)

    def begin(self, start: float, connections: Sequence[Sender]) -> None:
        assert self.job.schedule is not None
        self.dues = [start + offset for offset in self.job.schedule[: len(self.requests)]]
        for conn in connections:
            self.idle[conn.target].append(conn)

    def dispatch(self, index: int) -> bool:
        """Send request ``index`` now on an idle connection; False: none is idle."""
        idle = self.idle[self.targets[index]]
        while idle:
            conn = idle.pop()  # the most recently used: the warmest
            if conn.open:
                self.send(conn, index)
                return True
        return False

    def send(self, conn: Sender, index: int) -> None:
        conn.send(index, self.requests[index])
        self.send_lag[index] = conn.sent - self.dues[index]

    def answered(self, conn: Sender, index: int, response: Response) -> None:
        due, status, body = self.dues[index], response.status, response.body
        self.record(index, status, self.clock(), due, conn.target, body)
        if conn.open:
            self.idle[conn.target].append(conn)

    def lost(self, conn: Sender, index: int) -> None:
        self.record(index, LOST, self.clock(), self.dues[index], conn.target, b"")

    async def _open_and_send(self, index: int) -> None:
        try:
            conn = await self.connect(self.targets[index])
        except OSError:
            target = self.targets[index]
            self.record(index, LOST, self.clock(), self.dues[index], target, b"")
            return
        self.send(conn, index)

    async def until(self, due: float) -> None:
        """Sleep until ``due``, not a moment before: the event loop's timers (uvloop's count
        whole milliseconds) may fire up to a millisecond early, so sleep again for the rest."""
        if (delay := due - self.clock()) > 0:
            await asyncio.sleep(delay)
        if (delay := due - self.clock()) > 0:
            await asyncio.sleep(delay + 0.001)

    async def run(self, connections: Sequence[Sender]) -> None:
        self.begin(self.clock() + 0.01, connections)
        finished = self.finished()
        for index, due in enumerate(self.dues):
            await self.until(due)
            if not self.dispatch(index):
                self.opened += 1
                self.spawn(self._open_and_send(index))
        last = self.dues[-1] if self.dues else self.clock()
        await asyncio.wait([finished], timeout=max(0.0, last + self.job.drain - self.clock()))


async def _warm(job: Job) -> tuple[list[Connection], list[int]]:
    warm = ClosedLoop(job, job.warm)
    connections = await asyncio.gather(
        *(warm.connect(i % len(job.targets)) for i in range(job.connections))
    )
    warm.start(connections)
    await warm.finished()
    return list(connections), warm.statuses


async def generate(job: Job, go: Callable[[], None]) -> Outcome:
    """The job's load; ``go`` is called once the connections are warm and returns when the
    timed part is to start."""
    connections, warm_statuses = await _warm(job)
    go()
    cpu, started = time.process_time(), time.perf_counter()
    driver: ClosedLoop | OpenLoop
    if job.schedule is None:
        driver = ClosedLoop(job, job.requests, job.keep_bodies)
        for conn in connections:
            conn.driver = driver
        driver.start(connections)
        await driver.finished()
    else:
        driver = OpenLoop(job, job.requests, job.keep_bodies)
        for conn in connections:
            conn.driver = driver
        await driver.run(connections)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    for conn in connections:
        if conn.transport is not None:
            conn.transport.close()
    lag = driver.send_lag if isinstance(driver, OpenLoop) else []
    count = len(connections) + driver.opened
    result = (driver.statuses, driver.latencies, driver.ended, driver.targets, driver.bodies)
    return Outcome(*result, warm_statuses, cpu, wall, count, driver.opened, lag)


def _child(folder: Path) -> None:
    """``python -m bench.lib.loadgen DIR``: DIR/job.pickle in, DIR/outcome.pickle out."""
    # Written by the bench that started this process, in a folder of its own.
    job: Job = pickle.loads((folder / "job.pickle").read_bytes())  # noqa: S301

    def go() -> None:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("load generator: no go")

    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        outcome = runner.run(generate(job, go))
    print("done", flush=True)
    (folder / "outcome.pickle").write_bytes(pickle.dumps(outcome))


class LoadGenerator:
    """The bench's side: ``start`` (connected and warm), ``run`` (from go to done: put the
    meters around it), ``outcome``."""

    def __init__(self, process: asyncio.subprocess.Process, folder: Path) -> None:
        self.process, self.folder = process, folder

    @classmethod
    async def start(cls, job: Job) -> LoadGenerator:
        folder = Path(tempfile.mkdtemp(prefix="settlement-loadgen-"))
        (folder / "job.pickle").write_bytes(pickle.dumps(job))
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bench.lib.loadgen", str(folder)),
            cwd=PROJECT_ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        generator = cls(process, folder)
        await generator._expect("ready")
        return generator

    async def _expect(self, word: str) -> None:
        assert self.process.stdout is not None
        line = (await self.process.stdout.readline()).decode().strip()
        if line != word:
            code = await self.process.wait()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise RuntimeError(f"load generator said {line!r} for {word!r}, exit status {code}")

    async def run(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        await self.process.stdin.drain()
        await self._expect("done")

    async def outcome(self) -> Outcome:
        code = await self.process.wait()
        try:
            if code:
                raise RuntimeError(f"load generator exit status {code}")
            written = (self.folder / "outcome.pickle").read_bytes()  # by the child it started
            outcome: Outcome = pickle.loads(written)  # noqa: S301
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
        return outcome


async def load(job: Job) -> Outcome:
    """The job run, nothing measured around it."""
    generator = await LoadGenerator.start(job)
    await generator.run()
    return await generator.outcome()


if __name__ == "__main__":
    # The classes pickled both ways must be this module's, not a second copy named __main__.
    from bench.lib.loadgen import _child as child

    child(Path(sys.argv[1]))
