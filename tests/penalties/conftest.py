"""Fixtures the penalty tests share with the domains' tests: adjustments under four-eyes, and
bilateral instructions off venue matched by the depository's advices."""

from tests.positions.conftest import adjust
from tests.settlement.conftest import matched_by_advice

__all__ = ["adjust", "matched_by_advice"]
