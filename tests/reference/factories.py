"""Valid create payloads for reference data that is NOT in the demo set; tests change one thing.

Identifiers are real (valid check digits) and absent from app/reference/demo_data.py, so a
payload can be posted next to the `reference` fixture without a 409.
"""

from typing import Any

# Markets
LSE = "XLON"
LCH_LTD = "LCHLGB2L"

# Instruments (valid ISINs, none in the demo data)
APPLE = "US0378331005"
MICROSOFT = "US5949181045"
NESTLE = "CH0038863350"
UST_2054 = "US912810TM09"  # a US Treasury bond ISIN
BUND_2034 = "DE0001141851"

# Counterparties (valid LEIs, none in the demo data)
BARCLAYS = "G5GSEF7VJP5I7OUK5573"
UBS = "BFM8T61CT2L1QCEMIK50"

# Demo data (app/reference/demo_data.py)
GOLDMAN = "FOR8UP27PHTHYVLBNG30"
JPM = "US46625H1005"
TOTAL = "FR0000120271"
BUND = "DE0001102614"

# Broken check digits (each differs from a valid identifier in its last character)
BAD_ISIN = "US0378331006"
BAD_LEI = "G5GSEF7VJP5I7OUK5574"
BAD_IBAN = "DE89370400440532013001"
GOOD_IBAN = "GB82WEST12345698765432"


def market_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "mic": LSE,
        "name": "London Stock Exchange",
        "country": "GB",
        "timezone": "Europe/London",
        "calendar": "XLON",
        "settlement_calendars": ["XLON"],
        "settlement_cycle_days": [
            {"from": "2014-10-06", "days": 2},
            {"from": "2027-10-11", "days": 1},
        ],
        "ccp": LCH_LTD,
        "affirmation_cutoff": "18:00",
    }
    payload.update(overrides)
    return payload


def equity_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "isin": APPLE,
        "name": "Apple Inc.",
        "type": "equity",
        "currency": "USD",
        "mic": "XNYS",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
    }
    payload.update(overrides)
    return payload


def bond_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "isin": BUND_2034,
        "name": "Bundesrepublik Deutschland 2.60% 15/08/2034",
        "type": "bond",
        "currency": "EUR",
        "mic": "XOFF",
        "csdr_class": "sovereign_debt",
        "settlement_unit": "0.01",
        "price_basis": "percent",
        "coupon_rate": "0.026",
        "coupon_frequency": 1,
        "day_count": "ACT/ACT-ICMA",
        "issue_date": "2024-08-15",
        "maturity_date": "2034-08-15",
    }
    payload.update(overrides)
    return payload


def counterparty_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "lei": BARCLAYS,
        "name": "Barclays Bank PLC",
        "bic": "BARCGB22",
        "netting": "bilateral",
    }
    payload.update(overrides)
    return payload


def book_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": "EM-CREDIT", "name": "Emerging-market credit"}
    payload.update(overrides)
    return payload


def cash_account_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "code": "CASH-GBP",
        "name": "GBP settlement cash at Barclays",
        "kind": "cash",
        "currency": "GBP",
        "servicer_bic": "BARCGB22",
        "iban": GOOD_IBAN,
    }
    payload.update(overrides)
    return payload


def securities_account_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "code": "SEC-CREST",
        "name": "UK equities safekeeping in CREST",
        "kind": "securities",
        "servicer_bic": "CRSTGB22",
        "account_number": "DEMO-CREST-0001",
    }
    payload.update(overrides)
    return payload


def ssi_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "counterparty_lei": GOLDMAN,
        "mic": None,
        "currency": "USD",
        "place_of_settlement": "DTCYUS33",
        "agent_bic": "CHASUS33",
        "account": "DEMO-GS-USD-01",
    }
    payload.update(overrides)
    return payload


def price_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"isin": JPM, "date": "2026-11-25", "price": "314.05"}
    payload.update(overrides)
    return payload


def penalty_rate_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "csdr_class": "liquid_share",
        "rate": "0.00012",
        "effective_from": "2027-01-01",
    }
    payload.update(overrides)
    return payload
