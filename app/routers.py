"""Every API router, registered in one place, in the order ``/docs`` lists them: the trade's
lifecycle first, then positions, reference data and administration."""

from fastapi import APIRouter

from app.apikeys.router import router as api_keys
from app.audit.router import router as audit
from app.clearing.obligations.router import router as obligations
from app.clearing.runs.router import router as clearing_runs
from app.events.feed.router import router as events
from app.events.webhooks.router import router as webhooks
from app.penalties.penalties.router import reports_router as penalty_reports
from app.penalties.penalties.router import router as penalties
from app.penalties.reports.router import router as depository_penalty_reports
from app.penalties.runs.router import router as penalty_runs
from app.positions.adjustments.router import router as adjustments
from app.positions.balances.router import router as balances
from app.positions.journal.router import router as journal
from app.positions.ledger_accounts.router import router as ledger_accounts
from app.positions.ledger_check.router import router as ledger_check
from app.reconciliation.breaks.router import router as breaks
from app.reconciliation.holdings.router import router as holdings_statements
from app.reconciliation.mappings.router import router as statement_mappings
from app.reconciliation.matches.router import router as reconciliation_matches
from app.reconciliation.rules.router import router as reconciliation_rules
from app.reconciliation.runs.router import router as reconciliation_runs
from app.reconciliation.statements.router import router as statements
from app.reference.accounts.router import router as accounts
from app.reference.books.router import router as books
from app.reference.buy_in_periods.router import router as buy_in_periods
from app.reference.calendars.router import router as calendars
from app.reference.counterparties.router import router as counterparties
from app.reference.instruments.router import router as instruments
from app.reference.markets.router import router as markets
from app.reference.prices.router import router as prices
from app.reference.rates.router import router as rates
from app.reference.ssis.router import router as ssis
from app.reference.tolerances.router import router as tolerances
from app.reports.blotter.router import router as blotter_report
from app.reports.breaks.router import router as breaks_report
from app.reports.efficiency.router import router as efficiency_report
from app.reports.eod.router import router as eod_runs
from app.reports.exposure.router import router as exposure_report
from app.reports.positions.router import router as positions_report
from app.settlement.advices.router import router as status_advices
from app.settlement.instructions.router import reports_router as settlement_reports
from app.settlement.instructions.router import router as settlement_instructions
from app.settlement.outbound.router import router as outbound_messages
from app.settlement.runs.router import router as settlement_runs
from app.trades.capture.router import router as trades
from app.trades.confirmations.router import reports_router as confirmation_reports
from app.trades.confirmations.router import router as confirmations
from app.trades.deadline_runs.router import router as affirmation_deadlines

API_ROUTERS: tuple[APIRouter, ...] = (
    trades,
    confirmations,
    confirmation_reports,
    affirmation_deadlines,
    clearing_runs,
    obligations,
    settlement_instructions,
    settlement_reports,
    settlement_runs,
    outbound_messages,
    status_advices,
    penalty_runs,
    penalties,
    depository_penalty_reports,
    penalty_reports,
    balances,
    journal,
    ledger_accounts,
    adjustments,
    ledger_check,
    statements,
    statement_mappings,
    reconciliation_rules,
    reconciliation_runs,
    reconciliation_matches,
    holdings_statements,
    breaks,
    efficiency_report,
    breaks_report,
    blotter_report,
    positions_report,
    exposure_report,
    eod_runs,
    markets,
    calendars,
    instruments,
    counterparties,
    books,
    accounts,
    ssis,
    prices,
    rates,
    buy_in_periods,
    tolerances,
    audit,
    events,
    webhooks,
    api_keys,
)
