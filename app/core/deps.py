"""The request dependencies every router shares: the unit of work, the clock, paging, waiting."""

from typing import Annotated

from fastapi import Depends, Query

from app.core.clock import Clock, get_clock
from app.core.db import UnitOfWork, get_uow
from app.core.pagination import PageRequest, page_request

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Now = Annotated[Clock, Depends(get_clock)]
Paging = Annotated[PageRequest, Depends(page_request)]
Wait = Annotated[bool, Query(description="Answer when the run has ended.")]
