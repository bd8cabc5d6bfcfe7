"""The week, played through the HTTP API: each business day is a list of steps (a time of day,
a name, an action), each the call an operator, a trading system, a counterparty's gateway or
the depository makes. The clock is set to each step's moment before it runs.

The day closes with one end-of-day run (``POST /eod-runs``, README "End of day") after the
bank's statement: affirmation deadlines, clearing for the day and the next settlement day (the
instructions the simulator answers the next day), the settlement run, reconciliation and the
day's reports. The internal markets' settlement run goes before the bank's statement, as the
intraday batch it is (the statement is written from what the book settled), and the end of
day takes it as its own.
"""

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol

import httpx

from app.core.calendars import BusinessCalendar
from app.positions.ledger_accounts.codes import cash
from csd_sim.client import ServiceClient, connect
from csd_sim.engine import Engine
from csd_sim.loop import Simulator
from csd_sim.scenario import HoldRule, LateConfirmation, Scenario, Selector, Shortfall
from demo_week import script, statements
from demo_week.script import Confirm, DayPlan

API = "/api/v1"
EUR_ACCOUNT = "CASH-EUR"
EU_SETTLEMENT = BusinessCalendar(["XECB"])
WEEK_TRADING = BusinessCalendar(["XECB", "XNYS", "FED"])


class DemoError(RuntimeError):
    """The service answered a step otherwise than the script expects."""


class SettableClock(Protocol):
    def set(self, now: datetime) -> None: ...


def week_days(today: date, count: int) -> list[date]:
    """The ``count`` business days (TARGET and New York alike) ending the day before ``today``
    at the latest."""
    days: list[date] = []
    day = today - timedelta(days=1)
    while len(days) < count:
        if WEEK_TRADING.is_business_day(day):
            days.insert(0, day)
        day -= timedelta(days=1)
    return days


@dataclass
class Summary:
    trades: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        parts = [f"{self.trades} trades"] + [f"{n} {name}" for name, n in self.counts.items()]
        return ", ".join(parts)


def scenario_for(days: list[date]) -> Scenario:
    """The depository's rules for the scripted incidents (``demo_week.script``)."""
    settles = EU_SETTLEMENT.add_business_days(days[0], 1)
    holidays = {
        days[0] + timedelta(days=n)
        for n in range(40)
        if not EU_SETTLEMENT.is_business_day(days[0] + timedelta(days=n))
    }
    return Scenario(
        message_prefix="DEMO",
        counterparty_shortfalls=(
            Shortfall(Selector(isin=script.LVMH), Decimal(0)),
            Shortfall(Selector(isin=script.ALLIANZ), script.SHORTFALL_PARTIAL),
        ),
        holds=(
            HoldRule(
                Selector(isin=script.SIEMENS),
                script.HOLD_REASON,
                until=EU_SETTLEMENT.add_business_days(settles, 1),
            ),
        ),
        late_confirmations=(LateConfirmation(Selector(isin=script.BNP_PARIBAS), 1),),
        holidays=frozenset(holidays),
    )


