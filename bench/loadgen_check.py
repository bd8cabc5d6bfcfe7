"""The benches' load generator (bench/lib/loadgen.py) against wrk, on the same uvicorn process,
back to back and alternated: GET /healthz and POST /trades (unique external ids, no
Idempotency-Key), closed loop, the same connections; the generator's requests/s should be within
10 % of wrk's (ratio >= 0.9), so that it is not what limits the benches' figures.

    python -m bench.loadgen_check [--seconds S] [--connections N] [--rounds N]

Per run: requests/s, p50/p99, the server's CPU per request and the load generator's (wrk's from
its rusage, ours from its own process time). Not part of ``make bench``: it needs wrk
(``/usr/bin/wrk``) and runs one kind of load at a time on an otherwise idle server.

Checks: every answer 200 / 201, from both; every trade answered 201 stored.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.lib import cli
from bench.lib.data import API
from bench.lib.db import LOOPBACK, BenchDatabase, connect
from bench.lib.http1 import request_bytes
from bench.lib.loadgen import Job, LoadGenerator
from bench.lib.measure import CpuMeter
from bench.lib.report import Check, Measure, Result, fmt_int, fmt_ms, fmt_ratio, percentile
from bench.lib.servers import Server, addresses, running_servers

PROG = "bench.loadgen_check"
SIZES = (
    cli.Size("seconds", 10, 10, "seconds of each run"),
    cli.Size("connections", 32, 32, "connections, both tools"),
    cli.Size("rounds", 2, 2, "rounds of wrk then the load generator, per kind"),
)
LEI = "7LTWFZYICNSX8D621K86"  # a demo counterparty
TERMS = {
    "book": "EQ-FLOW",
    "counterparty_lei": LEI,
    "isin": "DE0007164600",
    "price": "150.25",
    "currency": "EUR",
    "venue": "XETR",
    "trade_date": "2026-11-24",
    "trade_time": "2026-11-24T14:31:05Z",
    "commission": "1.50",
    "fees": "0.02",
}
# The same body as ``trade_body`` below, numbered per wrk thread; the summary on one line.
WRK_LUA = """
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"external_id":"%(prefix)s-%%09d","book":"EQ-FLOW",'
    .. '"counterparty_lei":"%(lei)s","isin":"DE0007164600","side":"%%s","quantity":"%%d",'
    .. '"price":"150.25","currency":"EUR","venue":"XETR","trade_date":"2026-11-24",'
    .. '"trade_time":"2026-11-24T14:31:05Z","commission":"1.50","fees":"0.02"}',
    n, (n %% 2 == 0) and "buy" or "sell", 100 * (1 + n %% 9))
  return wrk.format("POST", "%(path)s", {["Content-Type"]="application/json",
    ["Authorization"]="Bearer %(key)s"}, body)
end
"""
WRK_DONE = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.6f %.6f\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1e6, latency:percentile(99) / 1e6))
end
"""


@dataclass
class Run:
    tool: str
    what: str
    count: int = 0
    errors: int = 0
    p50: float = 0.0
    p99: float = 0.0
    client_cpu: float = 0.0  # seconds
    cpu: CpuMeter = field(default_factory=CpuMeter)

    @property
    def rate(self) -> float:
        return self.count / self.cpu.wall if self.cpu.wall else 0.0

    @property
    def client_ms(self) -> float:
        return 1000 * self.client_cpu / max(self.count, 1)

    @property
    def server_ms(self) -> float:
        return 10 * self.cpu.servers_pct * self.cpu.wall / max(self.count, 1)

    def line(self) -> str:
        return (
            f"{self.what:14} {self.tool:8} {self.rate:8,.0f} req/s  errors {self.errors}  "
            f"p50 {fmt_ms(self.p50)}  p99 {fmt_ms(self.p99)}  server CPU {self.server_ms:.3f} ms, "
            f"client CPU {self.client_ms:.3f} ms a request; host {self.cpu.host_pct:.0f}%"
        )


def trade_body(prefix: str, n: int) -> dict[str, str]:
    side, quantity = ("buy" if n % 2 == 0 else "sell"), str(100 * (1 + n % 9))
    return {"external_id": f"{prefix}-{n:09d}", **TERMS, "side": side, "quantity": quantity}


