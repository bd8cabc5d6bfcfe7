"""The week's script, pure and deterministic: for one seed and one list of dates, the same
trades, the same confirmations and the same incidents, every time.

The scripted incidents are booked on the first day, each on an ISIN no other trade of the week
uses (so the simulator's rules, which select by ISIN, touch only them), due the next business
day (a T+1 settlement agreed with the counterparty) so that even a two-day week shows them:

- a fail: LVMH bought on Euronext Paris; LCH holds none to deliver (a shortfall of 0): it fails
  for lack of the counterparty's securities (CLAC) every day of the week;
- a partial: Allianz bought on Xetra; Eurex holds 600 of the 1,000: 600 settle, 400 fail;
- a hold: Siemens sold on Xetra, put on hold by the depository (CSDH) for a day;
- a late confirmation: BNP Paribas bought on Euronext Paris; it settles on its date, the
  depository confirms it a business day later.

Confirmation incidents: on the first day a Euronext Paris trade comes back with another price
(force-matched under four-eyes the next morning); every day one trade comes back with another
quantity or price (left unmatched) and one bond trade gets no confirmation at all.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from app.reference import demo_data

GOLDMAN = "FOR8UP27PHTHYVLBNG30"
MORGAN = "9R7GPTSO7KV3UQJZQ078"
BNP = "R0MUWSFPU8MPRO8K5P83"
DEUTSCHE = "7LTWFZYICNSX8D621K86"
SOCGEN = "O2RNE8IBXP4R0TD8PU41"

LVMH = "FR0000121014"
BNP_PARIBAS = "FR0000131104"
SIEMENS = "DE0007236101"
ALLIANZ = "DE0008404005"
TOTAL = "FR0000120271"
SAP = "DE0007164600"
US_SHARES = [
    "US46625H1005",
    "US1912161007",
    "US4592001014",
    "US92826C8394",
    "US30231G1022",
    "US4781601046",
]
BONDS = ["DE0001102614", "FR001400WYO4"]

SCRIPTED_ISINS = frozenset({LVMH, BNP_PARIBAS, SIEMENS, ALLIANZ})
# (venue, ISINs, counterparties) the random trades choose from, and how often.
POOLS: list[tuple[str, list[str], list[str], int]] = [
    ("XNYS", US_SHARES, [GOLDMAN, MORGAN, BNP], 5),
    ("XPAR", [TOTAL], [BNP, SOCGEN, GOLDMAN], 2),
    ("XETR", [SAP], [DEUTSCHE, GOLDMAN], 2),
    ("XOFF", BONDS, [GOLDMAN, MORGAN, DEUTSCHE], 1),
]
SHORTFALL_PARTIAL = Decimal(600)
HOLD_REASON = "CSDH"
BASE_PRICES = {row["isin"]: Decimal(row["price"]) for row in demo_data.PRICES}
CURRENCY = {row["isin"]: row["currency"] for row in demo_data.INSTRUMENTS}


@dataclass(frozen=True)
class Confirm:
    """How the counterparty confirms one trade: as booked, or with another quantity or price
    (``differs``), or not at all (``None``)."""

    external_id: str
    differs: str | None = None  # "quantity" | "price"
    force_match: bool = False


@dataclass
class DayPlan:
    day: date
    trades: list[dict[str, Any]] = field(default_factory=list)
    confirmations: list[Confirm] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    prices: dict[str, Decimal] = field(default_factory=dict)


def _moment(day: date, rng: random.Random, start: time, end: time) -> datetime:
    first = datetime.combine(day, start, tzinfo=UTC)
    span = int((datetime.combine(day, end, tzinfo=UTC) - first).total_seconds())
    return first + timedelta(seconds=rng.randrange(span))


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def closing_prices(days: list[date], seed: int) -> list[dict[str, Decimal]]:
    """A random walk from the demo prices: each day's close, per ISIN."""
    rng = random.Random(f"{seed}-prices")
    current = dict(BASE_PRICES)
    walk = []
    for _day in days:
        for isin, price in current.items():
            move = Decimal(rng.randint(-150, 150)) / Decimal(10000)
            current[isin] = (price * (1 + move)).quantize(Decimal("0.01"))
        walk.append(dict(current))
    return walk


