"""Fixtures the penalty tests share with the domains' tests: adjustments under four-eyes."""

from tests.positions.conftest import adjust

__all__ = ["adjust"]
