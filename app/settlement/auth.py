"""Who may touch settlement: operations; every business role reads."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

SettlementWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
SettlementRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
