"""Optimistic concurrency: ``If-Match: "<version>"`` on every PATCH, ``ETag`` on reads."""

import re
from typing import Annotated

from fastapi import Header

from app.core.errors import AppError, PreconditionFailed

IF_MATCH_PATTERN = r'^(?:W/)?"?[0-9]{1,9}"?$'
_VERSION = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')
# The required header's description: the OpenAPI document marks it required (428 if missing).
REQUIRED_IF_MATCH = 'The version you read (the `version` field or ETag), e.g. `"3"`.'


class PreconditionRequired(AppError):
    status = 428
    slug = "precondition-required"
    title = "If-Match is required"


def parse_if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description=REQUIRED_IF_MATCH,
        ),
    ] = None,
) -> int:
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the version you last read.")
    match = _VERSION.match(if_match.strip())
    if match is None:
        raise PreconditionRequired(f"If-Match '{if_match}' is not a version such as \"3\".")
    return int(match.group(1))


def check_version(*, current: int, expected: int, what: str) -> None:
    if current != expected:
        raise PreconditionFailed(
            f"{what} is at version {current}, not {expected}: read it again and retry.",
            current_version=current,
        )


def etag(version: int) -> str:
    return f'"{version}"'


def parse_optional_if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='Optional: the version you read, e.g. `"3"`; a stale one is a 412.',
        ),
    ] = None,
) -> int | None:
    """``If-Match`` where it is not required but honoured when sent."""
    return None if if_match is None else parse_if_match(if_match)
