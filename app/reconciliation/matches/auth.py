"""Who matches by hand and undoes matches: operations. Operations, compliance and gateways
read them, as they read the rest of reconciliation."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

MatchesWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
MatchesRead = Annotated[
    Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS, Role.COMPLIANCE))
]
