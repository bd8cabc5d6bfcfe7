"""Every benchmark in its quick form, one after the other, each on its own fresh database; then
one table of all their measures. ``make bench`` runs this.

    python -m bench [--full] [--only ingest netting ...] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence

from bench.lib import cli
from bench.lib.db import DEFAULT_PG_URL
from bench.lib.report import Result, checks_table, summary

BENCHES = (
    "ingest",
    "idempotency_race",
    "confirmations",
    "ledger",
    "netting",
    "settlement",
    "reconciliation",
    "audit",
    "load",
)


async def run_all(names: Sequence[str], argv: Sequence[str]) -> list[Result]:
    results = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        args = cli.parse(module.PROG, module.__doc__ or "", module.SIZES, argv)
        command = " ".join([".venv/bin/python -m", module.PROG, *argv])
        print(f"\n=== {command}", flush=True)
        started = time.perf_counter()
        result = await cli.run_bench(module.bench, args, command, name)
        print(
            f"{checks_table(result)}\n({name}: {time.perf_counter() - started:.0f} s)", flush=True
        )
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=" ".join(__doc__.split("\n\n")[0].split())
    )
    parser.add_argument("--full", action="store_true", help="the full-size runs instead")
    parser.add_argument("--only", nargs="+", choices=BENCHES, default=BENCHES, metavar="BENCH")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server URL")
    args = parser.parse_args(argv)
    shared = ["--pg-url", args.pg_url] if args.pg_url != DEFAULT_PG_URL else []
    print(f"$ .venv/bin/python -m bench {' '.join(sys.argv[1:])}\n{cli.host_line()}", flush=True)
    results: list[Result] = cli.run_loop(run_all(args.only, ["--full"] * args.full + shared))
    print(f"\n{summary(results)}\n{cli.host_line()}")
    failed = [f"{r.bench}: {c.name}" for r in results for c in r.failed]
    if failed:
        print("FAILED CHECKS:\n  " + "\n  ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
