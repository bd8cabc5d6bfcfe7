"""From trades to a reconciled bank account: Bund trades captured, confirmed, cleared and
settled by the settlement run; the bank's statement of the settlement day shows the two payments
under our instruction ids (end-to-end ids), one of them a day late; reconciliation matches what
the settlement run booked, flags the payment missing at the bank and, once the next statement
shows it a day late, turns that break into a value-date difference; and compares each closing
balance with the book's settled cash of that value date.

By hand (tests/settlement/test_settlement_lifecycle_api.py): we pay Goldman 790,079.45 for
1,000,000 Bund and receive 791,079.45 from Morgan Stanley for them, both due 2026-11-26; the
book opens with 790,079.45 on CASH-EUR."""

from datetime import UTC, datetime
from decimal import Decimal

from tests.conftest import Database
from tests.positions.conftest import Adjust, ledger_check
from tests.reconciliation.runs.support import entry, reconcile, send_statement, stored_breaks
from tests.settlement.test_settlement_lifecycle_api import BUND_DUE, bund_pair, settle
from tests.support import Api, FrozenClock, seal

NEXT = "2026-11-27"


async def test_the_settlement_run_reconciles_with_the_banks_statements(
    api: Api, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    bought, sold = await bund_pair(api, adjust)
    clock.set(datetime(2026, 11, 26, 15, tzinfo=UTC))
    assert (await settle(api, BUND_DUE))["settled"] == 2
    clock.set(datetime(2026, 11, 27, 18, tzinfo=UTC))

    # The bank debits our payment on the 26th; Morgan Stanley's arrives on the 27th.
    await send_statement(
        api,
        "E2E-1",
        entry("-790079.45", BUND_DUE, reference=bought["id"]),
        opening_balance={"amount": "790079.45", "date": "2026-11-25"},
        closing_balance={"amount": "0.00", "date": BUND_DUE},
        electronic_sequence=1,
    )
    first = await reconcile(api, day=BUND_DUE)
    assert first["matched"] == 1
    # The book received 791,079.45 on the 26th; the bank has not shown it yet.
    breaks = {(row.kind, row.amount, row.status) for row in await stored_breaks(db)}
    assert breaks == {
        ("missing_at_bank", Decimal("791079.45"), "open"),
        ("balance", Decimal("-791079.45"), "open"),
    }

    await send_statement(
        api,
        "E2E-2",
        entry("791079.45", NEXT, reference=sold["id"]),
        opening_balance={"amount": "0.00", "date": BUND_DUE},
        closing_balance={"amount": "791079.45", "date": NEXT},
        electronic_sequence=2,
    )
    await reconcile(api, day=NEXT)
    rows = await stored_breaks(db)
    # Our reference, a day late: the missing payment becomes a value-date difference (the
    # seeded reference rules allow no day's gap), and the 26th's break says so.
    late = next(row for row in rows if row.kind == "missing_at_bank")
    [moved] = [row for row in rows if row.kind == "value_date_difference"]
    assert (late.status, late.resolution, late.closed_by) == ("closed", "superseded", moved.id)
    assert (moved.status, moved.amount, moved.currency) == ("open", Decimal("791079.45"), "EUR")
    # The book's settled cash on the 27th equals the bank's closing balance: no balance break
    # for that day; the 26th's stays (the bank's books showed 0.00 that evening).
    assert sorted((row.kind, row.value_date.isoformat(), row.status) for row in rows) == [
        ("balance", BUND_DUE, "open"),
        ("missing_at_bank", BUND_DUE, "closed"),
        ("value_date_difference", NEXT, "open"),
    ]
    assert (await ledger_check(api))["ok"] is True
    # And the trail vouches for every row all this wrote: nothing changed without its record.
    await seal(db.sessionmaker)
    trail = (await api.get("/audit/verify", role="compliance")).json()
    assert (trail["ok"], trail["first_bad_seq"], trail["drift"]) == (True, None, [])
