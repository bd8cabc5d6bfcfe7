"""Who may read the audit trail: compliance, and administrators (who answer for the keys)."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

AuditRead = Annotated[Actor, Depends(require_roles(Role.COMPLIANCE, Role.ADMIN))]
