"""/dashboard in headless Chromium with every host but the service blocked: a bad key is sent
back to the sign-in form with the reason; an operations key draws the charts of a seeded day
(failing Bunds, a JPM sale failing and penalised, an open break, a clearing run, the day's
end-of-day run) with their numbers as text. Screenshots go to
SETTLEMENT_TEST_ARTIFACTS (var/test-artifacts), as tests/docs' browser test does.

The data is seeded with the served app's clock frozen on Friday 2026-11-27, and the page
opened on the Saturday morning after: its business day is the Friday, with the Friday's runs
(and, opened on Monday before Monday's end of day, Monday with the Friday's end of day). On
the Friday: the Bund bought from Goldman, due
Thursday the 26th and never settled, fails its first TARGET business day; another, due on the
27th, is what the clearing run of the day instructs. A JPM sale due the 25th fails 40 of 100
(tests/penalties/support.py): a penalty run books the 25th, the end-of-day run of the 27th books
the 27th (Thanksgiving, the 26th, is no US business day). The efficiency chart,
to Saturday the 28th, has one bar per TARGET business day from the 20th before it (20 bars).
"""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import pytest

from app.apikeys.service import create_key
from app.core.auth import SYSTEM_ACTOR, Role
from app.core.clock import get_clock
from app.core.config import Settings
from app.core.db import UnitOfWork, create_engine, create_sessionmaker
from app.core.migrations import upgrade
from app.main import create_app
from app.reconciliation.breaks.models import ReconciliationBreak
from app.reference.demo import load_demo_reference
from tests.browser import artifact, offline_page, screenshot
from tests.browser import served as served_over_http
from tests.clearing.support import OPS, book_confirmed, clear
from tests.conftest import DEFAULT_NOW
from tests.factories import GOLDMAN
from tests.penalties.support import PRICES, add_price, failing_jpm, run_penalties
from tests.positions.conftest import Adjust
from tests.settlement.support import bund
from tests.support import Api, FrozenClock

pytestmark = pytest.mark.browser

BUSINESS_DAY = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
SATURDAY_MORNING = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
MONDAY_MORNING = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
BUND_DUE = "2026-11-26"
TODAY = "2026-11-27"
# The JPM sale failing 40 (LACK) from 2026-11-25 (tests/penalties/support.py): penalised on
# the 25th by a penalty run, and on the 27th by the end-of-day run's penalties step.
JPM_DUE = "2026-11-25"
PENALISED = [JPM_DUE, TODAY]
JPM_RATE = Decimal("0.0001")  # liquid shares, from /penalty-rates
JPM_FAILED = Decimal(40)
JPM_FAILED_AMOUNT = JPM_FAILED * Decimal("190.25")  # 40 of the 100 sold at 190.25


