"""Every table whose rows are entities of the audit trail, for ``GET /audit/verify``'s drift
check: which entity type records them and what of the row the records leave out.

The trail sits below the domains and imports none of them; this wiring module hands it their
tables. Obligations are not here yet: their records are newer than this check.
"""

from app.apikeys.models import ApiKey
from app.audit.drift import AuditedTable
from app.clearing.runs.models import ClearingRun
from app.core.runs.states import RunStatus
from app.events.webhooks.models import WebhookSubscription
from app.penalties.penalties.models import Penalty
from app.penalties.reports.models import PenaltyReportRow
from app.penalties.runs.models import PenaltyRun
from app.positions.adjustments.models import Adjustment
from app.reconciliation.breaks.models import BreakComment, ReconciliationBreak
from app.reconciliation.holdings.models import HoldingsStatement
from app.reconciliation.mappings.models import StatementMapping
from app.reconciliation.matches.models import ReconciliationMatch
from app.reconciliation.rules.models import ReconciliationRule
from app.reconciliation.runs.models import ReconciliationRun
from app.reconciliation.statements.models import BankStatement, StatementFile
from app.reference.accounts.models import Account
from app.reference.books.models import Book
from app.reference.buy_in_periods.models import BuyInExtensionPeriod
from app.reference.counterparties.models import Counterparty
from app.reference.instruments.models import Instrument
from app.reference.markets.models import Market, MarketClosedDay
from app.reference.prices.models import Price
from app.reference.rates.models import PenaltyRate
from app.reference.ssis.models import Ssi
from app.reference.tolerances.models import MatchingTolerance
from app.reports.eod.models import EodRun
from app.settlement.advices.models import StatusAdvice
from app.settlement.instructions.models import SettlementInstruction
from app.settlement.outbound.models import OutboundMessage
from app.settlement.runs.models import SettlementRun
from app.trades.capture.models import Trade
from app.trades.confirmations.models import Confirmation
from app.trades.deadline_runs.models import AffirmationDeadlineRun

# A run's chunks advance its counters and report without a record of their own; the record
# that ends the run (completed, failed) has them as they ended.
_RUN_PROGRESS = frozenset({"processed", "report"})


def _run(entity_type: str, model: type, *counters: str) -> AuditedTable:
    return AuditedTable(
        entity_type,
        model,
        # The worker's lease is renewed while it works, without a record.
        unrecorded=frozenset({"worker", "heartbeat_at"}),
        progress=_RUN_PROGRESS | frozenset(counters),
        progress_status=RunStatus.RUNNING.value,
    )


AUDITED_TABLES: tuple[AuditedTable, ...] = (
    AuditedTable("trade", Trade),
    AuditedTable("confirmation", Confirmation),
    _run("affirmation_deadline_run", AffirmationDeadlineRun, "flagged"),
    _run("clearing_run", ClearingRun, "obligations", "instructions"),
    # Which settlement run last tried an instruction is bookkeeping, not a change of state.
    AuditedTable(
        "settlement_instruction", SettlementInstruction, unrecorded=frozenset({"last_run_id"})
    ),
    _run("settlement_run", SettlementRun, "settled", "partially_settled", "failed"),
    AuditedTable("status_advice", StatusAdvice),
    _run("penalty_run", PenaltyRun, "booked", "reversed", "exceptions"),
    AuditedTable("penalty", Penalty),
    # The report's body is the row's own; its recorded sha256 stands for it.
    AuditedTable("penalty_report", PenaltyReportRow, exclude=frozenset({"content"})),
    AuditedTable("outbound_message", OutboundMessage),
    AuditedTable("adjustment", Adjustment),
    # The file's bytes are the row's own; its recorded sha256 stands for them.
    AuditedTable("statement_file", StatementFile, exclude=frozenset({"content"})),
    AuditedTable("bank_statement", BankStatement),
    AuditedTable("statement_mapping", StatementMapping),
    AuditedTable("reconciliation_rule", ReconciliationRule),
    _run("reconciliation_run", ReconciliationRun, "matched", "breaks_opened", "breaks_closed"),
    # Every change of an end-of-day run (each step's start, child run and end) is recorded.
    AuditedTable("eod_run", EodRun),
    AuditedTable("reconciliation_match", ReconciliationMatch),
    AuditedTable("reconciliation_break", ReconciliationBreak),
    AuditedTable("break_comment", BreakComment),
    AuditedTable("holdings_statement", HoldingsStatement),
    AuditedTable("market", Market),
    AuditedTable("market_closed_day", MarketClosedDay),
    AuditedTable("instrument", Instrument),
    AuditedTable("counterparty", Counterparty),
    AuditedTable("book", Book),
    AuditedTable("account", Account),
    AuditedTable("ssi", Ssi),
    AuditedTable("price", Price),
    AuditedTable("penalty_rate", PenaltyRate),
    AuditedTable("buy_in_extension_period", BuyInExtensionPeriod),
    AuditedTable("matching_tolerance", MatchingTolerance),
    # The key's hash never reaches the trail.
    AuditedTable("api_key", ApiKey, exclude=frozenset({"key_hash"})),
    # Nor does the signing secret; the failure count is the relay's bookkeeping.
    AuditedTable(
        "webhook_subscription",
        WebhookSubscription,
        exclude=frozenset({"secret", "consecutive_failures"}),
    ),
)
