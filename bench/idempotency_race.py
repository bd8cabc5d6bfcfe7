"""The concurrency proof for trade capture: one Idempotency-Key, many racing requests.

    python -m bench.idempotency_race [--requests 200] [--servers 2] [--rounds 1]

``--requests`` concurrent POST /trades carrying ONE Idempotency-Key and the same body are spread
over ``--servers`` uvicorn processes against one PostgreSQL database. Exactly one trade must be
booked (one ``trades`` row with that external_id, one audit record, one idempotency key row);
every answer must be 201 with the same body (the same trade id); all but one must carry
``Idempotent-Replayed: true``. The same key with another body must then be 422 on every server
and book nothing. Each round uses a fresh key and trade. ``tests/e2e/test_idempotency_race.py``
runs the same check in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shlex
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.common import (
    API,
    DEFAULT_PG_URL,
    BenchDatabase,
    Server,
    connect,
    drop_database,
    fmt_ms,
    percentile,
    prepare_database,
    render_table,
    running_servers,
    trade_payload,
)

REPLAYED_HEADER = "Idempotent-Replayed"
REUSED_TYPE_SUFFIX = "idempotency-key-reused"


@dataclass
class RaceOutcome:
    requests: int
    key: str
    external_id: str
    elapsed: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    per_server: Counter[int] = field(default_factory=Counter)
    bodies: list[Any] = field(default_factory=list)
    raw_bodies: set[bytes] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    replayed: int = 0
    trades_booked: int = 0
    audit_records: int = 0
    idempotency_rows: int = 0
    trades_total_before_reuse: int = 0
    reused_statuses: list[int] = field(default_factory=list)
    reused_types: list[str] = field(default_factory=list)
    trades_booked_after_reuse: int = 0
    trades_total_after_reuse: int = 0

    @property
    def trade_ids(self) -> set[str]:
        return {str(body.get("id")) for body in self.bodies if isinstance(body, dict)}

    @property
    def identical_bodies(self) -> bool:
        return bool(self.bodies) and all(body == self.bodies[0] for body in self.bodies)

    def checks(self) -> list[tuple[str, object, object, bool]]:
        """(what, expected, observed, ok) for every property the race must have."""
        others = {status: n for status, n in sorted(self.statuses.items()) if status != 201}
        reused_types = ", ".join(sorted({t.rsplit("/", 1)[-1] for t in self.reused_types}))
        return [
            _check("answers 201", self.requests, self.statuses.get(201, 0)),
            _check("answers with another status", {}, others),
            _check("distinct trade ids answered", 1, len(self.trade_ids)),
            _check("bodies identical (parsed JSON)", True, self.identical_bodies),
            _check(f"answers with {REPLAYED_HEADER}: true", self.requests - 1, self.replayed),
            _check("trades rows with the external_id", 1, self.trades_booked),
            _check("audit records of the trade", 1, self.audit_records),
            _check("idempotency_keys rows for the key", 1, self.idempotency_rows),
            (
                "same key, other body: statuses",
                "422 on every server",
                ", ".join(map(str, self.reused_statuses)),
                bool(self.reused_statuses) and set(self.reused_statuses) == {422},
            ),
            _check("same key, other body: problem type", REUSED_TYPE_SUFFIX, reused_types),
            _check("trades rows with the external_id after", 1, self.trades_booked_after_reuse),
            _check(
                "all trades rows after (unchanged)",
                self.trades_total_before_reuse,
                self.trades_total_after_reuse,
            ),
        ]

    def failures(self) -> list[str]:
        return [
            f"{what}: expected {expected}, got {observed}"
            for what, expected, observed, ok in self.checks()
            if not ok
        ]


def _check(what: str, expected: object, observed: object) -> tuple[str, object, object, bool]:
    return what, expected, observed, expected == observed


async def _count(db: BenchDatabase, sql: str, *args: object) -> int:
    connection = await connect(db.url)
    try:
        count: int = await connection.fetchval(sql, *args)
        return count
    finally:
        await connection.close()


async def race(
    servers: Sequence[Server], db: BenchDatabase, *, requests: int = 200, tag: str | None = None
) -> RaceOutcome:
    """Fire ``requests`` POST /trades with one key and one body, round-robin over ``servers``,
    all released at once; then replay the key with another body. Returns what was observed."""
    tag = tag or uuid.uuid4().hex[:12]
    body = trade_payload(0, prefix=f"RACE-{tag}")
    outcome = RaceOutcome(requests=requests, key=f"race-{tag}", external_id=body["external_id"])
    headers = {**db.headers(), "Idempotency-Key": outcome.key}
    per_client = math.ceil(requests / len(servers))
    clients = [
        httpx.AsyncClient(
            base_url=server.base_url,
            headers=headers,
            timeout=60,
            limits=httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client),
        )
        for server in servers
    ]
    try:
        # Open every connection first, so the racing requests leave together.
        await asyncio.gather(
            *(client.get("/healthz") for client in clients for _ in range(per_client))
        )
        go = asyncio.Event()

        async def one(index: int) -> None:
            client = clients[index % len(clients)]
            await go.wait()
            started = time.perf_counter()
            response = await client.post(f"{API}/trades", json=body)
            outcome.latencies.append(time.perf_counter() - started)
            outcome.statuses[response.status_code] += 1
            outcome.per_server[servers[index % len(servers)].port] += 1
            outcome.raw_bodies.add(response.content)
            outcome.bodies.append(response.json())
            if response.headers.get(REPLAYED_HEADER) == "true":
                outcome.replayed += 1

        tasks = [asyncio.create_task(one(index)) for index in range(requests)]
        await asyncio.sleep(0)  # let every task reach the start line
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        outcome.elapsed = time.perf_counter() - started

        external_id = outcome.external_id
        outcome.trades_booked = await _count(
            db, "SELECT count(*) FROM trades WHERE external_id = $1", external_id
        )
        trade_ids = sorted(outcome.trade_ids)
        outcome.audit_records = await _count(
            db,
            "SELECT count(*) FROM audit_records WHERE entity_type = 'trade' AND entity_id = $1",
            trade_ids[0] if trade_ids else "",
        )
        outcome.idempotency_rows = await _count(
            db, "SELECT count(*) FROM idempotency_keys WHERE key = $1", outcome.key
        )
        outcome.trades_total_before_reuse = await _count(db, "SELECT count(*) FROM trades")

        other = {**body, "quantity": str(int(body["quantity"]) + 1)}
        for client in clients:
            response = await client.post(f"{API}/trades", json=other)
            outcome.reused_statuses.append(response.status_code)
            outcome.reused_types.append(str(response.json().get("type", "")))
        outcome.trades_booked_after_reuse = await _count(
            db, "SELECT count(*) FROM trades WHERE external_id = $1", external_id
        )
        outcome.trades_total_after_reuse = await _count(db, "SELECT count(*) FROM trades")
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return outcome


def report(outcome: RaceOutcome, round_number: int) -> str:
    rows = [
        [what, str(expected), str(observed), "ok" if ok else "FAIL"]
        for what, expected, observed, ok in outcome.checks()
    ]
    spread = ", ".join(f":{port} {n}" for port, n in sorted(outcome.per_server.items()))
    title = (
        f"Round {round_number}: {outcome.requests} requests ({spread}), key {outcome.key}, "
        f"external_id {outcome.external_id}\n"
        f"all answered in {outcome.elapsed * 1000:,.0f} ms; latency p50 "
        f"{fmt_ms(percentile(outcome.latencies, 50))} ms, p99 "
        f"{fmt_ms(percentile(outcome.latencies, 99))} ms; "
        f"distinct raw response bodies: {len(outcome.raw_bodies)}"
    )
    return render_table(["check", "expected", "observed", "result"], rows, title=title)


async def run(args: argparse.Namespace) -> int:
    db = await prepare_database(args.database, args.pg_url)
    failures = 0
    try:
        async with running_servers(args.servers, db.url) as servers:
            print(f"servers: {', '.join(f'{s.base_url} (pid {s.pid})' for s in servers)}")
            for round_number in range(1, args.rounds + 1):
                async with asyncio.timeout(120):
                    outcome = await race(servers, db, requests=args.requests)
                print()
                print(report(outcome, round_number))
                failures += bool(outcome.failures())
    finally:
        if not args.keep_database:
            await drop_database(db.name, args.pg_url)
    print()
    print(f"{args.rounds - failures}/{args.rounds} rounds passed")
    return 1 if failures else 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.idempotency_race", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--requests", type=int, default=200, help="racing requests per round")
    parser.add_argument("--servers", type=int, default=2, help="uvicorn processes")
    parser.add_argument("--rounds", type=int, default=1, help="races, each with a fresh key")
    parser.add_argument("--database", default="settlement_bench_race", help="database name")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server URL")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    args = parser.parse_args(argv)
    if not 2 <= args.requests <= 1000 or not 1 <= args.servers <= 8 or not 1 <= args.rounds <= 50:
        parser.error("--requests 2..1000, --servers 1..8, --rounds 1..50")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    print("$ " + shlex.join([sys.executable, "-m", "bench.idempotency_race", *argv]))
    sys.stdout.flush()
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
