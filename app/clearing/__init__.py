"""Clearing: novation to the CCP and netting of trades into settlement obligations."""
