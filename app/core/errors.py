"""One error base class; every domain error subclasses it and becomes RFC 9457 problem+json."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://settlement.example/problems/"


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class AppError(Exception):
    """Base of every error the service answers with on purpose."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self, detail: str, *, errors: Sequence[FieldProblem] = (), **extensions: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.extensions = extensions

    @property
    def type_uri(self) -> str:
        return PROBLEM_TYPE_BASE + self.slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        body.update(self.extensions)
        return body


class ValidationFailed(AppError):
    status = 422
    slug = "validation-error"
    title = "The request is not valid"

    @classmethod
    def of_fields(cls, problems: Sequence[FieldProblem]) -> "ValidationFailed":
        """The 422 the request parser answers: the first five problems in ``detail``, each
        ``field: message``, and all of them in ``errors`` (so a rule checked by a service after
        parsing answers exactly as one checked by the parser)."""
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems[:5])
        return cls(detail, errors=problems)


class NotFound(AppError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class InvalidTransition(Conflict):
    slug = "invalid-transition"
    title = "This change is not allowed in the current state"


class VersionConflict(Conflict):
    slug = "version-conflict"
    title = "The object was changed by someone else"


class PreconditionFailed(AppError):
    status = 412
    slug = "precondition-failed"
    title = "The If-Match version is stale"


class Unauthenticated(AppError):
    status = 401
    slug = "unauthenticated"
    title = "A valid API key is required"


class Forbidden(AppError):
    status = 403
    slug = "forbidden"
    title = "This role may not do this"


class RequestTimeout(AppError):
    status = 408
    slug = "request-timeout"
    title = "The request did not arrive in time"


class PayloadTooLarge(AppError):
    status = 413
    slug = "payload-too-large"
    title = "The request body is too large"


class UnsupportedMediaType(AppError):
    status = 415
    slug = "unsupported-media-type"
    title = "The body's media type is not accepted here"


class ServiceUnavailable(AppError):
    status = 503
    slug = "service-unavailable"
    title = "The service cannot answer right now"


class Problem(BaseModel):
    """The problem+json body, as documented in OpenAPI."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "validation-error"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = Field(
        default=None, examples=[[{"field": "quantity", "message": "must be positive"}]]
    )


_DESCRIPTIONS = {
    400: "Malformed request",
    401: "No valid API key",
    403: "The key's role may not call this route",
    404: "Not found",
    408: "The body did not arrive within the read deadline",
    409: "Conflict with the current state or a duplicate",
    412: "Stale If-Match version",
    413: "The body is larger than this route accepts",
    422: "Invalid input, with the offending fields",
    429: "Rate limited",
    503: "Temporarily unavailable",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for routes: every listed status answers problem+json."""
    codes = sorted({401, 403, 422, *statuses})
    return {
        code: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(code, "Problem"),
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for code in codes
    }
