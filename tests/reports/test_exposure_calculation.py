"""The exposure rule on plain values: replacement cost, principal at risk, missing marks."""

from datetime import date
from decimal import Decimal

from app.reports.exposure.calculation import (
    Exposure,
    FailingInstruction,
    Mark,
    OpenTrade,
    principal_at_risk,
    replacement_cost,
)

A = "AAAAAAAAAAAAAAAAAA00"
DAY = date(2026, 11, 30)


def trade(side: str, quantity: str, price: str, **overrides: object) -> OpenTrade:
    values: dict[str, object] = {
        "counterparty_lei": A,
        "currency": "EUR",
        "isin": "FR0000120271",
        "side": side,
        "quantity": Decimal(quantity),
        "price": Decimal(price),
    }
    values.update(overrides)
    return OpenTrade(**values)  # type: ignore[arg-type]


def failing(delivery_type: str, settled: str) -> FailingInstruction:
    return FailingInstruction(
        counterparty_lei=A,
        currency="EUR",
        isin="FR0000120271",
        delivery_type=delivery_type,
        settled_quantity=Decimal(settled),
    )


def test_a_purchase_costs_what_the_price_has_risen_and_a_sale_what_it_has_fallen() -> None:
    # Bought 100 at 50.00, now 52.50: replacing it costs 100 x 2.50 = 250.
    assert replacement_cost(trade("buy", "100", "50.00"), Decimal("52.50")) == Decimal("250")
    # A fall is no loss on a purchase; on a sale it is: 100 x (50.00 - 48.00) = 200.
    assert replacement_cost(trade("buy", "100", "50.00"), Decimal("48.00")) == 0
    assert replacement_cost(trade("sell", "100", "50.00"), Decimal("48.00")) == Decimal("200")
    assert replacement_cost(trade("sell", "100", "50.00"), Decimal("52.50")) == 0


def test_a_bond_priced_in_percent_is_valued_per_hundred_of_nominal() -> None:
    bond = trade("buy", "1000000", "78.50", in_percent=True)
    assert replacement_cost(bond, Decimal("79.10")) == Decimal("1000000") * Decimal("0.60") / 100


def test_only_securities_delivered_free_are_principal_at_risk() -> None:
    assert principal_at_risk(failing("DVP", "60"), Decimal("10")) == 0
    assert principal_at_risk(failing("RVP", "60"), Decimal("10")) == 0
    assert principal_at_risk(failing("RFP", "60"), Decimal("10")) == 0
    assert principal_at_risk(failing("DFP", "0"), None) == 0
    assert principal_at_risk(failing("DFP", "60"), Decimal("10.25")) == Decimal("615.00")


def test_a_missing_mark_is_counted_and_listed_never_valued_at_zero() -> None:
    exposure = Exposure(marks={"FR0000120271": Mark(DAY, Decimal("52.50"))})
    exposure.add_trade(trade("buy", "100", "50.00"))
    exposure.add_trade(trade("buy", "10", "1.00", isin="DE0007164600"))
    exposure.add_instruction(failing("DFP", "4"))
    exposure.add_instruction(FailingInstruction(A, "EUR", "DE0007164600", "DFP", Decimal("3")))

    assert exposure.rows() == [
        {
            "counterparty_lei": A,
            "currency": "EUR",
            "unsettled_trades": 2,
            "unpriced_trades": 1,
            "replacement_cost": Decimal("250.00"),
            "failing_instructions": 2,
            "unpriced_instructions": 1,
            "principal_at_risk": Decimal(4) * Decimal("52.50"),
            "missing_prices": ["DE0007164600"],
        }
    ]
    assert exposure.missing() == ["DE0007164600"]


def test_amounts_are_rounded_half_even_to_minor_units() -> None:
    exposure = Exposure(marks={"FR0000120271": Mark(DAY, Decimal("50.00125"))})
    exposure.add_trade(trade("buy", "1", "50.00"))  # 0.00125 -> 0.00 (half-even)
    exposure.add_trade(trade("buy", "1", "50.00", currency="JPY"))  # no minor units
    assert [(row["currency"], row["replacement_cost"]) for row in exposure.rows()] == [
        ("EUR", Decimal("0.00")),
        ("JPY", Decimal("0")),
    ]
