"""Who may send custodians' holdings statements: as for bank statements, gateways deliver them
and operations load what arrived another way; operations, gateways and compliance read."""

from app.reconciliation.auth import ReconciliationRead, StatementsWrite

HoldingsWrite = StatementsWrite
HoldingsRead = ReconciliationRead

__all__ = ["HoldingsRead", "HoldingsWrite"]
