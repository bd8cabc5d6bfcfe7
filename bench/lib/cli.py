"""The one command line of every bench: its sizes (quick by default, ``--full`` for the sizes the
README quotes, any one set by hand), the database, py-spy; then set up, run, check, report."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lib.db import DEFAULT_PG_URL, BenchDatabase, drop_database, prepare_database
from bench.lib.measure import reset_peak_rss
from bench.lib.report import Result, checks_table, summary


@dataclass(frozen=True)
class Size:
    name: str  # the option, without its dashes
    quick: Any  # an int, a float, or a list of ints
    full: Any
    help: str


Bench = Callable[[argparse.Namespace, BenchDatabase], Awaitable[Result]]


def parser(prog: str, doc: str, sizes: Sequence[Size]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {prog}",
        description=" ".join(doc.split("\n\n")[0].split()),
        epilog="Quick sizes by default; --full for the full-size run; any size can be set.",
    )
    parser.add_argument("--full", action="store_true", help="full-size run (README figures)")
    for size in sizes:
        many = isinstance(size.quick, list)
        parser.add_argument(
            f"--{size.name.replace('_', '-')}",
            type=int if many else type(size.quick),
            nargs="+" if many else None,
            help=f"{size.help} (quick {size.quick}, full {size.full})",
        )
    name = prog.rsplit(".", 1)[-1]
    # The process id keeps two benches running at once off each other's database.
    default = f"settlement_bench_{name}_{os.getpid()}"
    parser.add_argument("--database", default=default, help="database name (default: per process)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server URL")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    parser.add_argument("--py-spy", type=Path, metavar="DIR", help="profile with py-spy into DIR")
    return parser


def parse(prog: str, doc: str, sizes: Sequence[Size], argv: Sequence[str]) -> argparse.Namespace:
    args = parser(prog, doc, sizes).parse_args(argv)
    for size in sizes:
        if getattr(args, size.name) is None:
            setattr(args, size.name, size.full if args.full else size.quick)
    return args


def host_line() -> str:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"host: {os.cpu_count()} cores, load average {load}, Python {platform.python_version()}"


async def run_bench(bench: Bench, args: argparse.Namespace, command: str, name: str) -> Result:
    """A fresh database for ``bench``, dropped after it unless ``--keep-database``."""
    reset_peak_rss()
    db = await prepare_database(args.database, args.pg_url)
    try:
        result = await bench(args, db)
    finally:
        if not args.keep_database:
            await drop_database(db.name, args.pg_url)
    result.bench, result.command = name, command
    return result


def run_loop(work: Awaitable[Any]) -> Any:
    """On uvloop when installed, as uvicorn runs the app."""
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(work)  # type: ignore[arg-type]


def main(prog: str, doc: str, sizes: Sequence[Size], bench: Bench) -> int:
    """``python -m <prog> [options]``: the bench, its checks, its rows of the summary table."""
    argv = sys.argv[1:]
    command = shlex.join([".venv/bin/python", "-m", prog, *argv])
    print(f"$ {command}\n{host_line()}", flush=True)
    args = parse(prog, doc, sizes, argv)
    result: Result = run_loop(run_bench(bench, args, command, prog.rsplit(".", 1)[-1]))
    print(f"\n{checks_table(result)}\n\n{summary([result])}\n{host_line()}")
    return 1 if result.failed else 0
