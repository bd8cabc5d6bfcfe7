"""Instruments: the securities we trade, with their bond terms."""
