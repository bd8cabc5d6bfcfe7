"""Who may run clearing: operations; every business role reads the results."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

ClearingWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
ClearingRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
