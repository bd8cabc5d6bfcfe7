"""Choosing the counterparty's standing settlement instruction. Pure: no database.

The most specific SSI wins: one for the instrument's market and currency, else for the market,
else for the currency. Two
equally specific SSIs are ambiguous; none is missing. Either way the instruction goes to repair
with a reason that names what to add or remove, never half-filled.
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SsiFacts:
    id: str
    mic: str | None
    currency: str | None
    place_of_settlement: str
    agent_bic: str
    account: str

    def as_instructed(self) -> dict[str, str]:
        return {
            "id": self.id,
            "place_of_settlement": self.place_of_settlement,
            "agent_bic": self.agent_bic,
            "account": self.account,
        }


@dataclass(frozen=True)
class RepairReason:
    code: str
    detail: str


SSI_MISSING = "SSI_MISSING"
SSI_AMBIGUOUS = "SSI_AMBIGUOUS"


def choose_ssi(
    ssis: Sequence[SsiFacts], *, counterparty: str, mic: str, currency: str
) -> SsiFacts | RepairReason:
    for level, matching in (
        (
            f"market {mic} in {currency}",
            [s for s in ssis if s.mic == mic and s.currency == currency],
        ),
        (f"market {mic}", [s for s in ssis if s.mic == mic and s.currency is None]),
        (f"currency {currency}", [s for s in ssis if s.mic is None and s.currency == currency]),
    ):
        if len(matching) == 1:
            return matching[0]
        if len(matching) > 1:
            ids = ", ".join(sorted(s.id for s in matching))
            return RepairReason(
                SSI_AMBIGUOUS,
                f"{counterparty} has {len(matching)} SSIs for {level} ({ids}): keep one.",
            )
    return RepairReason(
        SSI_MISSING, f"{counterparty} has no SSI for market {mic} or currency {currency}: add one."
    )
