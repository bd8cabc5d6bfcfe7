"""/penalty-rates (effective-dated CSDR rates)."""

import re
from typing import Any

import pytest

from tests.reference.factories import penalty_rate_payload
from tests.support import Api, problem_fields

OPS = "operations"
CREATED_AT = "2026-11-25T15:00:00Z"
SEEDED_AT = "2026-11-25T00:00:00Z"
RATE_ID = re.compile(r"^pnr_[0-9a-z]{26}$")


def _seed(key: str, rate: str, effective_from: str = "2022-02-01") -> dict[str, str]:
    return {
        "id": f"pnr_seed_{key.replace(':', '_').lower()}",
        "csdr_class": key,
        "rate": rate,
        "effective_from": effective_from,
        "created_at": SEEDED_AT,
    }


SEEDED_RATES = [
    _seed("cash:EUR", "0.0240", "2025-06-11"),
    _seed("illiquid_share", "0.00005"),
    _seed("liquid_share", "0.0001"),
    _seed("other", "0.00005"),
    _seed("other_debt", "0.000020"),
    _seed("sme_debt", "0.000015"),
    _seed("sme_share", "0.000025"),
    _seed("sovereign_debt", "0.000010"),
]


async def test_the_migration_seeds_eight_penalty_rates(api: Api) -> None:
    response = await api.get("/penalty-rates", role="compliance")

    assert response.status_code == 200
    assert response.json() == {"items": SEEDED_RATES, "next_cursor": None}


@pytest.mark.parametrize(
    ("csdr_class", "expected"),
    [
        ("liquid_share", [_seed("liquid_share", "0.0001")]),
        ("cash:EUR", [_seed("cash:EUR", "0.0240", "2025-06-11")]),
        ("cash:USD", []),
    ],
)
async def test_list_penalty_rates_by_class(
    api: Api, csdr_class: str, expected: list[dict[str, str]]
) -> None:
    response = await api.get("/penalty-rates", params={"csdr_class": csdr_class}, role="trader")

    assert response.json() == {"items": expected, "next_cursor": None}


async def test_list_penalty_rates_pages(api: Api) -> None:
    first = (await api.get("/penalty-rates", params={"limit": 5}, role=OPS)).json()
    second = (
        await api.get(
            "/penalty-rates", params={"limit": 5, "cursor": first["next_cursor"]}, role=OPS
        )
    ).json()

    assert first["items"] == SEEDED_RATES[:5]
    assert second["items"] == SEEDED_RATES[5:]
    assert second["next_cursor"] is None


async def test_create_penalty_rate_answers_201_and_keeps_the_earlier_rate(api: Api) -> None:
    response = await api.post("/penalty-rates", json=penalty_rate_payload(), role=OPS)

    assert response.status_code == 201, response.text
    body = response.json()
    assert RATE_ID.match(body["id"])
    assert "location" not in response.headers
    assert body == {
        "id": body["id"],
        "csdr_class": "liquid_share",
        "rate": "0.00012",
        "effective_from": "2027-01-01",
        "created_at": CREATED_AT,
    }
    listed = await api.get("/penalty-rates", params={"csdr_class": "liquid_share"}, role=OPS)
    assert sorted((r["effective_from"], r["rate"]) for r in listed.json()["items"]) == [
        ("2022-02-01", "0.0001"),
        ("2027-01-01", "0.00012"),
    ]


@pytest.mark.parametrize(
    ("csdr_class", "rate"),
    [("cash:USD", "0.0550"), ("cash:GBP", "0.0525"), ("sme_debt", "0"), ("other", 1)],
)
async def test_penalty_rates_that_are_accepted(api: Api, csdr_class: str, rate: Any) -> None:
    response = await api.post(
        "/penalty-rates", json=penalty_rate_payload(csdr_class=csdr_class, rate=rate), role=OPS
    )

    assert response.status_code == 201, response.text
    assert (response.json()["csdr_class"], response.json()["rate"]) == (csdr_class, str(rate))


async def test_a_second_rate_for_the_same_class_and_date_is_409(api: Api) -> None:
    response = await api.post(
        "/penalty-rates",
        json=penalty_rate_payload(rate="0.0002", effective_from="2022-02-01"),
        role=OPS,
    )

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "A liquid_share rate effective from 2022-02-01 exists already (pnr_seed_liquid_share)."
    )


async def test_a_new_cash_rate_for_the_same_date_as_another_class_is_allowed(api: Api) -> None:
    response = await api.post(
        "/penalty-rates",
        json=penalty_rate_payload(csdr_class="cash:USD", effective_from="2025-06-11"),
        role=OPS,
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"csdr_class": "cash:ZZZ"}, "csdr_class", id="cash-unknown-currency"),
        pytest.param({"csdr_class": "cash:XAU"}, "csdr_class", id="cash-metal"),
        pytest.param({"csdr_class": "cash:usd"}, "csdr_class", id="cash-lower-case"),
        pytest.param({"csdr_class": "cash:"}, "csdr_class", id="cash-no-currency"),
        pytest.param({"csdr_class": "gold"}, "csdr_class", id="unknown-class"),
        pytest.param({"csdr_class": "LIQUID_SHARE"}, "csdr_class", id="upper-case-class"),
        pytest.param({"rate": "-0.0001"}, "rate", id="negative"),
        pytest.param({"rate": 0.0001}, "rate", id="json-float"),
        pytest.param({"rate": "1bp"}, "rate", id="not-a-number"),
        pytest.param({"effective_from": "2027-02-30"}, "effective_from", id="bad-date"),
        pytest.param({"source": "ESMA"}, "source", id="extra-field"),
    ],
)
async def test_invalid_penalty_rate_is_422_naming_the_field(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    response = await api.post("/penalty-rates", json=penalty_rate_payload(**overrides), role=OPS)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == {field}
    assert len((await api.get("/penalty-rates", role=OPS)).json()["items"]) == 8
