"""The ``settlement`` command: serve, relay, migrate, demo data, API keys, the outbound message
export and the CSD simulator."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from app.apikeys.service import create_key, revoke_key
from app.core.auth import SYSTEM_ACTOR, Role
from app.core.clock import system_clock
from app.core.config import PROJECT_ROOT, get_settings
from app.core.db import UnitOfWork, create_engine, create_sessionmaker, is_sqlite
from app.core.errors import ValidationFailed
from app.core.idempotency import purge_expired
from app.core.migrations import upgrade
from app.core.runs.states import RunStatus
from app.positions.adjustments.demo import load_demo_opening
from app.reference.demo import load_demo_reference
from app.reports.eod import command as eod_command
from app.reports.eod.models import EodRun
from app.settlement.outbound import export as outbound_export
from app.trades.deadline_runs import service as deadlines
from app.workers import background_workers

cli = typer.Typer(help="Settlement back office.", no_args_is_help=True)
keys = typer.Typer(help="API keys.", no_args_is_help=True)
cli.add_typer(keys, name="keys")
outbound = typer.Typer(help="Messages to depositories.", no_args_is_help=True)
cli.add_typer(outbound, name="outbound")

T = TypeVar("T")
DEMO_KEYS_FILE = PROJECT_ROOT / "var" / "demo-keys.txt"


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(get_settings().database_url)
        try:
            async with create_sessionmaker(engine)() as session, UnitOfWork(session):
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _ensure_sqlite_folder() -> None:
    url = get_settings().database_url
    if is_sqlite(url) and ":///" in url:
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)


@cli.command()
def migrate() -> None:
    """Upgrade the database to the latest migration."""
    _ensure_sqlite_folder()
    upgrade(get_settings().database_url)
    typer.echo("database at the latest migration")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API (uvicorn), with bounded header size and read time (app/core/serving.py)."""
    import uvicorn

    from app.core.serving import uvicorn_options

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
        **uvicorn_options(),
    )


@cli.command()
def relay() -> None:
    """Run the audit sealer and the webhook relay until interrupted (no API). Any number of
    relays may run beside the servers: they share the deliveries, never sending one twice."""
    settings = get_settings()

    async def run() -> None:
        engine = create_engine(settings.database_url)
        sessionmaker = create_sessionmaker(engine, audit_trail=settings.audit_trail)
        try:
            async with background_workers(settings, engine, sessionmaker, enabled=True):
                typer.echo("sealer and webhook relay running; Ctrl-C stops them")
                await asyncio.Event().wait()
        finally:
            await engine.dispose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def _demo_week_days(days: int) -> list[date]:
    try:
        from demo_week.week import week_days
    except ImportError:
        raise typer.BadParameter(
            "the demo week needs the demo_week package (a development install)",
            param_hint="--days",
        ) from None
    return week_days(system_clock().date(), days)


def _play_demo_week(keys_file: Path, days: list[date], *, loaded_now: bool) -> None:
    """The week through the API, in process (the ``demo_week`` package: not in production)."""
    from demo_week.command import play_week
    from demo_week.week import NeedsFreshDatabase

    keys = dict(line.split("\t", 1) for line in keys_file.read_text().splitlines() if line)
    typer.echo(f"playing {len(days)} business days, {days[0]} to {days[-1]}")
    try:
        summary = play_week(
            get_settings(), keys, days, typer.echo, opening_loaded_for_week=loaded_now
        )
    except NeedsFreshDatabase:
        typer.echo(
            "the demo week needs a fresh database: the demo data here was loaded earlier, so "
            f"its opening balances are dated after {days[0]}. Remove var/settlement.db (or set "
            "SETTLEMENT_DATABASE_URL to a new database), run `settlement migrate`, then "
            "`settlement demo --days N` again.",
            err=True,
        )
        raise typer.Exit(1) from None
    if summary is None:
        typer.echo(f"the demo week is there already (trades on {days[0]}): nothing done")
    else:
        typer.echo(f"demo week done: {summary.line()}")


@cli.command()
def demo(
    keys_file: Annotated[Path, typer.Option(help="Where to write the demo keys.")] = DEMO_KEYS_FILE,
    days: Annotated[
        int,
        typer.Option(
            min=0,
            max=20,
            help="Also play this many business days up to yesterday through the API: trades, "
            "confirmations, clearing, the CSD simulator, settlement, prices, bank statements "
            "and reconciliation (0: reference data and keys only).",
        ),
    ] = 0,
) -> None:
    """Load demo reference data and opening balances (an approved opening adjustment), and issue
    one API key per role (written to var/demo-keys.txt); with --days, play a week of business."""
    week = _demo_week_days(days) if days else []
    # The week's book starts the evening before its first day: the data is loaded then.
    loaded_at = (
        datetime.combine(week[0] - timedelta(days=1), time(18), tzinfo=UTC)
        if week
        else system_clock()
    )

    async def work(session: AsyncSession) -> tuple[bool, dict[Role, str]]:
        now = loaded_at
        loaded = await load_demo_reference(session, actor=SYSTEM_ACTOR, now=now)
        await load_demo_opening(session, now=now)
        issued: dict[Role, str] = {}
        if loaded or not keys_file.exists():
            for role in Role:
                key = await create_key(
                    session, name=f"demo {role}", role=role, actor=SYSTEM_ACTOR, now=now
                )
                issued[role] = key.secret
        return loaded, issued

    loaded, issued = _in_transaction(work)
    typer.echo("demo reference data loaded" if loaded else "demo reference data already present")
    if issued:
        keys_file.parent.mkdir(parents=True, exist_ok=True)
        keys_file.write_text("".join(f"{role}\t{secret}\n" for role, secret in issued.items()))
        keys_file.chmod(0o600)
    typer.echo(f"demo API keys (also in {keys_file}):")
    typer.echo(keys_file.read_text() if keys_file.exists() else "(none)")
    if week:
        _play_demo_week(keys_file, week, loaded_now=loaded)


