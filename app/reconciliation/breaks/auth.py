"""Who may touch breaks: operations work them; operations, compliance and gateways read."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

BreaksRead = Annotated[
    Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE, Role.GATEWAY))
]
BreaksWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
