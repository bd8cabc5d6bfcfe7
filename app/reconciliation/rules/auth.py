"""Who may touch reconciliation rules: operations edit them; operations and compliance read."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

RulesWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
RulesRead = Annotated[Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE))]