async def wrk(server: Server, what: str, key: str, prefix: str, args: argparse.Namespace) -> Run:
    run = Run("wrk", what, cpu=CpuMeter([server.pid]))
    folder = Path(tempfile.mkdtemp(prefix="settlement-wrk-"))
    script = folder / "load.lua"
    path = f"{API}/trades"
    lua = WRK_LUA % {"prefix": prefix, "lei": LEI, "path": path, "key": key}
    script.write_text((lua if what == "POST /trades" else "") + WRK_DONE)
    url = f"http://{LOOPBACK}:{server.port}" + ("/healthz" if what == "GET /healthz" else "")
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "30s"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.cpu.start()
    process = await asyncio.create_subprocess_exec(
        *command, "-s", str(script), url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    run.cpu.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(folder, ignore_errors=True)
    run.client_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    line = next(x for x in out.decode().splitlines() if x.startswith("RESULT"))
    count, status, errors, p50, p99 = line.split()[1:]
    run.count, run.errors = int(count), int(status) + int(errors)
    run.p50, run.p99 = float(p50), float(p99)
    return run


async def generated(server: Server, what: str, requests: list[bytes], connections: int) -> Run:
    run = Run("loadgen", what, cpu=CpuMeter([server.pid]))
    target = addresses([server])
    generator = await LoadGenerator.start(Job(target, requests, connections))
    run.cpu.start()
    await generator.run()
    run.cpu.stop()
    outcome = await generator.outcome()
    expected = 201 if what == "POST /trades" else 200
    run.count, run.errors = len(outcome.statuses), len(outcome.statuses) - outcome.count(expected)
    run.p50, run.p99 = (percentile(outcome.latencies, q) for q in (50, 99))
    run.client_cpu = outcome.cpu
    return run


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    tag, key = datetime.now(UTC).strftime("%H%M%S"), db.keys["trader"]
    headers = db.headers()
    runs: list[Run] = []
    async with running_servers(1, db.url) as (server,):
        for round_ in range(-1, args.rounds):  # round -1: warm-up, both tools, not reported
            for what in ("GET /healthz", "POST /trades"):
                ours = f"LG{tag}{round_ + 1}"
                base = await wrk(server, what, key, f"WK{tag}{round_ + 1}", args)
                count = round(base.rate * args.seconds)  # about as long as wrk's run
                if what == "GET /healthz":
                    requests = [request_bytes("GET", "/healthz")] * count
                else:
                    requests = [
                        request_bytes(
                            "POST", f"{API}/trades", headers, json_body=trade_body(ours, n)
                        )
                        for n in range(count)
                    ]
                await asyncio.sleep(1.0)  # the last commits of wrk's run
                mine = await generated(server, what, requests, args.connections)
                for run in (base, mine):
                    print(run.line(), flush=True)
                runs += [base, mine]
                await asyncio.sleep(1.0)
    reported = runs[4:]  # after the warm-up round's four
    return Result(PROG, "", measures(reported), await checks(db, tag, runs))


def measures(runs: list[Run]) -> list[Measure]:
    """Per kind, every round together (requests over seconds), then each round: the rate's
    ratio, and the CPU a request of the server and of the tool."""
    out: list[Measure] = []
    for what in ("GET /healthz", "POST /trades"):
        pairs = [(b, m) for b, m in zip(runs[::2], runs[1::2], strict=True) if m.what == what]
        rates = [
            sum(r.count for r in tools) / sum(r.cpu.wall for r in tools)
            for tools in ([m for _, m in pairs], [b for b, _ in pairs])
        ]
        ratio = fmt_ratio(rates[0] / rates[1], 0.9) if rates[1] else ""
        name = f"{what}, {len(pairs)} rounds: load generator ÷ wrk"
        out.append(Measure(name, f"{fmt_int(rates[0])} req/s", f"{fmt_int(rates[1])} req/s", ratio))
        for number, (base, mine) in enumerate(pairs, 1):
            ratio = fmt_ratio(mine.rate / base.rate, 0.9) if base.rate else ""
            ours, theirs = (f"{fmt_int(r.rate)} req/s" for r in (mine, base))
            p50, p99 = fmt_ms(mine.p50), fmt_ms(mine.p99)
            out.append(Measure(f"  round {number}", ours, theirs, ratio, p50, p99))
            ours, theirs = (f"{r.server_ms:.3f} + {r.client_ms:.3f} ms" for r in (mine, base))
            out.append(Measure("    CPU a request: the server + the tool", ours, theirs))
    return out


async def checks(db: BenchDatabase, tag: str, runs: list[Run]) -> list[Check]:
    monitor = await connect(db.url)
    stored = "SELECT count(*) FROM trades WHERE external_id LIKE $1"
    try:
        ours = await monitor.fetchval(stored, f"LG{tag}%")
        theirs = await monitor.fetchval(stored, f"WK{tag}%")
    finally:
        await monitor.close()
    posted = {
        tool: sum(r.count - r.errors for r in runs if r.what == "POST /trades" and r.tool == tool)
        for tool in ("wrk", "loadgen")
    }
    return [
        Check("wrk: answers not 200 / 201", 0, sum(r.errors for r in runs if r.tool == "wrk")),
        Check(
            "load generator: answers not 200 / 201",
            0,
            sum(r.errors for r in runs if r.tool != "wrk"),
        ),
        Check("load generator: trades answered 201, stored", posted["loadgen"], ours),
        # wrk stops with requests in flight, which the server may still book.
        Check("wrk: trades answered 201 all stored", True, theirs >= posted["wrk"]),
    ]


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
