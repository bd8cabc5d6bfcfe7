"""/instruments: equities and bonds, their cross-field rules, filters, versioned update."""

from typing import Any

import pytest

from tests.reference.factories import (
    APPLE,
    BAD_ISIN,
    BUND,
    BUND_2034,
    JPM,
    MICROSOFT,
    TOTAL,
    bond_payload,
    equity_payload,
)
from tests.support import Api, FrozenClock, problem_fields

OPS = "operations"
CREATED_AT = "2026-11-25T15:00:00Z"
NO_BOND_TERMS = {
    "coupon_rate": None,
    "coupon_frequency": None,
    "day_count": None,
    "issue_date": None,
    "maturity_date": None,
}

US_EQUITIES = [
    "US1912161007",
    "US30231G1022",
    "US4592001014",
    "US46625H1005",
    "US4781601046",
    "US92826C8394",
]
EUR_EQUITIES = [
    "DE0007164600",
    "DE0007236101",
    "DE0008404005",
    "FR0000120271",
    "FR0000121014",
    "FR0000131104",
]
BONDS = ["DE0001102614", "FR001400WYO4"]
ALL_ISINS = sorted(US_EQUITIES + EUR_EQUITIES + BONDS)

BUND_BODY = {
    "isin": BUND,
    "name": "Bundesrepublik Deutschland 1.80% Bund 15/08/2053",
    "type": "bond",
    "currency": "EUR",
    "mic": "XOFF",
    "csdr_class": "sovereign_debt",
    "settlement_unit": "0.01",
    "settlement_cycle_days": None,
    "price_basis": "percent",
    "coupon_rate": "0.018",
    "coupon_frequency": 1,
    "day_count": "ACT/ACT-ICMA",
    "issue_date": "2022-08-15",
    "maturity_date": "2053-08-15",
    "partial_quantity_threshold": "100000",
    "version": 1,
    "created_at": CREATED_AT,
    "updated_at": CREATED_AT,
}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


# Create ------------------------------------------------------------------------------------


async def test_create_equity_answers_201_with_location_and_defaults(
    api: Api, reference: None
) -> None:
    response = await api.post("/instruments", json=equity_payload(), role=OPS)

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/instruments/{APPLE}"
    assert response.json() == {
        "isin": APPLE,
        "name": "Apple Inc.",
        "type": "equity",
        "currency": "USD",
        "mic": "XNYS",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "settlement_cycle_days": None,
        "price_basis": "unit",
        **NO_BOND_TERMS,
        "partial_quantity_threshold": None,
        "version": 1,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
    }


async def test_create_bond_answers_201_with_its_terms(api: Api, reference: None) -> None:
    response = await api.post("/instruments", json=bond_payload(), role=OPS)

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/instruments/{BUND_2034}"
    assert response.json() == {
        **bond_payload(),
        "settlement_cycle_days": None,
        "partial_quantity_threshold": None,
        "version": 1,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
    }


async def test_instrument_cycle_override_is_stored(api: Api, reference: None) -> None:
    cycle = [{"from": "2020-01-02", "days": 3}]

    response = await api.post(
        "/instruments", json=equity_payload(settlement_cycle_days=cycle), role=OPS
    )

    assert response.status_code == 201
    stored = await api.get(f"/instruments/{APPLE}", role=OPS)
    assert stored.json()["settlement_cycle_days"] == cycle


@pytest.mark.parametrize(
    ("field", "sent", "answered"),
    [
        ("settlement_unit", 100, "100"),
        ("settlement_unit", "0.0001", "0.0001"),
        ("settlement_unit", "1.50", "1.50"),
        ("isin", APPLE.lower(), APPLE),
        ("currency", "usd", "USD"),
    ],
)
async def test_create_instrument_normalises_input(
    api: Api, reference: None, field: str, sent: Any, answered: str
) -> None:
    response = await api.post("/instruments", json=equity_payload(**{field: sent}), role=OPS)

    assert response.status_code == 201
    assert response.json()[field] == answered
    assert (await api.get(f"/instruments/{APPLE}", role=OPS)).json()[field] == answered


