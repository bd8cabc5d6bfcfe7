"""Who runs reconciliation: operations; operations, compliance and gateways read the runs, as
they read the rest of reconciliation."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

RunsWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
RunsRead = Annotated[Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS, Role.COMPLIANCE))]
