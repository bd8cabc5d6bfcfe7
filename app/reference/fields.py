"""What every reference schema shares: field types, cross-field rule errors, settlement cycles."""

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.core.errors import FieldProblem, ValidationFailed
from app.core.moments import IsoDate
from app.core.text import PrintableNonBlank

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_.\-]{0,39}$")]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, strip_whitespace=True),
    PrintableNonBlank,
]
AccountText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40, strip_whitespace=True),
    PrintableNonBlank,
]

STRICT = ConfigDict(extra="forbid")
FROM_ORM = ConfigDict(from_attributes=True)


class TermsError(ValueError):
    """A cross-field rule broken; ``fields`` are the ones to name in the problem's ``errors``."""

    def __init__(self, message: str, *fields: str) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


def check_terms(check: Callable[[dict[str, Any]], None], values: dict[str, Any]) -> None:
    """Apply a cross-field rule in a service, after parsing: the schema cannot state it, so the
    request parser does not check it; a break is the same 422 the parser would give."""
    try:
        check(values)
    except TermsError as error:
        raise ValidationFailed.of_fields(
            [FieldProblem(name, error.message) for name in error.fields]
        ) from None


def field_errors(model: BaseModel, error: TermsError) -> ValidationError:
    """A ValidationError located at the offending fields, not at the whole body."""
    return ValidationError.from_exception_data(
        type(model).__name__,
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", "{reason}", {"reason": error.message}),
                loc=(name,),
                input=getattr(model, name, None),
            )
            for name in error.fields
        ],
    )


class CycleStep(BaseModel):
    """From ``from`` on (by trade date), settle ``days`` business days after the trade."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    valid_from: IsoDate = Field(alias="from", examples=["2024-05-28"])
    days: StrictInt = Field(ge=0, le=10, examples=[1])


def _check_cycle(steps: list[CycleStep] | None) -> list[CycleStep] | None:
    if steps is None:
        return None
    if not steps:
        raise ValueError("needs at least one step")
    starts = [step.valid_from for step in steps]
    if starts != sorted(set(starts)):
        raise ValueError("steps must be in ascending 'from' order, each date once")
    return steps


Cycle = Annotated[list[CycleStep], AfterValidator(_check_cycle)]
