"""Fixtures the end-to-end tests share with the domains' tests: adjustments under four-eyes."""

from tests.positions.conftest import adjust

__all__ = ["adjust"]
