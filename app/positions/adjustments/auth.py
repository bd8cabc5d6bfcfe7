"""Who may touch adjustments: operations propose, approve and reject; every business role reads."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

AdjustmentsRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
AdjustmentsWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
