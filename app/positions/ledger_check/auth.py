"""Who may run the ledger check: operations and compliance."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

LedgerCheckRead = Annotated[Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE))]
