"""Matching tolerances: how far a confirmation may differ from our trade, per currency."""
