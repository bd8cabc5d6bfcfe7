"""Raw request bodies (files and messages that are not JSON), read up to a limit."""

from fastapi import Request

from app.core.errors import PayloadTooLarge


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body, or PayloadTooLarge (413) as soon as it passes ``limit`` bytes: what is
    still to come is not buffered."""
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
