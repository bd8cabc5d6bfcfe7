"""Closing prices, one per ISIN and date."""
