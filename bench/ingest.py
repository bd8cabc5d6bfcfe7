"""Trade capture throughput over HTTP to real uvicorn processes, against PostgreSQL.

    python -m bench.ingest [--trades 5000|50000] [--batch 1000|5000] [--requests 300|3000]
                           [--concurrency 32] [--servers 1]

(i)   POST /trades/batch, ``--batch`` trades a request, one batch in flight per server;
(ii)  the same number of ``trades`` rows by asyncpg COPY, ``--batch`` rows a transaction: the
      baseline of (i) (goal (i)/(ii) >= 0.20);
(iii) POST /trades (one trade, an Idempotency-Key) from ``--concurrency`` clients;
(iv)  GET /healthz, the same load: the baseline of (iii) (goal (iii)/(iv) >= 0.35).
Each HTTP phase starts after an unmeasured warm-up; payloads are built before it. Checks: every
request answered as it should, every trade booked through the API is in ``trades`` with one
audit record. PostgreSQL's counters give commits and rows per trade.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from bench.lib import cli
from bench.lib.data import API, TRADE_COLUMNS, add_weekdays, fetch_all, trade_row
from bench.lib.db import BenchDatabase, connect, copy_rows
from bench.lib.measure import CpuMeter, PgCounters, percentile
from bench.lib.report import Check, Measure, Result, fmt_int, fmt_mib, fmt_ms, fmt_ratio
from bench.lib.servers import Server, client, running_servers

PROG = "bench.ingest"
SIZES = (
    cli.Size("trades", 5_000, 50_000, "trades booked by batch"),
    cli.Size("batch", 1_000, 5_000, "trades per batch (<= 10,000)"),
    cli.Size("requests", 300, 3_000, "single requests per phase"),
    cli.Size("concurrency", 32, 32, "concurrent clients"),
    cli.Size("servers", 1, 1, "uvicorn processes"),
)
TRADE_DATE = date(2026, 11, 24)  # a Tuesday: a trading day at every demo venue
WARMUP = 64
BATCH_GOAL, SINGLE_GOAL = 0.20, 0.35


@dataclass
class Phase:
    name: str
    unit: str
    count: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu: CpuMeter = field(default_factory=CpuMeter)
    pg: PgCounters | None = None

    @property
    def rate(self) -> float:
        return self.count / self.cpu.wall if self.cpu.wall else 0.0

    def measure(self, baseline: Phase, goal: float, peak: str) -> Measure:
        return Measure(
            self.name,
            f"{fmt_int(self.rate)} {self.unit}",
            f"{fmt_int(baseline.rate)} {baseline.unit}",
            fmt_ratio(self.rate / baseline.rate, goal) if baseline.rate else "",
            fmt_ms(percentile(self.latencies, 50)),
            fmt_ms(percentile(self.latencies, 99)),
            peak,
        )


class Payloads:
    """The n-th trade: every demo instrument and counterparty in turn."""

    def __init__(self, instruments: list[dict[str, Any]], leis: list[str]) -> None:
        self.instruments, self.leis = instruments, leis

    def terms(self, n: int) -> dict[str, Any]:
        instrument = self.instruments[n % len(self.instruments)]
        bond = instrument["type"] == "bond"
        return {
            "book": "FI-RATES" if bond else "EQ-FLOW",
            "counterparty_lei": self.leis[n % len(self.leis)],
            "isin": instrument["isin"],
            "side": "buy" if n % 2 == 0 else "sell",
            "quantity": Decimal(100_000 * (1 + n % 5) if bond else 100 * (1 + n % 9)),
            "price": Decimal("78.50") if bond else Decimal(f"{50 + n % 150}.25"),
            "currency": instrument["currency"],
            "venue": instrument["mic"],
            "bond": bond,
        }

    def body(self, n: int, prefix: str) -> dict[str, Any]:
        terms = self.terms(n)
        charges = "0" if terms.pop("bond") else None
        return {
            **{k: str(v) for k, v in terms.items()},
            "external_id": f"{prefix}-{n:08d}",
            "trade_date": TRADE_DATE.isoformat(),
            "trade_time": f"{TRADE_DATE}T14:31:05Z",
            "commission": charges or "1.50",
            "fees": charges or "0.02",
        }

    def row(self, n: int, prefix: str, created_by: str, now: datetime) -> tuple[Any, ...]:
        terms = self.terms(n)
        bond = terms.pop("bond")
        return trade_row(
            **{k: v for k, v in terms.items() if k not in ("counterparty_lei",)},
            lei=terms["counterparty_lei"],
            external_id=f"{prefix}-{n:08d}",
            trade_date=TRADE_DATE,
            settlement_date=add_weekdays(TRADE_DATE, 1 if terms["venue"] == "XNYS" else 2),
            status="captured",
            created_by=created_by,
            now=now,
            bond=bond,
            accrued=Decimal("1234.56") if bond else None,
        )


Send = Callable[[httpx.AsyncClient, Any], Awaitable[tuple[bool, int]]]


async def drive(
    phase: Phase, clients: Sequence[httpx.AsyncClient], items: Iterable[Any], send: Send
) -> None:
    """Every client takes the next item until none is left; ``send`` says (ok, units done)."""
    queue = iter(items)

    async def worker(api: httpx.AsyncClient) -> None:
        for item in queue:
            started = time.perf_counter()
            ok, units = await send(api, item)
            phase.latencies.append(time.perf_counter() - started)
            phase.count += units
            phase.errors += not ok

    await asyncio.gather(*(worker(api) for api in clients))


async def measured(
    phase: Phase,
    monitor: Any,
    servers: Sequence[Server],
    clients: Sequence[httpx.AsyncClient],
    items: Iterable[Any],
    send: Send,
) -> Phase:
    """``drive`` with CPU and PostgreSQL's counters taken around it."""
    phase.cpu, phase.pg = CpuMeter([s.pid for s in servers]), PgCounters(monitor)
    await phase.pg.start()
    phase.cpu.start()
    await drive(phase, clients, items, send)
    phase.cpu.stop()
    await phase.pg.stop()
    print(f"{phase.name}: {phase.count:,} in {phase.cpu.wall:.2f} s; {phase.cpu.line()}")
    print(f"  {phase.pg.line(max(phase.count, 1), phase.unit.split('/')[0].rstrip('s'))}")
    return phase


