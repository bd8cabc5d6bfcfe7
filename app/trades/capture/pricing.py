"""Trade amounts (pure): gross, accrued interest and net, each rounded once, per DESIGN.md."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.core.money import round_money
from app.core.values import quick_init
from app.trades.capture.daycount import DayCount, accrued_interest

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class BondTerms:
    coupon_rate: Decimal
    frequency: int
    day_count: DayCount
    issue_date: date
    maturity_date: date


@quick_init
@dataclass(frozen=True)
class Amounts:
    gross_amount: Decimal
    accrued_interest: Decimal | None
    net_amount: Decimal
    commission: Decimal
    fees: Decimal


def gross_amount(*, quantity: Decimal, price: Decimal, percent_of_nominal: bool) -> Decimal:
    """Unrounded: quantity x price, or nominal x price / 100 for bonds priced in percent."""
    return quantity * price / HUNDRED if percent_of_nominal else quantity * price


def trade_amounts(
    *,
    side: str,
    quantity: Decimal,
    price: Decimal,
    currency: str,
    commission: Decimal,
    fees: Decimal,
    settlement_date: date,
    bond: BondTerms | None,
    accrued_given: Decimal | None = None,
) -> Amounts:
    """Gross and accrued are each rounded once to minor units; net is their exact sum.

    Buy: gross + commission + fees + accrued. Sell: gross - commission - fees + accrued
    (the buyer pays the seller the interest accrued since the last coupon either way).
    """
    gross = round_money(
        gross_amount(quantity=quantity, price=price, percent_of_nominal=bond is not None), currency
    )
    accrued: Decimal | None = None
    if bond is not None:
        # A given amount has no more decimals than the currency (validated): this sets scale.
        accrued = None if accrued_given is None else round_money(accrued_given, currency)
        if accrued is None:
            accrued = round_money(
                accrued_interest(
                    nominal=quantity,
                    coupon_rate=bond.coupon_rate,
                    frequency=bond.frequency,
                    day_count=bond.day_count,
                    issue_date=bond.issue_date,
                    maturity_date=bond.maturity_date,
                    settlement_date=settlement_date,
                ),
                currency,
            )
    # Charges carry no more decimals than the currency has (validated), so this only sets scale.
    commission, fees = round_money(commission, currency), round_money(fees, currency)
    charges = commission + fees
    net = gross + charges if side == "buy" else gross - charges
    return Amounts(
        gross_amount=gross,
        accrued_interest=accrued,
        net_amount=net + (accrued or 0),
        commission=commission,
        fees=fees,
    )
