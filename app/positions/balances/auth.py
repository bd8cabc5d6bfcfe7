"""Who may read positions and cash balances: every business role."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, require_roles

PositionsRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
