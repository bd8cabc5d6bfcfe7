"""Clearing runs: novation, netting into obligations and instruction, on the run framework."""