async def _seed(url: str, base_url: str, clock: FrozenClock) -> dict[Role, str]:
    """Keys per role, the demo reference, a failing Bund, an open break and a clearing run."""
    engine = create_engine(url)
    try:
        keys: dict[Role, str] = {}
        async with create_sessionmaker(engine)() as session, UnitOfWork(session):
            for role in Role:
                issued = await create_key(
                    session, name=f"browser {role}", role=role, actor=SYSTEM_ACTOR, now=DEFAULT_NOW
                )
                keys[role] = issued.secret
            second = await create_key(
                session,
                name="browser operations 2",
                role=Role.OPERATIONS,
                actor=SYSTEM_ACTOR,
                now=DEFAULT_NOW,
            )
            await load_demo_reference(session, actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
            session.add(_open_break())
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            api = Api(client, keys)
            await failing_jpm(api, _adjuster(api, second.secret))
            for day in PENALISED:
                await add_price(api, day)
            await book_confirmed(api, **bund(counterparty_lei=GOLDMAN))
            await book_confirmed(
                api,
                **bund(
                    counterparty_lei=GOLDMAN,
                    trade_date="2026-11-25",
                    trade_time="2026-11-25T10:00:00Z",
                ),
            )
            await clear(api, BUND_DUE)
            clock.set(BUSINESS_DAY)
            await clear(api, TODAY)
            await run_penalties(api, JPM_DUE)
            eod = await api.post(
                "/eod-runs", json={"date": TODAY}, params={"wait": "true"}, role=OPS
            )
            assert eod.status_code == 200, eod.text
        return keys
    finally:
        await engine.dispose()


def _adjuster(api: Api, second_key: str) -> Adjust:
    """Adjustments under four-eyes: proposed by operations, approved by the second key."""

    async def post(kind: str, *lines: dict[str, Any], reason: str = "test") -> dict[str, Any]:
        body = {"kind": kind, "reason": reason, "lines": list(lines)}
        proposed = await api.post("/adjustments", json=body, role=OPS)
        assert proposed.status_code == 201, proposed.text
        approved = await api.post(
            f"/adjustments/{proposed.json()['id']}/approve",
            headers={"Authorization": f"Bearer {second_key}"},
        )
        assert approved.status_code == 200, approved.text
        answer: dict[str, Any] = approved.json()
        return answer

    return post


def _open_break() -> ReconciliationBreak:
    # Since Friday the 20th: 23rd to 27th are 5 TARGET business days, bucket 2-5.
    return ReconciliationBreak(
        id="brk_browser",
        kind="missing_in_book",
        status="open",
        key="test:brk_browser",
        account="CASH-EUR",
        currency="EUR",
        isin=None,
        amount=Decimal("250.00"),
        since=date(2026, 11, 20),
        value_date=date(2026, 11, 20),
        detail="Statement line with no book movement",
        statement_id=None,
        statement_entry_ids=[],
        movement_ids=[],
        created_at=DEFAULT_NOW,
        updated_at=DEFAULT_NOW,
        version=1,
    )


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[Role, str], FrozenClock]]:
    """(base URL, keys per role, clock) of the seeded app served by uvicorn on loopback, in a
    thread, its clock frozen on the Saturday morning after the seeded Friday."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('dashboard') / 'dashboard.db'}"
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(upgrade, url).result()
    app = create_app(Settings(database_url=url, background_workers=False, log_level="WARNING"))
    clock = FrozenClock(DEFAULT_NOW)
    app.dependency_overrides[get_clock] = lambda: clock
    with served_over_http(app) as base_url:
        with ThreadPoolExecutor(max_workers=1) as pool:
            keys = pool.submit(asyncio.run, _seed(url, base_url, clock)).result()
        clock.set(SATURDAY_MORNING)
        yield base_url, keys, clock


@pytest.fixture(scope="module")
def browser_page(
    served: tuple[str, dict[Role, str], FrozenClock],
) -> Iterator[tuple[Any, list[str]]]:
    with offline_page(width=1400, height=1300) as page:
        yield page


def _sign_in(page: Any, base_url: str, key: str) -> None:
    page.goto(f"{base_url}/dashboard")
    if page.locator("#sign-out").is_visible():  # still signed in from an earlier test
        page.locator("#sign-out").click()
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def _loaded(page: Any) -> None:
    """Wait for the board to be drawn; if it is not, fail with what the page says."""
    try:
        page.locator("body[data-loaded='true']").wait_for()
    except Exception as error:
        message = page.locator("#board-message").inner_text()
        sign_in = page.locator("#sign-in-message").inner_text()
        raise AssertionError(f"not loaded: board {message!r}, sign-in {sign_in!r}") from error


def _target_days(end: date, back: int) -> list[str]:
    """The TARGET business days from the ``back``-th before ``end`` to ``end`` (no TARGET
    holiday falls in October or November: only weekends are closed)."""
    days = [end]
    day = end
    while len(days) <= back:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return [day.isoformat() for day in reversed(days)]


def _bars(page: Any, chart: str) -> list[tuple[str, str]]:
    bars = page.locator(f"#{chart} svg rect.bar, #{chart} svg rect[class~='bar']")
    return [
        (bar.get_attribute("data-label"), bar.get_attribute("data-value")) for bar in bars.all()
    ]


def _row(page: Any, numbers: str, head: str) -> list[str]:
    row = page.locator(
        f"#{numbers} tbody tr", has=page.get_by_role("rowheader", name=head, exact=True)
    )
    return [cell.strip() for cell in row.locator("th, td").all_inner_texts()]


def test_a_bad_key_goes_back_to_the_sign_in_form_with_the_reason(
    served: tuple[str, dict[Role, str], FrozenClock], browser_page: tuple[Any, list[str]]
) -> None:
    base_url, keys, _clock = served
    page, elsewhere = browser_page

    _sign_in(page, base_url, keys[Role.TRADER])

    message = page.locator("#sign-in-message")
    message.filter(has_text="Signed out").wait_for()
    assert page.locator("#board").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    _sign_in(page, base_url, "not-a-key")
    message.filter(has_text="Signed out").wait_for()
    screenshot(page, "dashboard-sign-in-refused.png")
    assert elsewhere == []


def test_the_dashboard_draws_the_day_with_its_numbers(
    served: tuple[str, dict[Role, str], FrozenClock], browser_page: tuple[Any, list[str]]
) -> None:
    base_url, keys, _clock = served
    page, elsewhere = browser_page

    _sign_in(page, base_url, keys[Role.OPERATIONS])
    _loaded(page)

    # Opened on Saturday the 28th: the latest TARGET business day is Friday the 27th.
    assert page.locator("#business-day").inner_text() == TODAY
    days = _target_days(date(2026, 11, 27), 19)
    assert len(days) == 20
    assert _bars(page, "efficiency-chart") == [
        (day, "0" if day in (JPM_DUE, BUND_DUE, TODAY) else "") for day in days
    ]
    assert _row(page, "efficiency-numbers", JPM_DUE) == [JPM_DUE, "1", "0", "0.00 %"]
    assert _row(page, "efficiency-numbers", BUND_DUE) == [BUND_DUE, "1", "0", "0.00 %"]
    assert _row(page, "efficiency-numbers", TODAY) == [TODAY, "1", "0", "0.00 %"]
    assert _row(page, "efficiency-numbers", "Total") == ["Total", "3", "0", "0.00 %"]
    # Both Bunds (the 27th's failed at Friday's close), and the JPM sale: Thursday the 26th
    # is Thanksgiving, no US business day.
    assert _bars(page, "fails-chart") == [
        ("1", "3"),
        ("2-3", "0"),
        ("4-7", "0"),
        ("8-15", "0"),
        ("16+", "0"),
    ]
    bunds = _bund_amount(date(2026, 11, 26)) + _bund_amount(date(2026, 11, 27))
    assert _row(page, "fails-numbers", "1") == ["1", "3", f"{bunds} EUR, {JPM_FAILED_AMOUNT} USD"]
    assert _bars(page, "breaks-chart") == [
        ("0-1", "0"),
        ("2-5", "1"),
        ("6-30", "0"),
        ("over_30", "0"),
    ]
    assert _row(page, "breaks-numbers", "2-5") == ["2-5", "1", "250.00 EUR"]
    _assert_penalties(page)
    _assert_runs(page)
    assert page.get_by_role("img", name="Settled on time by count").count() == 1
    _assert_tables_fit(page)
    screenshot(page, "dashboard.png")
    page.screenshot(path=str(artifact("dashboard-full.png")), full_page=True)
    page.set_viewport_size({"width": 1000, "height": 1300})
    try:
        page.screenshot(path=str(artifact("dashboard-1000.png")), full_page=True)
        _assert_tables_fit(page)
    finally:
        page.set_viewport_size({"width": 1400, "height": 1300})
    assert elsewhere == []


def test_before_the_days_end_of_day_the_previous_business_days_is_shown(
    served: tuple[str, dict[Role, str], FrozenClock], browser_page: tuple[Any, list[str]]
) -> None:
    """Monday morning, nothing run yet: Monday is the business day, and the runs panel shows
    Friday's end of day, labelled with its day."""
    base_url, keys, clock = served
    page, elsewhere = browser_page
    clock.set(MONDAY_MORNING)
    try:
        _sign_in(page, base_url, keys[Role.OPERATIONS])
        page.locator("#business-day", has_text="2026-11-30").wait_for()
        _loaded(page)

        assert page.locator("#business-day").inner_text() == "2026-11-30"
        assert page.locator("#runs-note").inner_text() == (
            f"No run for 2026-11-30 yet. The last end of day: {TODAY}."
        )
        rows = _runs(page)
        assert [(row[0], row[1], row[3], row[4]) for row in rows] == [
            ("End of day", TODAY, "completed", "7/7 steps"),
        ]
        assert page.locator("#eod-steps h3").inner_text() == (
            f"End of day {TODAY} ({rows[0][2]}): completed, 7/7 steps"
        )
        screenshot(page, "dashboard-monday-morning.png")
    finally:
        clock.set(SATURDAY_MORNING)
    assert elsewhere == []


