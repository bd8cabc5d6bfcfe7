"""Who may touch settlement instructions: operations; every business role reads."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

InstructionsWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
InstructionsRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
