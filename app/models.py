"""Every table's model, imported once so Alembic and the tests see the whole schema."""

from app.apikeys import models as apikeys_models
from app.audit import models as audit_models
from app.clearing import models as clearing_models
from app.core.db import Base
from app.core.idempotency import IdempotencyRecord
from app.events import models as events_models
from app.positions import models as positions_models
from app.reference import models as reference_models
from app.settlement import models as settlement_models
from app.settlement.instructions import models as instruction_models
from app.trades import models as trades_models

metadata = Base.metadata

__all__ = [
    "IdempotencyRecord",
    "apikeys_models",
    "audit_models",
    "clearing_models",
    "events_models",
    "instruction_models",
    "metadata",
    "positions_models",
    "reference_models",
    "settlement_models",
    "trades_models",
]