def _assert_tables_fit(page: Any) -> None:
    """Every panel's table ends inside its panel, and the page does not scroll sideways."""
    for numbers in ("efficiency-numbers", "penalties-numbers", "fails-numbers", "runs"):
        panel = page.locator("section.panel", has=page.locator(f"#{numbers}")).bounding_box()
        table = page.locator(f"#{numbers} table").bounding_box()
        assert table["x"] + table["width"] <= panel["x"] + panel["width"], numbers
        widths = page.locator(f"#{numbers}").evaluate(
            "element => [element.scrollWidth, element.clientWidth]"
        )
        assert widths[0] <= widths[1] + 1, (numbers, widths)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _bund_amount(settles: date) -> Decimal:
    """1,000,000 of the Bund 1.80 % (annual, ACT/ACT-ICMA, coupon 15 August) at 78.50, plus
    the interest accrued since 2026-08-15 over the 365-day period."""
    accrued = Decimal(1_000_000) * Decimal("0.018") * (settles - date(2026, 8, 15)).days / 365
    return Decimal(785_000) + accrued.quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def _penalty(day: str) -> Decimal:
    """A day of the JPM fail: rate x that day's closing price x failed quantity, half-even."""
    amount = JPM_RATE * Decimal(PRICES[day]) * JPM_FAILED
    return amount.quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def _assert_penalties(page: Any) -> None:
    """November: both penalties payable in USD; the five months before: nothing, in bars and
    in the table."""
    payable = sum((_penalty(day) for day in PENALISED), Decimal("0.00"))
    earlier = ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert [
        chart.get_attribute("data-currency")
        for chart in page.locator("#penalties-chart .series").all()
    ] == ["USD"]
    assert _bars(page, "penalties-chart") == [
        *[(f"{month} {side}", "0") for month in earlier for side in ("payable", "receivable")],
        ("2026-11 payable", str(payable)),
        ("2026-11 receivable", "0"),
    ]
    assert page.get_by_role("img", name="Penalties in USD: payable vs receivable").count() == 1
    for month in earlier:
        assert _row(page, "penalties-numbers", month) == [month, "-", "0", "-", "-", "-"]
    assert _row(page, "penalties-numbers", "2026-11") == [
        "2026-11",
        "USD",
        "2",
        str(payable),
        "0.00",
        f"-{payable}",
    ]


