"""Every table's model, imported once so Alembic and the tests see the whole schema."""

from app.apikeys import models as apikeys_models
from app.audit import models as audit_models
from app.clearing.obligations import models as clearing_obligations_models
from app.clearing.runs import models as clearing_runs_models
from app.core.db import Base
from app.core.idempotency import IdempotencyRecord
from app.events.webhooks import models as events_webhooks_models
from app.penalties.penalties import models as penalties_penalties_models
from app.penalties.reports import models as penalties_reports_models
from app.penalties.runs import models as penalties_runs_models
from app.positions.adjustments import models as positions_adjustments_models
from app.positions.balances import models as positions_balances_models
from app.positions.journal import models as positions_journal_models
from app.positions.ledger_accounts import models as positions_ledger_accounts_models
from app.reconciliation.breaks import models as reconciliation_breaks_models
from app.reconciliation.holdings import models as reconciliation_holdings_models
from app.reconciliation.mappings import models as reconciliation_mappings_models
from app.reconciliation.matches import models as reconciliation_matches_models
from app.reconciliation.rules import models as reconciliation_rules_models
from app.reconciliation.runs import models as reconciliation_runs_models
from app.reconciliation.statements import models as reconciliation_statements_models
from app.reference import generation as reference_generation_models
from app.reference.accounts import models as reference_accounts_models
from app.reference.books import models as reference_books_models
from app.reference.buy_in_periods import models as reference_buy_in_periods_models
from app.reference.counterparties import models as reference_counterparties_models
from app.reference.instruments import models as reference_instruments_models
from app.reference.markets import models as reference_markets_models
from app.reference.prices import models as reference_prices_models
from app.reference.rates import models as reference_rates_models
from app.reference.ssis import models as reference_ssis_models
from app.reference.tolerances import models as reference_tolerances_models
from app.reports.eod import models as reports_eod_models
from app.settlement.advices import models as settlement_advices_models
from app.settlement.instructions import models as settlement_instructions_models
from app.settlement.outbound import models as settlement_outbound_models
from app.settlement.runs import models as settlement_runs_models
from app.trades.capture import models as trades_capture_models
from app.trades.confirmations import models as trades_confirmations_models
from app.trades.deadline_runs import models as trades_deadline_runs_models

metadata = Base.metadata

__all__ = [
    "IdempotencyRecord",
    "apikeys_models",
    "audit_models",
    "clearing_obligations_models",
    "clearing_runs_models",
    "events_webhooks_models",
    "metadata",
    "penalties_penalties_models",
    "penalties_reports_models",
    "penalties_runs_models",
    "positions_adjustments_models",
    "positions_balances_models",
    "positions_journal_models",
    "positions_ledger_accounts_models",
    "reconciliation_breaks_models",
    "reconciliation_holdings_models",
    "reconciliation_mappings_models",
    "reconciliation_matches_models",
    "reconciliation_rules_models",
    "reconciliation_runs_models",
    "reconciliation_statements_models",
    "reference_accounts_models",
    "reference_books_models",
    "reference_buy_in_periods_models",
    "reference_counterparties_models",
    "reference_generation_models",
    "reference_instruments_models",
    "reference_markets_models",
    "reference_prices_models",
    "reference_rates_models",
    "reference_ssis_models",
    "reference_tolerances_models",
    "reports_eod_models",
    "settlement_advices_models",
    "settlement_instructions_models",
    "settlement_outbound_models",
    "settlement_runs_models",
    "trades_capture_models",
    "trades_confirmations_models",
    "trades_deadline_runs_models",
]
