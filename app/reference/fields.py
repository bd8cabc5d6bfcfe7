"""What every reference schema shares: field types, cross-field rule errors, settlement cycles."""

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.core.errors import FieldProblem, ValidationFailed
from app.core.json_types import JsonInt
from app.core.moments import IsoDate
from app.core.text import PrintableNonBlank, at_most

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_.\-]{0,39}$")]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, strip_whitespace=True),
    at_most(200),
    PrintableNonBlank,
]
AccountText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40, strip_whitespace=True),
    at_most(40),
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


def check_terms(values: dict[str, Any], *checks: Callable[[dict[str, Any]], None]) -> None:
    """Apply rules the schema cannot state (cross-field, order, tables) in a service, once the
    body is parsed, so the request parser refuses only what the schema says; the problems of
    every check come in one 422, the one the parser would give."""
    problems = []
    for check in checks:
        try:
            check(values)
        except TermsError as error:
            problems += [FieldProblem(name, error.message) for name in error.fields]
    if problems:
        raise ValidationFailed.of_fields(problems)


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
    days: JsonInt = Field(ge=0, le=10, examples=[1])


def check_cycle(values: dict[str, Any]) -> None:
    """A cycle's rules the schema cannot state, on the storage form (``records.storage``):
    checked by the service once the body is parsed."""
    steps = values.get("settlement_cycle_days")
    if steps is None:
        return
    if not steps:
        raise TermsError("needs at least one step", "settlement_cycle_days")
    starts = [step["from"] for step in steps]  # ISO dates: text order is date order
    if starts != sorted(set(starts)):
        raise TermsError(
            "steps must be in ascending 'from' order, each date once", "settlement_cycle_days"
        )


Cycle = Annotated[
    list[CycleStep],
    Field(
        description="At least one step, in ascending `from` order, each date once (checked "
        "once parsed: 422 on this field)."
    ),
]
