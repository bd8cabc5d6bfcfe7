"""Who may touch trades: trading systems write; every business role reads."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

TradesWrite = Annotated[Actor, Depends(require_roles(Role.TRADER))]
TradesRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
