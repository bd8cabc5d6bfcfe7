"""The ``settlement`` command: serve, relay, migrate, demo data, API keys, the outbound message
export and the CSD simulator."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.apikeys.service import create_key, revoke_key
from app.core.auth import SYSTEM_ACTOR, Role
from app.core.clock import system_clock
from app.core.config import PROJECT_ROOT, get_settings
from app.core.db import UnitOfWork, create_engine, create_sessionmaker, is_sqlite
from app.core.idempotency import purge_expired
from app.core.migrations import upgrade
from app.positions.adjustments.demo import load_demo_opening
from app.reference.demo import load_demo_reference
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


@cli.command()
def demo(
    keys_file: Annotated[Path, typer.Option(help="Where to write the demo keys.")] = DEMO_KEYS_FILE,
) -> None:
    """Load demo reference data and opening balances (an approved opening adjustment), and issue
    one API key per role (written to var/demo-keys.txt)."""

    async def work(session: AsyncSession) -> tuple[bool, dict[Role, str]]:
        now = system_clock()
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
