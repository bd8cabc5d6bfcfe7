"""Who may touch settlement instructions and runs: operations; every business role reads
(status advices have their own: advices/auth.py)."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

SettlementWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
SettlementRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
