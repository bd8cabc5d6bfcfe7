"""Who may touch settlement instructions and runs: operations; every business role reads
(status advices have their own: advices/auth.py)."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

SettlementWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
SettlementRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
# What the CSD said of an instruction, block by block: those who act on it and who oversee it.
StatusHistoryRead = Annotated[
    Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE, Role.GATEWAY))
]
# Reports that name who fails and what it costs: those who act on them and who oversee them.
SettlementReportRead = Annotated[Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE))]
