"""Counterparties' standing settlement instructions (SSIs)."""
