"""Who may read the chart of accounts: every business role."""

from typing import Annotated

from fastapi import Depends

from app.core.auth import ALL_READERS, Actor, require_roles

LedgerAccountsRead = Annotated[Actor, Depends(require_roles(*ALL_READERS))]
