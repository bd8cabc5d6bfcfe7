"""Who may send custodians' holdings statements: gateways deliver them, operations load what
arrived another way; every business role reads them."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

HoldingsWrite = Annotated[Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS))]
HoldingsRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
