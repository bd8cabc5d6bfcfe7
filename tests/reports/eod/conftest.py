"""End-of-day tests post opening cash the way position keeping's tests do."""

from tests.positions.conftest import adjust

__all__ = ["adjust"]
