"""Who may touch positions: operations propose and approve adjustments; every business role
reads; operations and compliance run the ledger check."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

PositionsRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
AdjustmentsWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
LedgerCheckRead = Annotated[Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE))]
