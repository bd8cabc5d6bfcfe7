"""Optional py-spy sampling of a process during a phase (``--py-spy DIR``), and where the Python
time went: by area of the running frame and by function. py-spy is not a dependency: install it
(``pip install py-spy``) or put it on PATH; without it the bench runs and says so."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

from bench.lib.report import render_table

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")
# Where the running frame's file is, first match wins: path fragment -> area.
_AREAS = {
    "sqlalchemy/orm/": "SQLAlchemy ORM",
    "sqlalchemy/": "SQLAlchemy Core, engine, asyncpg adapter",
    "asyncpg/": "asyncpg",
    "asyncio/": "event loop",
    "uvloop/": "event loop",
    **dict.fromkeys(
        ("pydantic", "starlette/", "fastapi/", "uvicorn/", "httpx/"), "HTTP, validation"
    ),
    **dict.fromkeys(("json/", "logging/", "structlog/"), "JSON, logging"),
    "app/audit/": "app: audit",
    "app/": "app: the rest",
    "bench/": "the bench",
}


def py_spy() -> str | None:
    venv = str(Path(sys.executable).parent)  # pip install py-spy puts it beside python
    return shutil.which("py-spy", path=f"{venv}{os.pathsep}{os.environ.get('PATH', '')}")


@contextlib.asynccontextmanager
async def profiled(
    directory: Path | None, name: str, pid: int | None = None
) -> AsyncIterator[None]:
    """Sample ``pid`` (default: this process) with py-spy for the block, when ``directory`` is
    given and py-spy is installed; then print the summary."""
    binary = py_spy() if directory is not None else None
    if directory is not None and binary is None:
        print("py-spy not found (pip install py-spy): running without a profile", file=sys.stderr)
    if directory is None or binary is None:
        yield
        return
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    path = directory / f"{name}.txt"
    process = await asyncio.create_subprocess_exec(
        *(binary, "record", "--pid", str(pid or os.getpid()), "--format", "raw"),
        *("--nolineno", "--gil", "--rate", "100", "--output", str(path)),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    await asyncio.sleep(0.5)  # attached before the measured work starts
    try:
        yield
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        _, error = await process.communicate()
        if path.exists():
            print_profile(path, name)
        else:
            print(f"py-spy wrote nothing: {error.decode(errors='replace')[-300:]}", file=sys.stderr)


def _leaf(stack: str) -> tuple[str, str]:
    match = _FRAME.match(stack.rsplit(";", 1)[-1])
    return (match["function"], match["file"]) if match else (stack or "(no Python frame)", "")


def print_profile(path: Path, name: str, top: int = 15) -> None:
    """By the running frame only: SQLAlchemy works in greenlets, whose stacks py-spy reports
    without the coroutine that called them, so inclusive times would undercount."""
    areas: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        function, file = _leaf(stack)
        area = next((a for part, a in _AREAS.items() if part in file), "other" if file else "C")
        areas[area] += int(number)
        functions[f"{function} ({'/'.join(file.split('/')[-2:]) or '-'})"] += int(number)
    total = sum(areas.values()) or 1
    print(f"py-spy, {name}: {total:,} samples holding the GIL at 100 Hz ({path})")
    share = [[a, f"{100 * n / total:.1f}%"] for a, n in areas.most_common()]
    print(render_table(["where the running frame is", "share"], share))
    rows = [[f, f"{100 * n / total:.1f}%"] for f, n in functions.most_common(top)]
    print(render_table(["function (own time)", "share"], rows))