def _trade(
    day: date, number: int, venue: str, isin: str, lei: str, side: str, quantity: int,
    price: Decimal, moment: datetime, settlement_date: date | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "external_id": f"DEMO-{day:%Y%m%d}-{number:04d}",
        "book": "FI-RATES" if venue == "XOFF" else "EQ-FLOW",
        "counterparty_lei": lei,
        "isin": isin,
        "side": side,
        "quantity": str(quantity),
        "price": str(price),
        "currency": CURRENCY[isin],
        "trade_date": day.isoformat(),
        "trade_time": _stamp(moment),
        "venue": venue,
        "settlement_date": None if settlement_date is None else settlement_date.isoformat(),
        "commission": "0",
        "fees": "0",
    }


def _random_trade(
    day: date, number: int, rng: random.Random, prices: dict[str, Decimal]
) -> dict[str, Any]:
    venue, isins, leis, _ = rng.choices(POOLS, weights=[pool[3] for pool in POOLS])[0]
    isin = rng.choice(isins)
    if venue == "XOFF":
        quantity = rng.choice([500_000, 1_000_000, 2_000_000])
    else:
        quantity = rng.randrange(100, 2001, 100)
    tick = Decimal(rng.randint(-20, 20)) / 100
    start, end = (time(14, 30), time(16, 0)) if venue == "XNYS" else (time(8, 0), time(16, 0))
    return _trade(
        day, number, venue, isin, rng.choice(leis), rng.choice(["buy", "sell"]),
        quantity, prices[isin] + tick, _moment(day, rng, start, end),
    )  # fmt: skip


def _scripted(day: date, next_day: date, prices: dict[str, Decimal]) -> list[dict[str, Any]]:
    """The first day's incidents, numbered 9001 on (see the module)."""
    at = datetime.combine(day, time(9, 30), tzinfo=UTC)
    rows = [
        ("XPAR", LVMH, GOLDMAN, "buy", 400, next_day),
        ("XETR", ALLIANZ, DEUTSCHE, "buy", 1000, next_day),
        ("XETR", SIEMENS, GOLDMAN, "sell", 500, next_day),
        ("XPAR", BNP_PARIBAS, SOCGEN, "buy", 1500, next_day),
        ("XPAR", TOTAL, BNP, "buy", 800, None),  # the price mismatch force-matched later
    ]
    return [
        _trade(day, 9001 + i, venue, isin, lei, side, qty, prices[isin], at, settle)
        for i, (venue, isin, lei, side, qty, settle) in enumerate(rows)
    ]


def plan_day(
    day: date, index: int, *, next_day: date, seed: int, count: tuple[int, int],
    prices: dict[str, Decimal],
) -> DayPlan:  # fmt: skip
    """The trades of one day (``count``: least and most random ones) and how each is
    confirmed; the scripted incidents on the first day (``index`` 0)."""
    rng = random.Random(f"{seed}-{day.isoformat()}")
    plan = DayPlan(day, prices=prices)
    plan.trades = [_random_trade(day, n, rng, prices) for n in range(1, rng.randint(*count) + 1)]
    if index == 0:
        plan.trades += _scripted(day, next_day, prices)
    mismatch: str | None = "quantity" if index % 2 == 0 else "price"
    for trade in plan.trades:
        reference = trade["external_id"]
        if trade["venue"] == "XETR":
            continue  # locked in: Eurex confirms at capture
        if trade["venue"] == "XOFF" and not plan.unconfirmed:
            plan.unconfirmed.append(reference)
        elif trade["isin"] == TOTAL and reference.endswith("9005"):
            plan.confirmations.append(Confirm(reference, "price", force_match=True))
        elif mismatch and trade["venue"] == "XNYS":
            plan.confirmations.append(Confirm(reference, mismatch))
            mismatch = None
        else:
            plan.confirmations.append(Confirm(reference))
    return plan
