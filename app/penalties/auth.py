"""Who may run and correct penalties: operations; who reads them (they name who fails and what
it costs): operations and compliance."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

PenaltiesWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
PenaltiesRead = Annotated[Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE))]
