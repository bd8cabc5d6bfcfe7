"""Penalty runs: operations start and resume them; operations and compliance read them."""

from app.penalties.auth import PenaltiesRead, PenaltiesWrite

__all__ = ["PenaltiesRead", "PenaltiesWrite"]
