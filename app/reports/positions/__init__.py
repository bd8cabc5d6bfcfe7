"""Positions and cash balances in one report, as GET /positions and /cash-balances give them."""
