"""Who may send status advices: gateways deliver the CSD's messages, operations key in what
arrived another way; every business role reads them. Exceptions (advices kept, not applied) are
for operations to resolve and compliance to read."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

AdvicesWrite = Annotated[Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS))]
AdvicesRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
ExceptionsRead = Annotated[Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE))]
ExceptionsWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