async def test_duplicate_instrument_is_409(api: Api, reference: None) -> None:
    response = await api.post("/instruments", json=equity_payload(isin=JPM), role=OPS)

    assert response.status_code == 409
    assert response.json()["detail"] == f"The instrument '{JPM}' already exists."


# Read and list -----------------------------------------------------------------------------


async def test_get_instrument_answers_the_bond_with_etag(api: Api, reference: None) -> None:
    response = await api.get(f"/instruments/{BUND}", role="trader")

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == BUND_BODY


async def test_get_instrument_accepts_a_lower_case_isin(api: Api, reference: None) -> None:
    response = await api.get(f"/instruments/{BUND.lower()}", role="trader")

    assert response.status_code == 200
    assert response.json()["isin"] == BUND


async def test_unknown_instrument_is_404(api: Api, reference: None) -> None:
    response = await api.get(f"/instruments/{MICROSOFT}", role="trader")

    assert response.status_code == 404
    assert response.json()["detail"] == f"No instrument '{MICROSOFT}'."


@pytest.mark.parametrize(
    ("params", "isins"),
    [
        pytest.param({}, ALL_ISINS, id="all"),
        pytest.param({"mic": "XNYS"}, US_EQUITIES, id="mic-XNYS"),
        pytest.param({"mic": "xoff"}, BONDS, id="mic-lower-case"),
        pytest.param(
            {"mic": "XPAR"}, ["FR0000120271", "FR0000121014", "FR0000131104"], id="mic-XPAR"
        ),
        pytest.param({"type": "bond"}, BONDS, id="type-bond"),
        pytest.param({"type": "equity"}, sorted(US_EQUITIES + EUR_EQUITIES), id="type-equity"),
        pytest.param({"type": "etf"}, [], id="type-etf"),
        pytest.param({"currency": "EUR"}, sorted(EUR_EQUITIES + BONDS), id="currency-EUR"),
        pytest.param({"currency": "USD"}, US_EQUITIES, id="currency-USD"),
        pytest.param({"currency": "EUR", "type": "equity"}, EUR_EQUITIES, id="EUR-equity"),
        pytest.param({"mic": "XETR", "type": "bond"}, [], id="XETR-bond"),
        pytest.param({"mic": "XLON"}, [], id="unknown-mic"),
    ],
)
async def test_list_instruments_filters(
    api: Api, reference: None, params: dict[str, str], isins: list[str]
) -> None:
    response = await api.get("/instruments", params=params, role="compliance")

    assert response.status_code == 200
    assert [i["isin"] for i in response.json()["items"]] == isins
    assert response.json()["next_cursor"] is None


async def test_list_instruments_pages_through_every_row_once(api: Api, reference: None) -> None:
    seen: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        body = (await api.get("/instruments", params=params, role=OPS)).json()
        seen.append([i["isin"] for i in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in seen] == [5, 5, 4]
    assert [isin for page in seen for isin in page] == ALL_ISINS


async def test_list_instruments_cursor_keeps_the_filter(api: Api, reference: None) -> None:
    first = (await api.get("/instruments", params={"mic": "XNYS", "limit": 4}, role=OPS)).json()
    second = (
        await api.get(
            "/instruments",
            params={"mic": "XNYS", "limit": 4, "cursor": first["next_cursor"]},
            role=OPS,
        )
    ).json()

    assert [i["isin"] for i in first["items"]] == US_EQUITIES[:4]
    assert [i["isin"] for i in second["items"]] == US_EQUITIES[4:]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [({"currency": "ZZZ"}, "currency"), ({"type": "option"}, "type"), ({"mic": "XN"}, "mic")],
)
async def test_list_instruments_refuses_bad_filters(
    api: Api, reference: None, params: dict[str, str], field: str
) -> None:
    response = await api.get("/instruments", params=params, role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}


# Update ------------------------------------------------------------------------------------