@keys.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="The key's one role.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key.")] = "cli",
) -> None:
    """Issue an API key; it is printed once and stored only as a hash."""

    async def work(session: AsyncSession) -> tuple[str, str]:
        issued = await create_key(
            session, name=name, role=role, actor=SYSTEM_ACTOR, now=system_clock()
        )
        return issued.api_key.id, issued.secret

    key_id, secret = _in_transaction(work)
    typer.echo(f"{key_id}\t{role}\t{secret}")


@keys.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_...).")]) -> None:
    """Revoke an API key at once."""

    async def work(session: AsyncSession) -> None:
        await revoke_key(session, key_id=key_id, actor=SYSTEM_ACTOR, now=system_clock())

    _in_transaction(work)
    typer.echo(f"revoked {key_id}")


@cli.command("affirmation-deadlines")
def affirmation_deadlines() -> None:
    """Flag trades past their market's affirmation cutoff, unconfirmed (once each)."""

    async def run() -> int:
        engine = create_engine(get_settings().database_url)
        try:
            sessionmaker = create_sessionmaker(engine)
            async with sessionmaker() as session, UnitOfWork(session):
                started = await deadlines.start_run(session, actor=SYSTEM_ACTOR, now=system_clock())
            await deadlines.process_run(
                sessionmaker, run_id=started.id, actor=SYSTEM_ACTOR, clock=system_clock
            )
            async with sessionmaker() as session:
                return (await deadlines.get_run(session, run_id=started.id)).flagged
        finally:
            await engine.dispose()

    typer.echo(f"flagged {asyncio.run(run())} trades past their affirmation cutoff")


@cli.command()
def eod(
    day: Annotated[
        datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="The business date (default today)."),
    ] = None,
) -> None:
    """Close a business day: affirmation deadlines, clearing, instructions, settlement and fail
    ageing, reconciliation of the statements received, the day's reports; in order, once per
    date. A failed or interrupted run goes on from its step; a completed one does nothing and
    says so. Exits 1 when a step failed."""
    console = Console()
    if not console.is_terminal:  # a log or a pipe: room for the summary's counts
        console.width = max(console.width, 120)
    when = (day or system_clock()).date()

    async def run() -> EodRun:
        engine = create_engine(get_settings().database_url)
        try:
            return await eod_command.run_day(
                create_sessionmaker(engine),
                day=when,
                actor=SYSTEM_ACTOR,
                clock=system_clock,
                console=console,
            )
        finally:
            await engine.dispose()

    try:
        ended = asyncio.run(run())
    except ValidationFailed as refused:
        typer.echo(refused.detail, err=True)
        raise typer.Exit(2) from None
    console.print(eod_command.summary_table(ended))
    if ended.status != RunStatus.COMPLETED:
        raise typer.Exit(1)


@outbound.command("export")
def outbound_export_files(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the messages.")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="At most this many.")] = 100,
) -> None:
    """Claim pending outbound messages and write one file each (<reference>.xml or .fin); each
    is reported sent once its file is on disk. A file that fails leaves its message claimed:
    it is claimed again after the lease."""

    async def run() -> outbound_export.Exported:
        engine = create_engine(get_settings().database_url)
        try:
            return await outbound_export.export(
                create_sessionmaker(engine),
                directory=directory,
                limit=limit,
                actor=SYSTEM_ACTOR,
                clock=system_clock,
            )
        finally:
            await engine.dispose()

    exported = asyncio.run(run())
    for path in exported.written:
        typer.echo(str(path))
    for message_id, why in exported.failed.items():
        typer.echo(f"not written: {message_id}: {why}", err=True)
    typer.echo(f"exported {len(exported.written)} messages, {len(exported.failed)} failed")
    if exported.failed:
        raise typer.Exit(1)


@cli.command("purge-idempotency-keys")
def purge_idempotency_keys() -> None:
    """Delete Idempotency-Keys older than the retention (run it daily)."""
    retention = timedelta(hours=get_settings().idempotency_retention_hours)

    async def work(session: AsyncSession) -> int:
        return await purge_expired(session, now=system_clock(), retention=retention)

    typer.echo(f"purged {_in_transaction(work)} idempotency keys older than {retention}")


def _add_csd_simulator() -> None:
    """``settlement csd-sim``: the simulator's own command (its options are declared there).
    The simulator is no part of the app and talks to it over HTTP only; an installation
    without it (the production image) simply has no such command."""
    try:
        from csd_sim.cli import command
    except ImportError:
        return
    cli.command(
        "csd-sim",
        help="Run the CSD simulator against a server: it claims the outbound instructions and "
        "answers with sese.024/sese.025 or MT548/MT54x (a test and demo double, see the README).",
    )(command)


_add_csd_simulator()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
