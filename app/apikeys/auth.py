"""Who may manage API keys: administrators only."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]
