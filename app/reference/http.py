"""What every reference router shares: the version a PATCH or DELETE names (``If-Match``) and
the path prefix of the ``Location`` a create answers with."""

from typing import Annotated

from fastapi import Depends

from app.core.versioning import parse_if_match

API_PREFIX = "/api/v1"

Version = Annotated[int, Depends(parse_if_match)]
