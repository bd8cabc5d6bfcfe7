"""Who may touch the outbound queue: gateways claim and report what they send (operations
too, by hand); operations, compliance and gateways read it."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

OutboundWrite = Annotated[Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS))]
OutboundRead = Annotated[
    Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE, Role.GATEWAY))
]
