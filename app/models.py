"""Every table's model, imported once so Alembic and the tests see the whole schema."""

from app.apikeys import models as apikeys_models
from app.audit import models as audit_models
from app.clearing.obligations import models as obligations_models
from app.clearing.runs import models as clearing_runs_models
from app.core.db import Base
from app.core.idempotency import IdempotencyRecord
from app.events import models as events_models
from app.positions import models as positions_models
from app.reference import models as reference_models
from app.settlement.advices import models as advice_models
from app.settlement.instructions import models as instruction_models
from app.settlement.runs import models as settlement_runs_models
from app.trades.capture import models as trades_models
from app.trades.confirmations import models as confirmations_models

metadata = Base.metadata

__all__ = [
    "IdempotencyRecord",
    "advice_models",
    "apikeys_models",
    "audit_models",
    "clearing_runs_models",
    "confirmations_models",
    "events_models",
    "instruction_models",
    "metadata",
    "obligations_models",
    "positions_models",
    "reference_models",
    "settlement_runs_models",
    "trades_models",
]
