"""Who may touch confirmations: the gateway and operations send them, every business role
reads them, and only operations force-match them."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

ConfirmationsWrite = Annotated[Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS))]
ConfirmationsRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
Operations = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
