"""``python -m csd_sim`` and ``settlement csd-sim``: the simulator against a running service."""

import asyncio
import contextlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer

from csd_sim.client import ServiceClient, connect
from csd_sim.engine import Engine
from csd_sim.identifiers import Identifiers, stamp
from csd_sim.loop import Simulator, business_days
from csd_sim.scenario import Scenario, ScenarioError, load_scenario


def _now() -> datetime:
    return datetime.now(UTC)


async def _simulate(
    url: str, api_key: str, scenario: Scenario, day: date | None, once: bool, days: int, poll: float
) -> None:
    ids = Identifiers(scenario.message_prefix, stamp(_now()))
    engine = Engine(scenario, ids=ids)
    async with connect(url, api_key) as http:
        simulator = Simulator(engine, ServiceClient(http), echo=typer.echo)
        if not once:
            typer.echo(f"CSD simulator {scenario.bic} polling {url}; Ctrl-C stops it")
            await simulator.run(clock=_now, poll_interval=poll, day=day)
            return
        for business_day in business_days(day or _now().date(), days, scenario.holidays):
            report = await simulator.run_day(business_day)
            refused = sum(1 for posted in report.posted if not posted.accepted)
            typer.echo(
                f"{business_day}: claimed {len(report.claimed)}, "
                f"posted {len(report.posted)} answers ({refused} refused)"
            )


def run_simulator(
    *,
    url: str,
    api_key: str,
    scenario_file: Path | None,
    day: date | None,
    once: bool,
    days: int = 1,
    poll_interval: float = 2.0,
) -> None:
    """Run the simulator: one pass per business day (``once``), or polling until interrupted."""
    try:
        scenario = Scenario() if scenario_file is None else load_scenario(scenario_file)
    except ScenarioError as error:
        raise typer.BadParameter(str(error), param_hint="--scenario") from None
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_simulate(url, api_key, scenario, day, once, days, poll_interval))
    except httpx.HTTPError as error:
        typer.echo(f"the service at {url} did not answer as the contract says: {error}", err=True)
        raise typer.Exit(1) from None


def command(
    url: Annotated[str, typer.Option(help="The service's base URL.")] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str, typer.Option(help="An API key of role gateway.", envvar="CSD_SIM_API_KEY")
    ] = "",
    scenario: Annotated[
        Path | None, typer.Option(help="The scenario file (JSON or TOML).", exists=True)
    ] = None,
    day: Annotated[
        datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="The business date (default: today)."),
    ] = None,
    once: Annotated[bool, typer.Option(help="One pass per day, then exit.")] = False,
    days: Annotated[int, typer.Option(help="With --once: business days to run.", min=1)] = 1,
    poll_interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 2.0,
) -> None:
    """Claim the service's outbound instructions and answer as the CSD would."""
    if not api_key:
        raise typer.BadParameter("give --api-key (a key of role gateway)", param_hint="--api-key")
    run_simulator(
        url=url,
        api_key=api_key,
        scenario_file=scenario,
        day=None if day is None else day.date(),
        once=once,
        days=days,
        poll_interval=poll_interval,
    )


def main() -> None:
    typer.run(command)
