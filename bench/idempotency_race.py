"""Many concurrent POST /trades with ONE Idempotency-Key over several uvicorn processes book one
trade (one row, one audit record, one key row); every answer is that 201, all but one replayed;
the key with another body is 422 and books nothing. tests/e2e runs ``race`` too.

    python -m bench.idempotency_race [--full] [--requests 200] [--servers 2] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bench.lib import cli
from bench.lib.data import API, fetch_all
from bench.lib.db import BenchDatabase, connect
from bench.lib.report import Check, Measure, Result, fmt_mib, fmt_ms
from bench.lib.servers import Server, client, running_servers

PROG = "bench.idempotency_race"
REPLAYED_HEADER = "Idempotent-Replayed"
REUSED_TYPE_SUFFIX = "idempotency-key-reused"
SIZES = (
    cli.Size("requests", 200, 200, "racing requests per round"),
    cli.Size("servers", 2, 2, "uvicorn processes"),
    cli.Size("rounds", 1, 3, "races, each with a fresh key"),
)


@dataclass
class RaceOutcome:
    requests: int
    key: str
    external_id: str
    elapsed: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    per_server: Counter[int] = field(default_factory=Counter)
    bodies: list[Any] = field(default_factory=list)
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

    def checks(self) -> list[Check]:
        others = {status: n for status, n in sorted(self.statuses.items()) if status != 201}
        reused = ", ".join(sorted({t.rsplit("/", 1)[-1] for t in self.reused_types}))
        return [
            Check("answers 201", self.requests, self.statuses.get(201, 0)),
            Check("answers with another status", {}, others),
            Check("distinct trade ids answered", 1, len(self.trade_ids)),
            Check("bodies identical (parsed JSON)", True, self.identical_bodies),
            Check(f"answers with {REPLAYED_HEADER}: true", self.requests - 1, self.replayed),
            Check("trades rows with the external_id", 1, self.trades_booked),
            Check("audit records of the trade", 1, self.audit_records),
            Check("idempotency_keys rows for the key", 1, self.idempotency_rows),
            Check("same key, other body: all 422", True, set(self.reused_statuses) == {422}),
            Check("same key, other body: problem type", REUSED_TYPE_SUFFIX, reused),
            Check("trades rows with the external_id after", 1, self.trades_booked_after_reuse),
            Check(
                "all trades rows after (unchanged)",
                self.trades_total_before_reuse,
                self.trades_total_after_reuse,
            ),
        ]

    def failures(self) -> list[str]:
        return [
            f"{c.name}: expected {c.expected}, got {c.found}" for c in self.checks() if not c.ok
        ]


async def trade_body(server: Server, db: BenchDatabase, external_id: str) -> dict[str, Any]:
    """A valid POST /trades body on the first demo equity of a bilateral market (a locked-in
    one would confirm the trade at capture: a second audit record) and counterparty."""
    async with client(server.base_url, db.headers()) as api:
        locked_in = {m["mic"] for m in await fetch_all(api, "/markets") if m["locked_in"]}
        equity = next(
            i
            for i in await fetch_all(api, "/instruments")
            if i["type"] == "equity" and i["mic"] not in locked_in
        )
        lei = (await fetch_all(api, "/counterparties"))[0]["lei"]
    return {
        "external_id": external_id,
        "book": "EQ-FLOW",
        "counterparty_lei": lei,
        "isin": equity["isin"],
        "side": "buy",
        "quantity": "100",
        "price": "50.25",
        "currency": equity["currency"],
        "trade_date": "2026-11-24",
        "trade_time": "2026-11-24T14:31:05Z",
        "venue": equity["mic"],
        "commission": "1.50",
        "fees": "0.02",
    }


async def _count(db: BenchDatabase, sql: str, *args: object) -> int:
    connection = await connect(db.url)
    try:
        return int(await connection.fetchval(sql, *args))
    finally:
        await connection.close()


async def race(
    servers: Sequence[Server], db: BenchDatabase, *, requests: int = 200, tag: str | None = None
) -> RaceOutcome:
    """Fire ``requests`` POST /trades with one key and one body, round-robin over ``servers``,
    all released at once; then replay the key with another body. Returns what was observed."""
    tag = tag or uuid.uuid4().hex[:12]
    body = await trade_body(servers[0], db, f"RACE-{tag}")
    outcome = RaceOutcome(requests=requests, key=f"race-{tag}", external_id=body["external_id"])
    headers = {**db.headers(), "Idempotency-Key": outcome.key}
    per_client = math.ceil(requests / len(servers))
    clients = [client(s.base_url, headers, connections=per_client) for s in servers]
    try:
        # Every connection open first, so the racing requests leave together.
        await asyncio.gather(*(c.get("/healthz") for c in clients for _ in range(per_client)))
        go = asyncio.Event()

        async def one(index: int) -> None:
            await go.wait()
            started = time.perf_counter()
            response = await clients[index % len(clients)].post(f"{API}/trades", json=body)
            outcome.latencies.append(time.perf_counter() - started)
            outcome.statuses[response.status_code] += 1
            outcome.per_server[servers[index % len(servers)].port] += 1
            outcome.bodies.append(response.json())
            outcome.replayed += response.headers.get(REPLAYED_HEADER) == "true"

        tasks = [asyncio.create_task(one(index)) for index in range(requests)]
        await asyncio.sleep(0)  # every task at the start line
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        outcome.elapsed = time.perf_counter() - started
        count_trades = "SELECT count(*) FROM trades WHERE external_id = $1"
        outcome.trades_booked = await _count(db, count_trades, outcome.external_id)
        outcome.audit_records = await _count(
            db,
            "SELECT count(*) FROM audit_records WHERE entity_type = 'trade' AND entity_id = $1",
            min(outcome.trade_ids, default=""),
        )
        outcome.idempotency_rows = await _count(
            db, "SELECT count(*) FROM idempotency_keys WHERE key = $1", outcome.key
        )
        outcome.trades_total_before_reuse = await _count(db, "SELECT count(*) FROM trades")
        other = {**body, "quantity": str(int(body["quantity"]) + 1)}
        for api in clients:
            response = await api.post(f"{API}/trades", json=other)
            outcome.reused_statuses.append(response.status_code)
            outcome.reused_types.append(str(response.json().get("type", "")))
        outcome.trades_booked_after_reuse = await _count(db, count_trades, outcome.external_id)
        outcome.trades_total_after_reuse = await _count(db, "SELECT count(*) FROM trades")
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return outcome


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    result = Result(PROG, "")
    latencies: list[float] = []
    booked = replayed = 0
    async with running_servers(args.servers, db.url) as servers:
        for round_number in range(1, args.rounds + 1):
            async with asyncio.timeout(120):
                outcome = await race(servers, db, requests=args.requests)
            latencies += outcome.latencies
            booked, replayed = booked + outcome.trades_booked, replayed + outcome.replayed
            spread = ", ".join(f":{port} {n}" for port, n in sorted(outcome.per_server.items()))
            print(f"round {round_number}: {spread}, all answered in {fmt_ms(outcome.elapsed)}")
            checks = outcome.checks()
            result.checks += [replace(c, name=f"round {round_number}: {c.name}") for c in checks]
        for server in servers:
            server.sample()
    name = f"{args.rounds} x {args.requests} racing POST /trades, 1 key, {args.servers} servers"
    peak = fmt_mib(max((s.peak_mib or 0.0) for s in servers))
    value = f"{booked} booked, {replayed} replayed"
    result.measures.append(Measure.timed(name, value, latencies, peak=peak))
    return result


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
