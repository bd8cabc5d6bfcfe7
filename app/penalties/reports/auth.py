"""Who may post the depository's penalty reports: gateways deliver them, operations key in what
arrived another way; operations and compliance read them (they name who fails and what it
costs)."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles
from app.penalties.auth import PenaltiesRead

PenaltyReportsWrite = Annotated[Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS))]
PenaltyReportsRead = PenaltiesRead
