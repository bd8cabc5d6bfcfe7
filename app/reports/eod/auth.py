"""Who runs the end of day: operations; operations and compliance read its runs."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

EodWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
EodRead = Annotated[Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE))]
