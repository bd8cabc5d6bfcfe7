"""``settlement eod --date``: the day closed from the command line (no terminal: the bars
print no live display), a summary table, the second run a no-op, exit 1 on a failed step and
the next invocation going on from it."""

import asyncio
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from app.core.config import get_settings
from app.reports.eod import service
from tests.clearing.support import MORGAN, book_confirmed
from tests.conftest import Database
from tests.factories import GOLDMAN
from tests.positions.conftest import Adjust, line
from tests.reports.eod.test_eod_api import DAY, NAMES, failing_once_after, listed
from tests.settlement.support import bund
from tests.support import Api


@pytest.fixture
def on_test_database(db: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SETTLEMENT_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def eod(*arguments: str) -> Result:
    """The command in a thread of its own (it runs its own event loop)."""
    runner = CliRunner()
    return await asyncio.to_thread(lambda: runner.invoke(cli, ["eod", *arguments]))


async def two_trades(api: Api, adjust: Adjust) -> None:
    await adjust("opening", line("CASH-EUR", "EUR", "790079.45"))
    await book_confirmed(api, **bund(counterparty_lei=GOLDMAN))
    await book_confirmed(api, **bund(counterparty_lei=MORGAN, side="sell", price="78.60"))


async def test_the_command_closes_the_day_once(
    api: Api, adjust: Adjust, on_test_database: None
) -> None:
    await two_trades(api, adjust)

    first = await eod("--date", DAY)

    assert first.exit_code == 0, first.output
    assert f"End of day {DAY}: completed" in first.output
    for name in NAMES:
        assert name in first.output
    assert "trades 2, cleared 2, obligations 2, instructions 2" in first.output
    [run] = await listed(api, "/eod-runs", date=DAY)
    assert (run["status"], run["processed"]) == ("completed", 7)
    again = await eod("--date", DAY)
    assert again.exit_code == 0, again.output
    assert f"end of day {DAY}: already complete ({run['id']}); nothing done" in again.output
    assert len(await listed(api, "/settlement-runs", settlement_date=DAY)) == 1


async def test_a_failed_step_exits_1_and_the_next_invocation_goes_on_from_it(
    api: Api, adjust: Adjust, on_test_database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await two_trades(api, adjust)
    steps, _ = failing_once_after("clearing")
    monkeypatch.setattr(service, "STEPS", steps)

    failed = await eod("--date", DAY)

    assert failed.exit_code == 1, failed.output
    assert "failed: the settlement engine went away" in failed.output
    assert f"End of day {DAY}: failed" in failed.output
    resumed = await eod("--date", DAY)
    assert resumed.exit_code == 0, resumed.output
    [run] = await listed(api, "/eod-runs", date=DAY)
    assert [step["status"] for step in run["steps"]] == [*["completed"] * 5, "skipped", "completed"]
    assert len(await listed(api, "/clearing-runs", settlement_date=DAY)) == 1


async def test_a_date_nothing_settles_on_is_refused(on_test_database: None, reference: None):
    refused = await eod("--date", "2026-11-21")
    assert refused.exit_code == 2
    assert "2026-11-21 (Saturday) is not a business day" in refused.output
