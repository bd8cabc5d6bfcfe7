"""API models of statement mappings: how one bank's CSV export reads, with every rule a mapping
must keep checked here (by the service, once parsed: ``check_reads``), each problem named at its
field."""

import codecs
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.core.errors import FieldProblem, ValidationFailed
from app.core.handlers import field_name
from app.core.identifiers import Currency
from app.core.text import Printable
from app.reconciliation.statements.parsing.csv_mapped import FIELDS, CsvMapping

MappingName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Header = Annotated[str, StringConstraints(min_length=1, max_length=200), Printable]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=40), Printable]
# csv_mapped compares the file's indicator upper-cased.
CreditValue = Annotated[ShortText, AfterValidator(str.upper)]
Description = Annotated[str, StringConstraints(max_length=200), Printable]

_A_DAY = date(2026, 11, 25)  # day 25 > 12: a format that swaps day and month does not round-trip

MAPPING_EXAMPLE: dict[str, Any] = {
    "name": "commerzbank-de",
    "description": "Commerzbank CSV export (semicolons, comma decimals)",
    "columns": {
        "account": "Konto",
        "statement_id": "Auszug",
        "booking_date": "Buchungstag",
        "value_date": "Valuta",
        "amount": "Betrag",
        "credit_debit": "S/H",
        "remittance_information": "Verwendungszweck",
        "counterparty_name": "Name",
        "end_to_end_id": "E2E",
        "opening_balance": "Anfangssaldo",
        "closing_balance": "Endsaldo",
    },
    "delimiter": ";",
    "decimal_separator": ",",
    "thousands_separator": ".",
    "date_format": "%d.%m.%Y",
    "currency": "EUR",
    "encoding": "latin-1",
    "credit_values": ["H"],
}


def _problem(location: tuple[str, ...], message: str, _value: Any) -> FieldProblem:
    return FieldProblem(field_name(location), message)


class StatementMappingFields(BaseModel):
    description: Description | None = None
    columns: dict[str, Header] = Field(
        description="Each field the file has, named by its column header. Fields: "
        + ", ".join(FIELDS)
        + ". `account` and `booking_date` are required, and `amount` or both `credit` and "
        "`debit`; `currency` unless the mapping gives one.",
        max_length=len(FIELDS),
    )
    delimiter: Annotated[str, StringConstraints(min_length=1, max_length=1)] = ","
    decimal_separator: Literal[".", ","] = "."
    thousands_separator: Literal["", ".", ",", " ", "'"] = ""
    date_format: ShortText = Field(
        default="%Y-%m-%d", description="A `strptime` format of the date columns."
    )
    currency: Currency | None = Field(
        default=None, description="The currency when the file has no currency column."
    )
    encoding: ShortText = Field(
        default="utf-8", description="The file's text encoding: one Python's codecs know."
    )
    credit_values: list[CreditValue] = Field(
        default_factory=lambda: ["C", "CR", "CRDT"],
        min_length=1,
        max_length=20,
        description="With a `credit_debit` column: the values that mean a credit (any other "
        "value is a debit), compared without regard to case.",
    )

    def _problems(self) -> list[FieldProblem]:
        problems = [
            _problem(("columns", name), f"is not a field; fields are: {', '.join(FIELDS)}", name)
            for name in self.columns
            if name not in FIELDS
        ]
        if self.delimiter in '\r\n"' or not self.delimiter.isprintable():
            problems.append(_problem(("delimiter",), "cannot separate fields", self.delimiter))
        if self.thousands_separator == self.decimal_separator:
            problems.append(
                _problem(
                    ("thousands_separator",),
                    "must differ from the decimal separator",
                    self.thousands_separator,
                )
            )
        if not _round_trips(self.date_format):
            problems.append(
                _problem(
                    ("date_format",),
                    "is not a strptime format of a whole date (day, month and year)",
                    self.date_format,
                )
            )
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            problems.append(_problem(("encoding",), "is not a known text encoding", self.encoding))
        return problems

    def check_reads(self) -> None:
        """A mapping that reads a file: the rules the schema cannot state (field names, a
        delimiter that separates, separators that differ, a strptime format of a whole date, a
        known encoding, the columns a statement needs), checked by the service once the body is
        parsed; a break is the 422 the request parser would give."""
        problems = self._problems()
        if not problems:
            try:
                self.csv_mapping()
            except ValueError as error:
                problems.append(_problem(("columns",), str(error), self.columns))
        if problems:
            raise ValidationFailed.of_fields(problems)

    def csv_mapping(self) -> CsvMapping:
        return CsvMapping(
            columns=dict(self.columns),
            delimiter=self.delimiter,
            decimal_separator=self.decimal_separator,
            thousands_separator=self.thousands_separator,
            date_format=self.date_format,
            currency=self.currency,
            encoding=self.encoding,
            credit_values=frozenset(self.credit_values),
        )


def _round_trips(date_format: str) -> bool:
    try:
        return datetime.strptime(_A_DAY.strftime(date_format), date_format).date() == _A_DAY  # noqa: DTZ007
    except (ValueError, re.error):  # re.error: a directive given twice (strptime's pattern)
        return False


class StatementMappingIn(StatementMappingFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [MAPPING_EXAMPLE]})

    name: MappingName = Field(description="What `POST /statements?mapping=` names it by.")


MAPPING_REPLACE_EXAMPLE = {key: value for key, value in MAPPING_EXAMPLE.items() if key != "name"}


class StatementMappingReplace(StatementMappingFields):
    """Every field of the mapping, replacing the stored ones (the name stays)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [MAPPING_REPLACE_EXAMPLE]}
    )


class StatementMappingOut(StatementMappingFields):
    model_config = ConfigDict(from_attributes=True)

    name: str
    version: int
    created_at: datetime
    updated_at: datetime