async def test_patch_bumps_the_version_and_answers_etag_2(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    clock.advance(minutes=5)

    response = await api.patch(
        f"/instruments/{BUND}",
        json={"name": "Bund 1.8% 2053", "settlement_unit": "1"},
        headers=if_match(1),
        role=OPS,
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json() == {
        **BUND_BODY,
        "name": "Bund 1.8% 2053",
        "settlement_unit": "1",
        "version": 2,
        "updated_at": "2026-11-25T15:05:00Z",
    }


async def test_patch_with_stale_if_match_is_412(api: Api, reference: None) -> None:
    response = await api.patch(
        f"/instruments/{BUND}", json={"name": "x"}, headers=if_match(3), role=OPS
    )

    assert response.status_code == 412
    assert response.json()["current_version"] == 1
    assert response.json()["detail"] == (
        f"instrument '{BUND}' is at version 1, not 3: read it again and retry."
    )


async def test_patch_without_if_match_is_428(api: Api, reference: None) -> None:
    response = await api.patch(f"/instruments/{BUND}", json={"name": "x"}, role=OPS)

    assert response.status_code == 428


async def test_patch_unknown_instrument_is_404(api: Api, reference: None) -> None:
    response = await api.patch(
        f"/instruments/{MICROSOFT}", json={"name": "x"}, headers=if_match(1), role=OPS
    )

    assert response.status_code == 404


async def test_patch_that_changes_nothing_keeps_the_version(api: Api, reference: None) -> None:
    response = await api.patch(
        f"/instruments/{BUND}",
        json={"coupon_rate": "0.018", "coupon_frequency": 1, "maturity_date": "2053-08-15"},
        headers=if_match(1),
        role=OPS,
    )

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == BUND_BODY


@pytest.mark.parametrize("field", ["name", "csdr_class", "settlement_unit"])
async def test_patch_setting_a_required_field_to_null_is_422_naming_it(
    api: Api, reference: None, field: str
) -> None:
    response = await api.patch(
        f"/instruments/{TOTAL}", json={field: None}, headers=if_match(1), role=OPS
    )

    assert response.status_code == 422
    assert problem_fields(response) == {field}


async def test_patch_can_remove_the_instrument_cycle_override(api: Api, reference: None) -> None:
    await api.post(
        "/instruments",
        json=equity_payload(settlement_cycle_days=[{"from": "2020-01-02", "days": 3}]),
        role=OPS,
    )

    response = await api.patch(
        f"/instruments/{APPLE}",
        json={"settlement_cycle_days": None},
        headers=if_match(1),
        role=OPS,
    )

    assert response.status_code == 200
    assert response.json()["settlement_cycle_days"] is None
    assert response.json()["version"] == 2


@pytest.mark.parametrize(
    ("isin", "patch", "fields"),
    [
        pytest.param(BUND, {"coupon_frequency": 3}, {"coupon_frequency"}, id="frequency-3"),
        pytest.param(BUND, {"coupon_rate": "1.2"}, {"coupon_rate"}, id="coupon-over-100pc"),
        pytest.param(BUND, {"coupon_rate": None}, {"coupon_rate"}, id="bond-loses-coupon"),
        pytest.param(BUND, {"day_count": None}, {"day_count"}, id="bond-loses-day-count"),
        pytest.param(
            BUND,
            {"maturity_date": "2022-08-15"},
            {"issue_date", "maturity_date"},
            id="maturity-on-issue",
        ),
        pytest.param(BUND, {"settlement_unit": "0"}, {"settlement_unit"}, id="unit-zero"),
        pytest.param(TOTAL, {"coupon_rate": "0.05"}, {"coupon_rate"}, id="equity-coupon"),
        pytest.param(TOTAL, {"issue_date": "2020-01-01"}, {"issue_date"}, id="equity-issue"),
        pytest.param(TOTAL, {"type": "bond"}, {"type"}, id="type-not-patchable"),
        pytest.param(TOTAL, {"isin": APPLE}, {"isin"}, id="isin-not-patchable"),
        pytest.param(TOTAL, {"mic": "XETR"}, {"mic"}, id="mic-not-patchable"),
        pytest.param(TOTAL, {"price_basis": "percent"}, {"price_basis"}, id="basis-not-patchable"),
        pytest.param(TOTAL, {"settlement_unit": 1.5}, {"settlement_unit"}, id="float-unit"),
    ],
)
async def test_patch_breaking_the_instrument_terms_is_422_naming_the_field(
    api: Api, reference: None, isin: str, patch: dict[str, Any], fields: set[str]
) -> None:
    before = (await api.get(f"/instruments/{isin}", role=OPS)).json()

    response = await api.patch(f"/instruments/{isin}", json=patch, headers=if_match(1), role=OPS)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == fields
    assert (await api.get(f"/instruments/{isin}", role=OPS)).json() == before


# Validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        pytest.param(equity_payload(isin=BAD_ISIN), {"isin"}, id="isin-check-digit"),
        pytest.param(equity_payload(isin="US03783310"), {"isin"}, id="isin-too-short"),
        pytest.param(equity_payload(currency="ZZZ"), {"currency"}, id="unknown-currency"),
        pytest.param(equity_payload(currency="XAU"), {"currency"}, id="metal-currency"),
        pytest.param(equity_payload(currency="US"), {"currency"}, id="currency-two-letters"),
        pytest.param(equity_payload(mic="XN"), {"mic"}, id="mic-malformed"),
        pytest.param(equity_payload(type="option"), {"type"}, id="unknown-type"),
        pytest.param(equity_payload(csdr_class="blue_chip"), {"csdr_class"}, id="csdr-class"),
        pytest.param(equity_payload(price_basis="bp"), {"price_basis"}, id="price-basis"),
        pytest.param(equity_payload(name=""), {"name"}, id="empty-name"),
        pytest.param(equity_payload(settlement_unit="0"), {"settlement_unit"}, id="unit-zero"),
        pytest.param(equity_payload(settlement_unit="-1"), {"settlement_unit"}, id="unit-neg"),
        pytest.param(equity_payload(settlement_unit=1.0), {"settlement_unit"}, id="unit-float"),
        pytest.param(equity_payload(settlement_unit="one"), {"settlement_unit"}, id="unit-text"),
        pytest.param(
            equity_payload(settlement_unit="0.0000000000001"),
            {"settlement_unit"},
            id="unit-13-places",
        ),
        pytest.param(
            equity_payload(settlement_cycle_days=[]), {"settlement_cycle_days"}, id="empty-cycle"
        ),
        pytest.param(equity_payload(coupon_rate="0.05"), {"coupon_rate"}, id="equity-coupon"),
        pytest.param(
            equity_payload(maturity_date="2030-01-01"), {"maturity_date"}, id="equity-maturity"
        ),
        pytest.param(
            equity_payload(coupon_frequency=1, day_count="30/360"),
            {"coupon_frequency", "day_count"},
            id="equity-bond-terms",
        ),
        pytest.param(bond_payload(coupon_rate=None), {"coupon_rate"}, id="bond-no-coupon"),
        pytest.param(
            {k: v for k, v in bond_payload().items() if k not in {"day_count", "issue_date"}},
            {"day_count", "issue_date"},
            id="bond-missing-two-terms",
        ),
        pytest.param(bond_payload(price_basis="unit"), {"price_basis"}, id="bond-unit-basis"),
        pytest.param(
            {k: v for k, v in bond_payload().items() if k != "price_basis"},
            {"price_basis"},
            id="bond-default-unit-basis",
        ),
        pytest.param(
            bond_payload(issue_date="2034-08-16"),
            {"issue_date", "maturity_date"},
            id="bond-issue-after-maturity",
        ),
        pytest.param(
            bond_payload(issue_date="2034-08-15"),
            {"issue_date", "maturity_date"},
            id="bond-issue-on-maturity",
        ),
        pytest.param(bond_payload(coupon_frequency=3), {"coupon_frequency"}, id="frequency-3"),
        pytest.param(bond_payload(coupon_frequency=0), {"coupon_frequency"}, id="frequency-0"),
        pytest.param(bond_payload(coupon_rate="1"), {"coupon_rate"}, id="coupon-100pc"),
        pytest.param(bond_payload(coupon_rate="-0.01"), {"coupon_rate"}, id="coupon-negative"),
        pytest.param(bond_payload(coupon_rate=0.026), {"coupon_rate"}, id="coupon-float"),
        pytest.param(bond_payload(day_count="ACT/999"), {"day_count"}, id="day-count"),
        pytest.param(bond_payload(settlement_unit="0"), {"settlement_unit"}, id="bond-unit-zero"),
        pytest.param(equity_payload(ticker="AAPL"), {"ticker"}, id="extra-field"),
    ],
)
async def test_invalid_instrument_is_422_naming_the_field(
    api: Api, reference: None, payload: dict[str, Any], fields: set[str]
) -> None:
    response = await api.post("/instruments", json=payload, role=OPS)

    assert response.status_code == 422, response.text
    assert response.json()["type"] == "https://settlement.example/problems/validation-error"
    assert problem_fields(response) == fields


