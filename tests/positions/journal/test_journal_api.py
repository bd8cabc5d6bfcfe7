"""The journal over HTTP: trade bookings, their reversals on amend and cancel, the filters of
GET /journal-entries, the chart of accounts and GET /ledger/check."""

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import SYSTEM_ACTOR
from app.positions.bookings import service
from tests.factories import GOLDMAN, JPM, TOTAL, trade_payload
from tests.positions.balances.test_positions_api import JPM_SETTLEMENT, book, total_payload
from tests.positions.conftest import Adjust, ledger_check, line, positions
from tests.support import Api, FrozenClock, problem_fields

PARTY = f"counterparty:{GOLDMAN}"


def posting(
    account: str, asset: str, amount: str, cost: str | None = None, pnl: str | None = None
) -> dict[str, Any]:
    return {
        "ledger_account": account,
        "asset": asset,
        "amount": amount,
        "cost": cost,
        "realized_pnl": pnl,
    }


def jpm_buy(quantity: str, gross: str, net: str, *, sign: str = "") -> list[dict[str, Any]]:
    """A JPM buy in EQ-FLOW from Goldman (commission 1.50, fees 0.02); ``sign="-"`` for its
    reversal, every amount and the cost negated."""
    flip = "" if sign else "-"
    return [
        posting("book:EQ-FLOW", JPM, f"{flip}{quantity}", cost=f"{sign}{gross}", pnl="0"),
        posting(PARTY, JPM, f"{sign}{quantity}"),
        posting(PARTY, "USD", f"{flip}{net}"),
        posting("book:EQ-FLOW", "USD", f"{sign}{gross}"),
        posting("commission", "USD", f"{sign}1.50"),
        posting("fees", "USD", f"{sign}0.02"),
    ]


