"""Every table's model, imported once so Alembic and the tests see the whole schema."""

from app.apikeys import models as apikeys_models
from app.audit import models as audit_models
from app.clearing import models as clearing_models
from app.core.db import Base
from app.core.idempotency import IdempotencyRecord
from app.events import models as events_models
from app.positions.adjustments import models as positions_adjustments_models
from app.positions.balances import models as positions_balances_models
from app.positions.journal import models as positions_journal_models
from app.positions.ledger_accounts import models as positions_ledger_accounts_models
from app.reference import models as reference_models
from app.settlement import advice_models as advice_models
from app.settlement import models as settlement_models
from app.trades import models as trades_models

metadata = Base.metadata

__all__ = [
    "IdempotencyRecord",
    "apikeys_models",
    "audit_models",
    "clearing_models",
    "events_models",
    "metadata",
    "positions_adjustments_models",
    "positions_balances_models",
    "positions_journal_models",
    "positions_ledger_accounts_models",
    "reference_models",
    "settlement_models",
    "trades_models",
]
