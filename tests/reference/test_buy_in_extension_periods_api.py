"""/buy-in-extension-periods: seeded by the migration with their audit record; operations add
one per class and effective date, audited; everyone reads."""

from typing import Any

from tests.conftest import Database
from tests.settlement.support import audit_trail
from tests.support import Api, problem_fields

PATH = "/buy-in-extension-periods"
OPS = "operations"
SEEDED_AT = "2026-12-07T00:00:00Z"


def _seed(csdr_class: str, business_days: int) -> dict[str, Any]:
    return {
        "id": f"bix_seed_{csdr_class}",
        "csdr_class": csdr_class,
        "business_days": business_days,
        "effective_from": "2022-02-01",
        "created_at": SEEDED_AT,
    }


async def test_the_migration_seeds_four_periods_each_on_the_trail(api: Api, db: Database) -> None:
    response = await api.get(PATH, role="trader")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            _seed("default", 4),
            _seed("illiquid_share", 7),
            _seed("sme_debt", 15),
            _seed("sme_share", 15),
        ],
        "next_cursor": None,
    }
    [record] = await audit_trail(db, "bix_seed_illiquid_share")
    assert (record.action, record.actor_key_id, record.after) == (
        "seeded",
        "system",
        {**_seed("illiquid_share", 7), "created_at": "2026-12-07T00:00:00+00:00"},
    )


async def test_operations_add_a_period_audited_once_per_class_and_date(
    api: Api, db: Database
) -> None:
    body = {"csdr_class": "sme_share", "business_days": 10, "effective_from": "2027-01-01"}

    created = await api.post(PATH, json=body, role=OPS)
    again = await api.post(PATH, json=body, role=OPS)
    listed = await api.get(PATH, params={"csdr_class": "sme_share"}, role="compliance")

    assert created.status_code == 201, created.text
    period = created.json()
    assert {key: period[key] for key in body} == body
    assert again.status_code == 409
    # In id order: a new id sorts before the seeds'.
    assert [item["business_days"] for item in listed.json()["items"]] == [10, 15]
    [record] = await audit_trail(db, period["id"])
    assert record.action == "created"
    assert record.after is not None
    assert (record.after["csdr_class"], record.after["business_days"]) == ("sme_share", 10)


async def test_only_operations_write_and_a_class_must_be_known(api: Api) -> None:
    body = {"csdr_class": "liquid_share", "business_days": 5, "effective_from": "2027-01-01"}
    for role in ("trader", "compliance", "gateway"):
        assert (await api.post(PATH, json=body, role=role)).status_code == 403

    unknown = await api.post(PATH, json={**body, "csdr_class": "equity"}, role=OPS)
    negative = await api.post(PATH, json={**body, "business_days": -1}, role=OPS)

    assert (unknown.status_code, problem_fields(unknown)) == (422, {"csdr_class"})
    assert (negative.status_code, problem_fields(negative)) == (422, {"business_days"})