class Week:
    def __init__(
        self, clients: dict[str, httpx.AsyncClient], clock: SettableClock, days: list[date],
        *, seed: int, count: tuple[int, int], echo: Callable[[str], None],
    ) -> None:  # fmt: skip
        self.http = clients
        self.clock = clock
        self.days = days
        self.seed = seed
        self.count = count
        self.echo = echo
        self.summary = Summary()
        self.simulator = Simulator(Engine(scenario_for(days)), ServiceClient(clients["gateway"]))
        self.prices = script.closing_prices(days, seed)
        self.booked: dict[str, dict[str, Any]] = {}
        self.force_matches: list[str] = []
        self.bank: statements.BankAccount | None = None

    async def call(self, role: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http[role].request(method, API + path, **kwargs)
        if response.status_code not in (200, 201, 202):
            raise DemoError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    # --- the steps ----------------------------------------------------------------------------

    async def force_match(self, plan: DayPlan, index: int) -> None:
        """Yesterday's price difference, agreed with the broker: proposed, then approved."""
        for confirmation_id in self.force_matches:
            body = {"reason": "Price agreed with the broker by phone (demo)"}
            path = f"/confirmations/{confirmation_id}/force-match"
            await self.call("operations", "POST", path, json=body)
            await self.call("operations2", "POST", path, json=body)
            self.summary.counts["force-matched"] += 1
        self.force_matches = []

    async def capture(self, plan: DayPlan, index: int) -> None:
        answer = await self.call("trader", "POST", "/trades/batch", json={"items": plan.trades})
        if answer["created"] != len(plan.trades):
            problems = [item for item in answer["results"] if item["outcome"] != "created"]
            raise DemoError(f"trades of {plan.day}: {problems}")
        params = {"trade_date": plan.day.isoformat(), "limit": 1000}
        found = await self.call("trader", "GET", "/trades", params=params)
        self.booked |= {t["external_id"]: t for t in found["items"]}
        self.summary.trades += len(plan.trades)

    async def confirm(self, plan: DayPlan, index: int) -> None:
        for number, confirmation in enumerate(plan.confirmations, 1):
            body = self._confirmation(confirmation, f"CP-{plan.day:%Y%m%d}-{number:04d}")
            answer = await self.call("gateway", "POST", "/confirmations", json=body)
            self.summary.counts[f"confirmations {answer['status']}"] += 1
            if confirmation.force_match:
                self.force_matches.append(answer["id"])

    def _confirmation(self, confirm: Confirm, confirmation_id: str) -> dict[str, Any]:
        trade = self.booked[confirm.external_id]
        quantity, price = Decimal(trade["quantity"]), Decimal(trade["price"])
        if confirm.differs == "quantity":
            quantity -= 100
        elif confirm.differs == "price":
            price += Decimal("0.05")
        return {
            "confirmation_id": confirmation_id,
            "counterparty_lei": trade["counterparty_lei"],
            "trade_reference": trade["external_id"],
            "isin": trade["isin"],
            "side": "sell" if trade["side"] == "buy" else "buy",
            "quantity": str(quantity),
            "price": str(price),
            "currency": trade["currency"],
            "trade_date": trade["trade_date"],
            "settlement_date": trade["settlement_date"],
            # Shares without commission or fees: quantity times price (bonds never differ).
            "net_amount": trade["net_amount"]
            if confirm.differs is None
            else str((quantity * price).quantize(Decimal("0.01"))),
        }

    async def settlement_run(self, plan: DayPlan, index: int) -> None:
        """The internal markets' settlement batch (the end of day takes it as its own)."""
        body = {"settlement_date": plan.day.isoformat()}
        await self.call(
            "operations", "POST", "/settlement-runs", json=body, params={"wait": "true"}
        )

    async def depository(self, plan: DayPlan, index: int) -> None:
        moment = datetime.combine(plan.day, time(16, 45), tzinfo=UTC)
        report = await self.simulator.run_day(plan.day, moment)
        refused = [posted.problem for posted in report.posted if not posted.accepted]
        if refused:
            raise DemoError(f"the service refused the depository's advices: {refused}")
        self.summary.counts["depository advices"] += len(report.posted)

    async def publish_prices(self, plan: DayPlan, index: int) -> None:
        for isin, price in self.prices[index].items():
            body = {"isin": isin, "date": plan.day.isoformat(), "price": str(price)}
            response = await self.http["operations"].post(f"{API}/prices", json=body)
            # 409: the demo reference data has that day's close already; it stands.
            if response.status_code not in (201, 409):
                raise DemoError(f"POST /prices: {response.status_code} {response.text[:500]}")

    async def statement(self, plan: DayPlan, index: int) -> None:
        if self.bank is None:
            self.bank = statements.BankAccount(await self._settled_cash(plan.day))
        lines = statements.day_lines(
            await self._book_lines(plan.day), self.bank, plan.day, delay_one=index == 1
        )
        content = statements.camt053(self.bank, plan.day, lines)
        await self.call(
            "gateway", "POST", "/statements", content=content,
            headers={"Content-Type": "application/xml"},
        )  # fmt: skip
        self.summary.counts["statements"] += 1

    async def _settled_cash(self, day: date) -> Decimal:
        """The book's settled EUR the evening before ``day``: where the bank's statements start."""
        params = {"account": EUR_ACCOUNT, "as_of": (day - timedelta(days=1)).isoformat()}
        found = await self.call("operations", "GET", "/cash-balances", params=params)
        return sum((Decimal(row["settled"]) for row in found["items"]), Decimal(0))

    async def _book_lines(self, day: date) -> list[statements.Line]:
        ledger = cash(EUR_ACCOUNT)
        params = {"ledger_account": ledger, "value_from": day.isoformat(),
                  "value_to": day.isoformat(), "limit": 1000}  # fmt: skip
        found = await self.call("operations", "GET", "/journal-entries", params=params)
        lines = []
        for entry in found["items"]:
            if entry["reverses_id"] or entry["reversed_by"]:
                continue
            amount = sum(
                (Decimal(p["amount"]) for p in entry["postings"] if p["ledger_account"] == ledger),
                Decimal(0),
            )
            reference = entry["source_id"] or entry["id"]
            lines.append(statements.Line(amount, day, reference, entry["description"][:140]))
        return lines

    async def end_of_day(self, plan: DayPlan, index: int) -> None:
        """The day closed by one end-of-day run; every step must have completed (or had
        nothing to do)."""
        body = {"date": plan.day.isoformat()}
        run = await self.call("operations", "POST", "/eod-runs", json=body, params={"wait": "true"})
        for step in run["steps"]:
            if step["status"] not in ("completed", "skipped"):
                raise DemoError(
                    f"end of day {plan.day}: step {step['name']} {step['status']}: {step['error']}"
                )
        if run["status"] != "completed":
            raise DemoError(f"end of day {plan.day}: {run['status']} ({run['error']})")
        steps = {step["name"]: step["summary"] for step in run["steps"]}
        self.summary.counts["past their affirmation cutoff"] += steps["affirmation_deadlines"][
            "flagged"
        ]
        self.summary.counts["settled by us"] += steps["settlement"]["settled"]


Step = tuple[time, str, Callable[[Week, DayPlan, int], Awaitable[None]]]

# One business day, in the order of its moments (UTC).
DAY: list[Step] = [
    (time(8, 0), "force-match", Week.force_match),
    (time(16, 5), "capture", Week.capture),
    (time(16, 10), "confirmations", Week.confirm),
    (time(16, 45), "depository (CSD simulator)", Week.depository),
    (time(16, 50), "settlement run (internal markets)", Week.settlement_run),
    (time(17, 30), "closing prices", Week.publish_prices),
    (time(23, 30), "bank statement", Week.statement),
    (time(23, 45), "end of day", Week.end_of_day),
]


async def already_there(client: httpx.AsyncClient, day: date) -> bool:
    response = await client.get(f"{API}/trades", params={"trade_date": day.isoformat()})
    response.raise_for_status()
    return bool(response.json()["items"])


async def play(week: Week, steps: list[Step] = DAY) -> Summary:
    for index, day in enumerate(week.days):
        next_day = EU_SETTLEMENT.add_business_days(day, 1)
        plan = script.plan_day(
            day, index, next_day=next_day, seed=week.seed, count=week.count,
            prices=week.prices[index],
        )  # fmt: skip
        for moment, _name, action in steps:
            week.clock.set(datetime.combine(day, moment, tzinfo=UTC))
            await action(week, plan, index)
        week.echo(f"{day}: {len(plan.trades)} trades; so far {week.summary.line()}")
    await _final_counts(week)
    return week.summary


async def _final_counts(week: Week) -> None:
    fails = await week.call("operations", "GET", "/reports/fails")
    week.summary.counts["failing instructions"] = fails["instructions"]
    breaks = await week.call("operations", "GET", "/breaks", params={"limit": 1000})
    week.summary.counts["reconciliation breaks"] = len(breaks["items"])
    penalties = await week.call(
        "operations", "GET", "/penalties", params={"status": "active", "limit": 1000}
    )
    week.summary.counts["CSDR penalties"] = len(penalties["items"])


class NeedsFreshDatabase(RuntimeError):
    """The demo data was loaded before this run, so its opening balances are dated after the
    week's first day: the week's internal settlements would fail for want of them."""


async def run_week(
    transport: httpx.AsyncBaseTransport, keys: dict[str, str], clock: SettableClock,
    days: list[date], *, seed: int = 2026, count: tuple[int, int] = (20, 40),
    echo: Callable[[str], None] = print, opening_loaded_for_week: bool = True,
) -> Summary | None:  # fmt: skip
    """Play the week (None when its first day has trades already: nothing is done).

    ``opening_loaded_for_week`` False (the demo data was there before) refuses to play a new
    week with ``NeedsFreshDatabase``."""
    clients = {role: connect("http://demo", key, transport=transport) for role, key in keys.items()}
    try:
        if await already_there(clients["operations"], days[0]):
            return None
        if not opening_loaded_for_week:
            raise NeedsFreshDatabase(days[0].isoformat())
        clock.set(datetime.combine(days[0], time(7, 0), tzinfo=UTC))
        issued = await clients["admin"].post(
            f"{API}/api-keys", json={"name": "demo operations (four-eyes)", "role": "operations"}
        )
        issued.raise_for_status()
        clients["operations2"] = connect("http://demo", issued.json()["key"], transport=transport)
        week = Week(clients, clock, days, seed=seed, count=count, echo=echo)
        return await play(week)
    finally:
        for client in clients.values():
            await client.aclose()
