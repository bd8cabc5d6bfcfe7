"""Fixtures of the report tests: journal adjustments (opening positions) under four-eyes."""

from tests.positions.conftest import adjust

__all__ = ["adjust"]
