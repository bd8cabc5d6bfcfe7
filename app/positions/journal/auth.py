"""Who may read the journal: every business role."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, require_roles

JournalRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
