"""Who runs the affirmation deadline: operations."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

DeadlinesWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
