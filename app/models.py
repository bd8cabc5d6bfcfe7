"""Every table's model, imported once so Alembic and the tests see the whole schema."""

from app.apikeys import models as apikeys_models
from app.audit import models as audit_models
from app.clearing import models as clearing_models
from app.core.db import Base
from app.core.idempotency import IdempotencyRecord
from app.events import models as events_models
from app.positions import models as positions_models
from app.reference.accounts import models as reference_accounts_models
from app.reference.books import models as reference_books_models
from app.reference.counterparties import models as reference_counterparties_models
from app.reference.instruments import models as reference_instruments_models
from app.reference.markets import models as reference_markets_models
from app.reference.prices import models as reference_prices_models
from app.reference.rates import models as reference_rates_models
from app.reference.ssis import models as reference_ssis_models
from app.reference.tolerances import models as reference_tolerances_models
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
    "positions_models",
    "reference_accounts_models",
    "reference_books_models",
    "reference_counterparties_models",
    "reference_instruments_models",
    "reference_markets_models",
    "reference_prices_models",
    "reference_rates_models",
    "reference_ssis_models",
    "reference_tolerances_models",
    "settlement_models",
    "trades_models",
]
