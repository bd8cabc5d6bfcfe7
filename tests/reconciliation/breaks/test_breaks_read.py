"""GET /breaks and /breaks/{id}: every field, the age on the account's calendar, the filters."""

from datetime import UTC, date, datetime
from decimal import Decimal

from tests.reconciliation.breaks.conftest import SeedBreak, get_break, listed
from tests.support import Api, FrozenClock

# Thursday 26 November 2026 is Thanksgiving: the Federal Reserve (USD) is closed, TARGET2
# (EUR) open. 28 and 29 November are a weekend.
FRIDAY = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
MONDAY = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


async def test_one_break_answers_every_field(api: Api, seed_break: SeedBreak) -> None:
    await seed_break(id="brk_a", owner="cash-desk", found_by_run="rrn_1")
    response = await api.get("/breaks/brk_a", role="operations")

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"1"'
    assert response.json() == {
        "id": "brk_a",
        "kind": "missing_in_book",
        "status": "open",
        "account": "CASH-USD",
        "currency": "USD",
        "isin": None,
        "amount": "125.40",
        "since": "2026-11-25",
        "value_date": "2026-11-25",
        "age_days": 0,
        "ageing_bucket": "0-1",
        "owner": "cash-desk",
        "detail": "Statement line with no book movement",
        "statement_id": "stm_1",
        "statement_entry_ids": ["ste_brk_a"],
        "movement_ids": [],
        "found_by_run": "rrn_1",
        "resolution": None,
        "resolution_note": None,
        "closed_by": None,
        "adjustment_id": None,
        "adjustment_status": None,
        "comments": [],
        "created_at": "2026-11-25T15:00:00Z",
        "updated_at": "2026-11-25T15:00:00Z",
        "resolved_at": None,
        "resolved_by": None,
        "version": 1,
    }


async def test_age_counts_business_days_of_the_currency_calendar_over_weekend_and_holiday(
    api: Api, seed_break: SeedBreak, clock: FrozenClock
) -> None:
    await seed_break(id="brk_usd")
    await seed_break(id="brk_eur", account="CASH-EUR", currency="EUR")
    await seed_break(id="brk_old", since=date(2026, 10, 1))
    clock.set(MONDAY)

    usd, eur, old = [await get_break(api, b) for b in ("brk_usd", "brk_eur", "brk_old")]

    # USD: 27 and 30 November (the 26th is Thanksgiving); EUR: the 26th, 27th and 30th.
    assert (usd["age_days"], usd["ageing_bucket"]) == (2, "2-5")
    assert (eur["age_days"], eur["ageing_bucket"]) == (3, "2-5")
    # 2 Oct to 30 Nov: 42 weekdays less Columbus Day, Veterans Day and Thanksgiving.
    assert (old["age_days"], old["ageing_bucket"]) == (39, "over_30")


async def test_a_holdings_break_ages_by_its_safekeeping_accounts_market(
    api: Api, seed_break: SeedBreak, clock: FrozenClock
) -> None:
    await seed_break(
        id="brk_hold",
        kind="holdings",
        account="SEC-DTC",
        currency=None,
        isin="US46625H1005",
        amount=Decimal("-100"),
    )
    clock.set(FRIDAY)
    body = await get_break(api, "brk_hold")
    # XNYS and FED are both closed on Thanksgiving: only Friday counts.
    assert (body["age_days"], body["ageing_bucket"], body["amount"]) == (1, "0-1", "-100")


async def test_ageing_bucket_filter_uses_each_accounts_calendar(
    api: Api, seed_break: SeedBreak, clock: FrozenClock
) -> None:
    await seed_break(id="brk_1usd")
    await seed_break(id="brk_2eur", account="CASH-EUR", currency="EUR")
    await seed_break(id="brk_3mid", since=date(2026, 11, 16))
    await seed_break(id="brk_4old", since=date(2026, 10, 1))
    clock.set(FRIDAY)

    # On Friday the USD break is 1 business day old, the EUR one 2.
    assert await listed(api, ageing_bucket="0-1") == ["brk_1usd"]
    assert await listed(api, ageing_bucket="2-5") == ["brk_2eur"]
    assert await listed(api, ageing_bucket="6-30") == ["brk_3mid"]
    assert await listed(api, ageing_bucket="over_30") == ["brk_4old"]
    assert await listed(api, ageing_bucket="2-5", account="CASH-USD") == []
    clock.set(MONDAY)
    assert await listed(api, ageing_bucket="2-5") == ["brk_1usd", "brk_2eur"]


async def test_a_bucket_filtered_list_pages_exactly(
    api: Api, seed_break: SeedBreak, clock: FrozenClock
) -> None:
    for n in range(5):
        await seed_break(id=f"brk_{n}", since=date(2026, 11, 25 if n % 2 else 16))
    clock.set(MONDAY)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"ageing_bucket": "2-5", "limit": "1"} | ({"cursor": cursor} if cursor else {})
        response = await api.get("/breaks", params=params, role="gateway")
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["brk_1", "brk_3"]


async def test_list_filters_by_account_kind_status_owner_and_value_date(
    api: Api, seed_break: SeedBreak
) -> None:
    await seed_break(id="brk_a", owner="ana")
    await seed_break(id="brk_b", kind="missing_at_bank", value_date=date(2026, 11, 24))
    await seed_break(id="brk_c", account="CASH-EUR", currency="EUR", status="explained")

    assert await listed(api) == ["brk_a", "brk_b", "brk_c"]
    assert await listed(api, account="CASH-EUR") == ["brk_c"]
    assert await listed(api, kind="missing_at_bank") == ["brk_b"]
    assert await listed(api, status="open") == ["brk_a", "brk_b"]
    assert await listed(api, owner="ana") == ["brk_a"]
    assert await listed(api, from_date="2026-11-25") == ["brk_a", "brk_c"]
    assert await listed(api, to_date="2026-11-24") == ["brk_b"]


async def test_bad_filters_are_422(api: Api, seed_break: SeedBreak) -> None:
    for params in (
        {"ageing_bucket": "7-9"},
        {"kind": "mystery"},
        {"status": "pending"},
        {"from_date": "2026-11-26", "to_date": "2026-11-25"},
    ):
        response = await api.get("/breaks", params=params, role="operations")
        assert response.status_code == 422, params


async def test_reads_are_for_operations_compliance_and_gateways(
    api: Api, seed_break: SeedBreak
) -> None:
    await seed_break(id="brk_a")
    for role in ("operations", "compliance", "gateway"):
        assert (await api.get("/breaks/brk_a", role=role)).status_code == 200
    assert (await api.get("/breaks", role="trader")).status_code == 403
    assert (await api.get("/breaks/brk_a", role="trader")).status_code == 403
    assert (await api.get("/breaks/brk_a")).status_code == 401
    missing = await api.get("/breaks/brk_nope", role="operations")
    assert (missing.status_code, missing.json()["detail"]) == (404, "No break 'brk_nope'.")
