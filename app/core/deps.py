"""The request dependencies every router shares: the unit of work, the clock, paging, waiting,
and the ``as_of`` of a read."""

from typing import Annotated, Any

from fastapi import Depends, Query

from app.core.clock import Clock, get_clock
from app.core.db import UnitOfWork, get_uow
from app.core.moments import UtcDateTime
from app.core.pagination import PageRequest, page_request

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Now = Annotated[Clock, Depends(get_clock)]
Paging = Annotated[PageRequest, Depends(page_request)]
Wait = Annotated[bool, Query(description="Answer when the run has ended.")]


def as_of_query(note: str = "") -> Any:
    """The ``as_of`` query parameter of a GET by id, with what the resource's answer then
    leaves out or counts differently (``note``)."""
    return Query(
        description="The resource as it stood at this instant, rebuilt from its audit trail: a "
        "timestamp with an offset, e.g. `2026-11-25T15:10:00Z` (a naive one is a 422). 404 "
        "when it did not exist then." + (f" {note}" if note else ""),
        examples=["2026-11-25T15:10:00Z"],
    )


AsOf = Annotated[UtcDateTime | None, as_of_query()]
"""``?as_of=``: the resource at a past instant (None: as it is now)."""
