"""Obligations: what netting makes of trades, each with its trades (lineage)."""