def _runs(page: Any) -> list[list[str]]:
    """The runs table's rows: run, business day, id, status, processed / total."""
    return [
        [cell.strip() for cell in row.locator("th, td").all_inner_texts()][:5]
        for row in page.locator("#runs tbody tr").all()
    ]


def _assert_runs(page: Any) -> None:
    """The end of day first (7 steps, all done), then the runs it started or took over, all
    of Friday the 27th (its end of day ran: no earlier one is shown)."""
    rows = _runs(page)
    assert page.locator("#runs-note").inner_text() == ""
    assert [(row[0], row[1], row[3], row[4]) for row in rows] == [
        ("End of day", TODAY, "completed", "7/7 steps"),
        ("Clearing", TODAY, "completed", "1 / 1"),
        # Due by the 27th and unsettled: the two Bunds and the JPM sale.
        ("Settlement", TODAY, "completed", "3 / 3"),
        ("Penalties", TODAY, "completed", "3 / 3"),
    ]
    assert [row[2][:4] for row in rows] == ["eod_", "clr_", "str_", "pnl_"]
    eod = page.locator("#runs tbody tr").first.get_by_role("progressbar")
    assert (eod.get_attribute("max"), eod.get_attribute("value")) == ("7", "7")
    assert page.locator("#eod-steps h3").inner_text() == (
        f"End of day {TODAY} ({rows[0][2]}): completed, 7/7 steps"
    )
    steps = page.locator("#eod-steps li")
    assert [
        (step.get_attribute("data-step"), step.get_attribute("data-status"))
        for step in (steps.all())
    ] == [
        ("affirmation_deadlines", "completed"),
        ("clearing", "skipped"),
        ("instructions", "completed"),
        ("settlement", "completed"),
        ("penalties", "completed"),
        ("reconciliation", "skipped"),
        ("reports", "completed"),
    ]
    # The Bunds have no closing price: an exception each, never a zero penalty.
    assert page.locator("#eod-steps li[data-step='penalties']").inner_text() == (
        "penalties completed looked at: 3, booked: 1, reversed: 0, exceptions: 2"
    )
    assert page.locator("#eod-steps li[data-step='reconciliation']").inner_text() == (
        "reconciliation skipped accounts: 0, note: No statement received for 2026-11-27."
    )
