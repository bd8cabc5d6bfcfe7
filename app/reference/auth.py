"""Who may touch reference data: operations write; every business role reads."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, Role, require_roles

ReferenceWrite = Annotated[Actor, Depends(require_roles(Role.OPERATIONS))]
ReferenceRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
