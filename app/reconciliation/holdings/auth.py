"""Who may send custodians' holdings statements: gateways deliver them, operations load what
arrived another way. Operations, gateways and compliance read them, as they read the rest of
reconciliation; traders do not."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

HoldingsWrite = Annotated[Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS))]
HoldingsRead = Annotated[
    Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS, Role.COMPLIANCE))
]
