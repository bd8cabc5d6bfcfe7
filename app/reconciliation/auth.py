"""Who may touch reconciliation: gateways deliver the banks' statements and operations key in
what arrived another way or maintain the CSV mappings; operations, gateways and compliance
read. Traders do not: statements name our cash accounts and every counterparty's payments."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

StatementsWrite = Annotated[Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS))]
ReconciliationRead = Annotated[
    Actor, Depends(require_roles(Role.GATEWAY, Role.OPERATIONS, Role.COMPLIANCE))
]
MappingsWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
