"""Generated data the benches share: identifiers with valid check digits, exact amounts, weekday
dates, ``trades`` rows for COPY, and reading the reference data back through the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
from stdnum import isin as isin_code
from stdnum.iso7064 import mod_97_10
from ulid import ULID

API = "/api/v1"
CENT = Decimal("0.01")
COMMISSION_RATE, MIN_COMMISSION = Decimal("0.0003"), Decimal("1.00")  # 3 bp, at least 1.00
SELL_FEE_RATE = Decimal("0.0000278")  # a transaction-tax-like fee on sells
_COLUMNS = """id external_id book counterparty_lei isin side quantity price currency trade_date
    trade_time venue settlement_date commission fees accrued_interest gross_amount net_amount
    status version created_at updated_at created_by cancel_reason"""
TRADE_COLUMNS = tuple(_COLUMNS.split())


def new_id(prefix: str) -> str:
    """An id as the app makes them: a type prefix and a ULID (they sort by creation time)."""
    return f"{prefix}_{str(ULID()).lower()}"


def make_isin(country: str, n: int, tag: str = "BN") -> str:
    base = f"{country}{tag}{n:07d}"
    return base + isin_code.calc_check_digit(base)


def make_lei(n: int, prefix: str = "5493BENCH") -> str:
    base = f"{prefix}{n:0{18 - len(prefix)}d}"
    return base + mod_97_10.calc_check_digits(base)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_EVEN)


def amounts(
    side: str, quantity: Decimal, price: Decimal, *, bond: bool = False, charges: bool = True
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(gross, commission, fees, net): gross rounded once (bonds in percent of nominal); a buy
    pays gross + charges, a sell receives gross - charges."""
    gross = money(quantity * price / (100 if bond else 1))
    zero = money(Decimal(0))
    charged = charges and not bond
    commission = max(money(gross * COMMISSION_RATE), MIN_COMMISSION) if charged else zero
    fees = money(gross * SELL_FEE_RATE) if charged and side == "sell" else zero
    net = gross + commission + fees if side == "buy" else gross - commission - fees
    return gross, commission, fees, net


def add_weekdays(day: date, count: int) -> date:
    """``count`` weekdays after ``day`` (negative: before)."""
    step = 1 if count >= 0 else -1
    for _ in range(abs(count)):
        day += timedelta(days=step)
        while day.weekday() >= 5:
            day += timedelta(days=step)
    return day


def trade_row(
    *terms: Any, bond: bool = False, charges: bool = True, accrued: Decimal | None = None
) -> tuple[Any, ...]:
    """A ``trades`` row in TRADE_COLUMNS order from (external id, book, LEI, ISIN, side,
    quantity, price, currency, trade date, venue, settlement date, status, created by), priced
    as the trade service prices it."""
    external_id, book, lei, isin, side, qty, price, ccy, day, venue, settles, status, by = terms
    gross, commission, fees, net = amounts(side, qty, price, bond=bond, charges=charges)
    at, now = datetime(day.year, day.month, day.day, 14, 31, tzinfo=UTC), datetime.now(UTC)
    head = (new_id("trd"), external_id, book, lei, isin, side, qty, price, ccy, day, at, venue)
    amounts_ = (commission, fees, accrued, gross, net + (accrued or 0))
    return (*head, settles, *amounts_, status, 1, now, now, by, None)


async def create_reference(
    api: httpx.AsyncClient, equities: Sequence[tuple[str, ...]], parties: Sequence[tuple[str, ...]]
) -> None:
    """Equities ``(isin, mic, currency)``; counterparties ``(lei, name, netting)``, each with
    an SSI for XOFF (settled at Euroclear Bank) so their obligations are instructed."""
    for isin, mic, ccy in equities:
        terms = {"type": "equity", "currency": ccy, "mic": mic, "csdr_class": "liquid_share"}
        await post_ok(
            api, "/instruments", {"isin": isin, "name": isin, "settlement_unit": "1", **terms}
        )
    for n, (lei, name, netting) in enumerate(parties, start=1):
        await post_ok(api, "/counterparties", {"lei": lei, "name": name, "netting": netting})
        ssi = {"place_of_settlement": "MGTCBEBEECL", "agent_bic": "DEUTDEFF", "mic": "XOFF"}
        await post_ok(api, "/ssis", {"counterparty_lei": lei, "account": f"BENCH-{n}", **ssi})


async def fetch_all(
    client: httpx.AsyncClient, path: str, params: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every item of a paged list."""
    items: list[dict[str, Any]] = []
    query = {"limit": "1000", **(params or {})}
    while True:
        response = await client.get(f"{API}{path}", params=query)
        response.raise_for_status()
        page = response.json()
        items.extend(page["items"])
        if not page.get("next_cursor"):
            return items
        query["cursor"] = page["next_cursor"]


async def post_ok(
    client: httpx.AsyncClient, path: str, body: Any = None, *, expect: int = 201, **kwargs: Any
) -> Any:
    """POST and return the JSON answer; anything but ``expect`` stops the bench with its problem."""
    response = await client.post(f"{API}{path}", json=body, **kwargs)
    if response.status_code != expect:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:500]}")
    return response.json()
