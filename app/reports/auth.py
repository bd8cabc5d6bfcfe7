"""Who reads the reports: those who act on them (operations) and who oversee them (compliance)."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

ReportsRead = Annotated[Actor, Depends(require_roles(Role.OPERATIONS, Role.COMPLIANCE))]