async def test_instrument_on_an_unknown_market_is_422_naming_mic(api: Api, reference: None) -> None:
    response = await api.post("/instruments", json=equity_payload(mic="XLON"), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {"mic"}
    assert response.json()["detail"] == "mic 'XLON' is not known."
    assert (await api.get(f"/instruments/{APPLE}", role=OPS)).status_code == 404


@pytest.mark.parametrize("frequency", [1, 2, 4, 12])
async def test_bond_coupon_frequencies_that_are_accepted(
    api: Api, reference: None, frequency: int
) -> None:
    response = await api.post(
        "/instruments", json=bond_payload(coupon_frequency=frequency), role=OPS
    )

    assert response.status_code == 201
    assert response.json()["coupon_frequency"] == frequency


@pytest.mark.parametrize("day_count", ["30/360", "ACT/360", "ACT/365F", "ACT/ACT-ICMA"])
async def test_bond_day_counts_that_are_accepted(api: Api, reference: None, day_count: str) -> None:
    response = await api.post("/instruments", json=bond_payload(day_count=day_count), role=OPS)

    assert response.status_code == 201
    assert response.json()["day_count"] == day_count


@pytest.mark.parametrize("kind", ["fund", "etf"])
async def test_funds_and_etfs_are_priced_per_unit_without_bond_terms(
    api: Api, reference: None, kind: str
) -> None:
    response = await api.post("/instruments", json=equity_payload(type=kind), role=OPS)

    assert response.status_code == 201
    assert response.json()["type"] == kind


# Partial settlement ----------------------------------------------------------------------------


async def test_a_partial_quantity_threshold_is_kept_and_can_be_dropped(
    api: Api, reference: None
) -> None:
    created = await api.post(
        "/instruments", json=equity_payload(partial_quantity_threshold="250"), role=OPS
    )
    assert created.status_code == 201, created.text
    assert created.json()["partial_quantity_threshold"] == "250"

    dropped = await api.patch(
        f"/instruments/{APPLE}",
        json={"partial_quantity_threshold": None},
        headers=if_match(1),
        role=OPS,
    )

    assert dropped.status_code == 200, dropped.text
    assert dropped.json()["partial_quantity_threshold"] is None


@pytest.mark.parametrize("value", ["0", "-100", "abc", 1.5])
async def test_a_partial_quantity_threshold_that_is_not_positive_is_422(
    api: Api, reference: None, value: Any
) -> None:
    created = await api.post(
        "/instruments", json=equity_payload(partial_quantity_threshold=value), role=OPS
    )
    patched = await api.patch(
        f"/instruments/{BUND}",
        json={"partial_quantity_threshold": value},
        headers=if_match(1),
        role=OPS,
    )

    assert (created.status_code, patched.status_code) == (422, 422)
    assert problem_fields(created) == problem_fields(patched) == {"partial_quantity_threshold"}
