"""Rows made without an audit record of their making (the reconciliation rules the migration
seeds, dated 2026-12-05, or rows older than the trail) are rebuilt `as_of` all the same: by
the before image of their first change, or while they never changed, by the row itself; before
their `created_at` they did not exist."""

from datetime import UTC, datetime
from typing import Any

from tests.support import Api, FrozenClock

RULE = "/reconciliation-rules/amount-date-counterparty"
BEFORE_SEEDING = "2026-12-04T23:59:59Z"


async def rule_as_of(api: Api, moment: str) -> Any:
    return await api.get(RULE, params={"as_of": moment}, role="compliance")


async def test_a_seeded_rule_never_changed_is_the_row_from_its_seeding(api: Api) -> None:
    current = await api.get(RULE, role="operations")

    seeded = await rule_as_of(api, "2026-12-05T00:00:00Z")
    before = await rule_as_of(api, BEFORE_SEEDING)

    assert (seeded.status_code, seeded.json()) == (200, current.json())
    assert current.json()["created_at"] == "2026-12-05T00:00:00Z"
    assert (before.status_code, before.json()["detail"]) == (
        404,
        "Reconciliation rule 'amount-date-counterparty' did not exist at "
        "2026-12-04T23:59:59+00:00.",
    )


async def test_a_seeded_rule_changed_later_is_its_first_change_before_image(
    api: Api, clock: FrozenClock
) -> None:
    seeded = (await api.get(RULE, role="operations")).json()
    clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    body = {
        k: v for k, v in seeded.items() if k not in {"name", "version", "created_at", "updated_at"}
    }
    changed = await api.request(
        "PUT",
        RULE,
        json={**body, "value_date_days": 2},
        headers={"If-Match": '"1"'},
        role="operations",
    )
    assert changed.status_code == 200, changed.text

    between = await rule_as_of(api, "2026-12-10T08:59:59Z")
    after = await rule_as_of(api, "2026-12-10T09:00:00Z")
    before = await rule_as_of(api, BEFORE_SEEDING)

    assert (between.status_code, between.json()) == (200, seeded)
    assert (after.json()["version"], after.json()["value_date_days"]) == (2, 2)
    assert after.json() == changed.json()
    assert before.status_code == 404, before.text
