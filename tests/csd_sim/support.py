"""Instructions and scenarios the simulator's tests share."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from csd_sim.messages.instruction import DealPrice, Instruction

BUND = "DE0001102614"
TOTAL = "FR0000120271"
US = "COBADEFFXXX"
TRADE_DAY = date(2026, 11, 24)
SETTLEMENT_DAY = date(2026, 11, 26)  # a Thursday
AFTERNOON = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)

BOND_RECEIPT = Instruction(
    reference="SI0001",
    family="xml",
    message_type="sese.023.001.11",
    direction="RECE",
    payment="APMT",
    isin=BUND,
    quantity=Decimal(1000000),
    quantity_type="FAMT",
    trade_date=TRADE_DAY,
    settlement_date=SETTLEMENT_DAY,
    safekeeping_account="DEMO-EB-0001",
    deal_price=DealPrice(Decimal("101.25"), "PRCT"),
    place_of_settlement="MGTCBEBEECL",
    counterparty_agent="GOLDUS33",
    counterparty_account="DEMO-GS-EB-01",
    counterparty="GOLDUS33",
    settlement_amount=Decimal("790079.45"),
    currency="EUR",
    credit_debit="DBIT",
    partial_indicator="PART",
    priority="0050",
)

SHARE_DELIVERY = Instruction(
    reference="SI0002",
    family="mt",
    message_type="MT543",
    direction="DELI",
    payment="APMT",
    isin=TOTAL,
    quantity=Decimal(100),
    quantity_type="UNIT",
    trade_date=TRADE_DAY,
    settlement_date=SETTLEMENT_DAY,
    safekeeping_account="DEMO-EOCF-0001",
    deal_price=DealPrice(Decimal("189.25"), "ACTU", "EUR"),
    place_of_settlement="SICVFRPP",
    counterparty_agent="BNPAFRPP",
    counterparty_account="DEMO-BNP-EOCF-01",
    settlement_amount=Decimal("18925.00"),
    currency="EUR",
    credit_debit="CRDT",
    partial_indicator="NPAR",
)


def bond_receipt(**changes: Any) -> Instruction:
    return replace(BOND_RECEIPT, **changes)


def share_delivery(**changes: Any) -> Instruction:
    return replace(SHARE_DELIVERY, **changes)