async def batch_post(
    api: httpx.AsyncClient, item: tuple[str, list[dict[str, Any]]]
) -> tuple[bool, int]:
    key, items = item
    response = await api.post(
        f"{API}/trades/batch", json={"items": items}, headers={"Idempotency-Key": key}
    )
    created = response.json().get("created", 0) if response.status_code == 200 else 0
    return created == len(items), created


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    result = Result(PROG, "")
    tag = datetime.now(UTC).strftime("%H%M%S")
    monitor = await connect(db.url)
    async with running_servers(args.servers, db.url) as servers:
        async with client(servers[0].base_url, db.headers()) as api:
            payloads = Payloads(
                await fetch_all(api, "/instruments"),
                [c["lei"] for c in await fetch_all(api, "/counterparties")],
            )
        batch_clients = [client(s.base_url, db.headers()) for s in servers]
        many = [
            client(servers[i % len(servers)].base_url, db.headers(), timeout=60)
            for i in range(args.concurrency)
        ]
        try:
            warm = [
                (f"warm-{tag}-{i}", [payloads.body(n, f"WBA{tag}{i}") for n in range(100)])
                for i in range(len(servers))
            ]
            await asyncio.gather(
                *(batch_post(c, w) for c, w in zip(batch_clients, warm, strict=True))
            )
            bodies = [payloads.body(n, f"BAT{tag}") for n in range(args.trades)]
            batches = [
                (f"batch-{tag}-{i}", bodies[i : i + args.batch])
                for i in range(0, args.trades, args.batch)
            ]
            batch = await measured(
                Phase(f"(i) POST /trades/batch, {args.batch:,} a request", "trades/s"),
                monitor,
                servers,
                batch_clients,
                batches,
                batch_post,
            )
            created_by, now = db.key_ids["trader"], datetime.now(UTC)
            rows = [payloads.row(n, f"CPY{tag}", created_by, now) for n in range(batch.count)]
            copy = Phase(f"(ii) asyncpg COPY into trades, {args.batch:,} a transaction", "rows/s")
            copy.cpu.start()
            for start in range(0, len(rows), args.batch):
                began = time.perf_counter()
                await copy_rows(monitor, "trades", TRADE_COLUMNS, rows[start : start + args.batch])
                copy.latencies.append(time.perf_counter() - began)
            copy.cpu.stop()
            copy.count = len(rows)
            singles = {n: payloads.body(n, f"ONE{tag}") for n in range(-WARMUP, args.requests)}

            async def post_one(api: httpx.AsyncClient, n: int) -> tuple[bool, int]:
                response = await api.post(
                    f"{API}/trades", json=singles[n], headers={"Idempotency-Key": f"one-{tag}-{n}"}
                )
                return response.status_code == 201, 1

            async def healthz(api: httpx.AsyncClient, _n: int) -> tuple[bool, int]:
                return (await api.get("/healthz")).status_code == 200, 1

            await drive(Phase("warm-up", ""), many, range(-WARMUP, 0), post_one)
            single = await measured(
                Phase(f"(iii) POST /trades, {args.concurrency} clients", "req/s"),
                monitor,
                servers,
                many,
                range(args.requests),
                post_one,
            )
            await drive(Phase("warm-up", ""), many, range(WARMUP), healthz)
            noop = await measured(
                Phase("(iv) GET /healthz (no-op), same load", "req/s"),
                monitor,
                servers,
                many,
                range(args.requests),
                healthz,
            )
        finally:
            await asyncio.gather(*(c.aclose() for c in [*batch_clients, *many]))
        for server in servers:
            server.sample()
    booked = await monitor.fetchval(
        "SELECT count(*) FROM trades WHERE external_id LIKE $1 OR external_id LIKE $2 "
        "OR external_id LIKE $3",
        f"BAT{tag}-%",
        f"ONE{tag}-%",
        f"WBA{tag}%",
    )
    audited = await monitor.fetchval(
        "SELECT count(*) FROM audit_records WHERE entity_type = 'trade'"
    )
    await monitor.close()
    via_api = args.trades + args.requests + WARMUP + 100 * len(servers)
    result.checks = [
        Check("(i) batches refused or partly booked", 0, batch.errors),
        Check("(i) trades booked by batch", args.trades, batch.count),
        Check("(iii) POST /trades not answered 201", 0, single.errors),
        Check("(iv) GET /healthz not answered 200", 0, noop.errors),
        Check("trades booked through the API, in trades", via_api, booked),
        Check("audit records of trades (one per trade booked through the API)", via_api, audited),
    ]
    peak = fmt_mib(max((s.peak_mib or 0.0) for s in servers))
    result.measures = [
        batch.measure(copy, BATCH_GOAL, peak),
        single.measure(noop, SINGLE_GOAL, peak),
    ]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(PROG, __doc__ or "", SIZES, bench, argv)


if __name__ == "__main__":
    raise SystemExit(main())