async def entries(api: Api, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/journal-entries", params=params, role="operations")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def amend(api: Api, trade_id: str, changes: dict[str, Any], version: int) -> None:
    response = await api.patch(
        f"/trades/{trade_id}",
        json=changes,
        headers={"If-Match": f'"{version}"'},
        role="trader",
    )
    assert response.status_code == 200, response.text


async def cancel(api: Api, trade_id: str) -> None:
    response = await api.post(
        f"/trades/{trade_id}/cancel", json={"reason": "Booked in error"}, role="trader"
    )
    assert response.status_code == 200, response.text


# Trade bookings, amendments and cancellations --------------------------------------------------


async def test_a_trade_counts_from_its_trade_date_and_execution_time(
    api: Api, reference: None
) -> None:
    trade = await book(api, trade_payload())
    [entry] = await entries(api, source_id=trade["id"])
    assert entry == {
        "id": entry["id"],
        "kind": "trade",
        # Traded on Tuesday, captured on Wednesday: it counts from Tuesday in as-of views and
        # first showed at Wednesday's close.
        "accounting_date": "2026-11-25",
        "value_date": "2026-11-24",
        "effective_at": "2026-11-24T14:31:05Z",
        "description": f"Bought 100 {JPM} in EQ-FLOW",
        "source_type": "trade",
        "source_id": trade["id"],
        "reverses_id": None,
        "reversed_by": None,
        "pending_id": None,
        "created_at": "2026-11-25T15:00:00Z",
        "created_by": entry["created_by"],
        # 100 x 189.25 = 18925.00 gross; net 18926.52 owed to Goldman.
        "postings": jpm_buy("100", "18925.00", "18926.52"),
    }
    by_id = await api.get(f"/journal-entries/{entry['id']}", role="gateway")
    assert by_id.status_code == 200, by_id.text
    assert by_id.json() == entry


async def test_amending_the_quantity_reverses_and_reposts_and_cancelling_reverses(
    api: Api, reference: None
) -> None:
    trade = await book(api, trade_payload())
    await amend(api, trade["id"], {"quantity": "150"}, version=1)

    original, reversal, amended = await entries(api, source_id=trade["id"])
    assert (original["kind"], original["reverses_id"], original["reversed_by"]) == (
        "trade",
        None,
        reversal["id"],
    )
    assert original["postings"] == jpm_buy("100", "18925.00", "18926.52")
    assert (reversal["kind"], reversal["reverses_id"], reversal["reversed_by"]) == (
        "reversal",
        original["id"],
        None,
    )
    assert reversal["description"] == f"Amendment of trade {trade['id']}"
    assert (reversal["source_type"], reversal["source_id"]) == ("trade", trade["id"])
    assert (reversal["value_date"], reversal["accounting_date"]) == ("2026-11-24", "2026-11-25")
    assert reversal["postings"] == jpm_buy("100", "18925.00", "18926.52", sign="-")
    assert (amended["kind"], amended["reverses_id"], amended["reversed_by"]) == (
        "trade",
        None,
        None,
    )
    assert amended["description"] == f"Bought 150 {JPM} in EQ-FLOW"
    # 150 x 189.25 = 28387.50; + 1.50 + 0.02 = 28389.02.
    assert amended["postings"] == jpm_buy("150", "28387.50", "28389.02")
    [position] = await positions(api)
    assert (position["quantity"], position["average_cost"], position["cost"]) == (
        "150",
        "189.25000000",
        "28387.50",
    )

    await cancel(api, trade["id"])
    listed = await entries(api, source_id=trade["id"])
    assert [e["id"] for e in listed[:3]] == [original["id"], reversal["id"], amended["id"]]
    cancellation = listed[3]
    assert listed[2]["reversed_by"] == cancellation["id"]
    assert (cancellation["kind"], cancellation["reverses_id"]) == ("reversal", amended["id"])
    assert cancellation["description"] == f"Cancellation of trade {trade['id']}: Booked in error"
    assert cancellation["postings"] == jpm_buy("150", "28387.50", "28389.02", sign="-")
    [position] = await positions(api)
    assert (
        position["quantity"],
        position["average_cost"],
        position["cost"],
        position["realized_pnl"],
    ) == ("0", None, "0.00", "0")
    assert await entries(api, source_id=trade["id"], kind="reversal") == [reversal, cancellation]


async def test_amending_a_buy_after_a_partial_sell_reprices_what_is_left(
    api: Api, reference: None
) -> None:
    bought = await book(api, trade_payload())
    await book(api, trade_payload(side="sell", quantity="50", price="191.00"))
    # 50 x 191.00 = 9550.00 against half of 18925.00 = 9462.50: realised 87.50.
    [position] = await positions(api)
    assert (position["quantity"], position["cost"], position["realized_pnl"]) == (
        "50",
        "9462.50",
        "87.50",
    )

    await amend(api, bought["id"], {"price": "190.00"}, version=1)
    # As if bought at 190.00: 19000.00 for 100; the sale of 50 releases 9500.00 and realises
    # 9550.00 - 9500.00 = 50.00; 50 left at 9500.00.
    [position] = await positions(api)
    assert (
        position["quantity"],
        position["average_cost"],
        position["cost"],
        position["realized_pnl"],
    ) == ("50", "190.00000000", "9500.00", "50.00")


async def test_cancelling_a_buy_after_a_partial_sell_leaves_only_the_sell(
    api: Api, reference: None
) -> None:
    bought = await book(api, trade_payload())
    await book(api, trade_payload(side="sell", quantity="50", price="191.00"))
    await cancel(api, bought["id"])
    # What is left is the sale alone: short 50 at 191.00 (9550.00 received), nothing realised.
    [position] = await positions(api)
    assert position["quantity"] == "-50"
    assert [Decimal(position[name]) for name in ("average_cost", "cost", "realized_pnl")] == [
        Decimal("191.00"),
        Decimal("-9550.00"),
        Decimal(0),
    ]
    # The reversal alone left cost 9462.50 - 18925.00 = -9462.50 and realised 87.50 (the sale
    # costed against the cancelled buy); the restatement, from today, brings cost to -9550.00
    # (-87.50) and takes the 87.50 back.
    restated = await api.get("/journal-entries", params={"kind": "restatement"}, role="operations")
    [entry] = restated.json()["items"]
    assert entry["postings"] == [
        {
            "ledger_account": "book:EQ-FLOW",
            "asset": JPM,
            "amount": "0",
            "cost": "-87.50",
            "realized_pnl": "-87.50",
        }
    ]


async def test_amending_a_buy_after_a_sell_restates_cost_and_pnl_as_its_trades_make_them(
    api: Api, reference: None
) -> None:
    bought = await book(api, trade_payload())
    await book(api, trade_payload(side="sell", quantity="50", price="191.00"))
    await amend(api, bought["id"], {"quantity": "40"}, bought["version"])
    # Replayed: buy 40 @ 189.25 (7570.00), sell 50 @ 191.00 (9550.00) closes the 40 (cost
    # 7570.00 against 9550.00 x 40/50 = 7640.00: realised 70.00) and opens a short of 10 at
    # 191.00 (1910.00).
    [position] = await positions(api)
    assert (
        position["quantity"],
        position["average_cost"],
        position["cost"],
        position["realized_pnl"],
    ) == ("-10", "191.00000000", "-1910.00", "70.00")
    assert (await ledger_check(api))["ok"]


async def test_an_amendment_the_journal_does_not_show_posts_nothing(
    api: Api, reference: None
) -> None:
    trade = await book(api, trade_payload())
    before = await entries(api, source_id=trade["id"])
    await amend(api, trade["id"], {"settlement_date": "2026-11-27"}, version=1)
    assert await entries(api, source_id=trade["id"]) == before


async def test_an_amendment_the_next_day_restates_the_trade_date_but_not_what_was_known(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    trade = await book(api, trade_payload())
    clock.advance(days=1)
    await amend(api, trade["id"], {"price": "190.00"}, version=1)

    _, reversal, amended = await entries(api, source_id=trade["id"])
    assert reversal["accounting_date"] == amended["accounting_date"] == "2026-11-26"
    # 100 x 190.00 = 19000.00; + 1.52 = 19001.52.
    assert amended["postings"] == jpm_buy("100", "19000.00", "19001.52")
    [known] = await positions(api, as_of="2026-11-25", known_at="2026-11-25T23:00:00Z")
    assert (known["average_cost"], known["cost"]) == ("189.25000000", "18925.00")
    # The trade was dealt on the 24th: from then on, the effective view holds the amended price.
    [effective] = await positions(api, as_of="2026-11-24")
    assert (effective["average_cost"], effective["cost"]) == ("190.00000000", "19000.00")
    [today] = await positions(api)
    assert (today["average_cost"], today["cost"]) == ("190.00000000", "19000.00")


# Filters ---------------------------------------------------------------------------------------


async def test_journal_entries_filter_by_account_asset_kind_and_accounting_date(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    jpm = await book(api, trade_payload())
    opening = await adjust("opening", line("CASH-EUR", "EUR", "1000.00"))
    clock.advance(days=1)
    total = await book(
        api, total_payload(trade_date="2026-11-25", trade_time="2026-11-25T10:00:00Z")
    )
    [jpm_entry] = await entries(api, source_id=jpm["id"])
    [opening_entry] = await entries(api, source_id=opening["id"])
    [total_entry] = await entries(api, source_id=total["id"])
    assert opening_entry["id"] == opening["entry_id"]
    assert total_entry["accounting_date"] == "2026-11-26"

    async def ids(**params: str) -> list[str]:
        return [entry["id"] for entry in await entries(api, **params)]

    everything = [jpm_entry["id"], opening_entry["id"], total_entry["id"]]
    assert await ids() == everything
    assert await ids(ledger_account="cash:CASH-EUR") == [opening_entry["id"]]
    assert await ids(ledger_account="book:EQ-FLOW") == [jpm_entry["id"], total_entry["id"]]
    assert await ids(ledger_account="securities:SEC-DTC") == []
    assert await ids(asset="USD") == [jpm_entry["id"]]
    assert await ids(asset="EUR") == [opening_entry["id"], total_entry["id"]]
    assert await ids(asset=TOTAL) == [total_entry["id"]]
    # Account and asset on the same posting: commission is paid in EUR, not in TOTAL shares.
    assert await ids(ledger_account="commission", asset="EUR") == [total_entry["id"]]
    assert await ids(ledger_account="commission", asset=TOTAL) == []
    assert await ids(kind="adjustment") == [opening_entry["id"]]
    assert await ids(kind="trade") == [jpm_entry["id"], total_entry["id"]]
    assert await ids(kind="reversal") == []
    assert await ids(**{"from": "2026-11-26"}) == [total_entry["id"]]
    assert await ids(to="2026-11-25") == [jpm_entry["id"], opening_entry["id"]]
    assert await ids(**{"from": "2026-11-25", "to": "2026-11-25"}) == everything[:2]
    assert await ids(**{"from": "2026-11-27"}) == []
    assert await ids(kind="trade", **{"from": "2026-11-26"}) == [total_entry["id"]]

    first = await api.get("/journal-entries", params={"limit": 2}, role="trader")
    assert [entry["id"] for entry in first.json()["items"]] == everything[:2]
    rest = await api.get(
        "/journal-entries",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        role="compliance",
    )
    assert [entry["id"] for entry in rest.json()["items"]] == everything[2:]
    assert rest.json()["next_cursor"] is None


async def test_journal_entries_refuse_a_bad_filter_naming_it(api: Api) -> None:
    for params, field in [
        ({"kind": "payment"}, "kind"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "soon"}, "to"),
        ({"asset": "US"}, "asset"),
        ({"ledger_account": ""}, "ledger_account"),
        ({"limit": "1001"}, "limit"),
    ]:
        response = await api.get("/journal-entries", params=params, role="operations")
        assert response.status_code == 422, (params, response.text)
        assert problem_fields(response) == {field}, (params, response.text)


async def test_an_unknown_journal_entry_is_404(api: Api) -> None:
    response = await api.get("/journal-entries/je_01m898az4xwjvk5h4gtcwmxrfz", role="operations")
    assert response.status_code == 404, response.text
    assert response.json()["type"].endswith("/not-found")


# The chart of accounts -------------------------------------------------------------------------


async def test_ledger_accounts_by_kind_list_a_book_once_it_has_traded(
    api: Api, reference: None
) -> None:
    async def listed(kind: str) -> list[dict[str, Any]]:
        response = await api.get("/ledger-accounts", params={"kind": kind}, role="trader")
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    assert await listed("book") == []
    await book(api, trade_payload())
    assert await listed("book") == [
        {
            "code": "book:EQ-FLOW",
            "kind": "book",
            "name": "Book EQ-FLOW",
            "reference": "EQ-FLOW",
            "created_at": "2026-11-25T15:00:00Z",
        }
    ]
    assert [account["code"] for account in await listed("counterparty")] == [PARTY]
    assert [account["code"] for account in await listed("equity")] == ["opening-equity"]

    bad = await api.get("/ledger-accounts", params={"kind": "bank"}, role="trader")
    assert bad.status_code == 422, bad.text
    assert problem_fields(bad) == {"kind"}


# The ledger check ------------------------------------------------------------------------------


async def test_the_ledger_check_proves_the_journal_after_some_activity(
    api: Api, adjust: Adjust, session: AsyncSession, clock: FrozenClock
) -> None:
    empty = await ledger_check(api)
    assert (empty["ok"], empty["entries_checked"], empty["balances_checked"]) == (True, 0, 0)

    jpm = await book(api, trade_payload())  # 1 entry, 6 postings
    await amend(api, jpm["id"], {"quantity": "150"}, version=1)  # 2 entries, 12 postings
    total = await book(api, total_payload())  # 1 entry, 6 postings
    await cancel(api, total["id"])  # 1 entry, 6 postings
    await adjust("opening", line("CASH-USD", "USD", "1000000.00"))  # 1 entry, 2 postings
    await service.post_settlement(  # 1 entry, 4 postings
        session, movement=JPM_SETTLEMENT, actor=SYSTEM_ACTOR, now=clock()
    )
    await service.expect_settlement(  # pending: no entry, no posting
        session,
        movement=replace(JPM_SETTLEMENT, quantity=Decimal("50"), amount=Decimal("9463.26")),
        actor=SYSTEM_ACTOR,
        now=clock(),
    )
    await session.commit()

    check = await ledger_check(api)
    assert check == {
        "ok": True,
        "entries_checked": 7,
        "postings_checked": 36,
        # JPM trade: book and Goldman in JPM and USD, commission and fees in USD (6); the same
        # six in TOTAL and EUR (12); cash:CASH-USD and opening-equity in USD (14);
        # securities:SEC-DTC in JPM (15).
        "balances_checked": 15,
        "first_bad_entry_id": None,
        "problems": [],
    }


async def test_the_ledger_check_is_for_operations_and_compliance_only(api: Api) -> None:
    for role in ("trader", "gateway", "admin"):
        response = await api.get("/ledger/check", role=role)
        assert response.status_code == 403, (role, response.text)
    assert (await api.get("/ledger/check")).status_code == 401
    for role in ("operations", "compliance"):
        assert (await api.get("/ledger/check", role=role)).status_code == 200, role
