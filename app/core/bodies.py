"""Raw request bodies (files and messages that are not JSON), read up to a limit."""

from fastapi import Request

from app.core.config import get_settings
from app.core.errors import PayloadTooLarge

# Set by the body guard (app/core/body_guard.py): the cap of the route being called.
BODY_LIMIT_SCOPE_KEY = "settlement.body_limit"


async def read_capped(request: Request, limit: int | None = None) -> bytes:
    """The whole body, or PayloadTooLarge (413) as soon as it passes ``limit`` bytes (by default
    the route's cap from the settings): what is still to come is not buffered."""
    if limit is None:
        limit = request.scope.get(BODY_LIMIT_SCOPE_KEY) or get_settings().body_limit_bytes
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise PayloadTooLarge(
                f"The body has more than {limit} bytes; at most {limit} are read."
            )
        parts.append(part)
    return b"".join(parts)
