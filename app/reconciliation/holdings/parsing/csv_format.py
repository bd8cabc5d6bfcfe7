"""Holdings as CSV: a header row, then one row per holding. Pure: no database.

Columns (header names in any case; other columns are ignored):
- ``isin`` and ``quantity`` (a decimal with a point, negative for a short position): required;
- ``quantity_type``: ``UNIT`` (the default) or ``FAMT``; ``available``: optional decimal;
- ``account``, ``statement_date`` (YYYY-MM-DD), ``statement_id``: optional columns; where a
  column is missing or empty the request's ``account``, ``date`` and ``statement_id`` are used,
  and where both are given they must agree. The statement id defaults to the statement date.
Rows group into statements by account, statement id and date. Delimiter ``,``, ``;`` or tab,
whichever the header uses."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from app.reconciliation.holdings.parsing.model import (
    HoldingsParseError,
    ParsedHolding,
    ParsedHoldingsStatement,
    QuantityType,
)
from app.reconciliation.holdings.parsing.values import checked_decimal, checked_isin

_REQUIRED = ("isin", "quantity")
_DELIMITERS = (",", ";", "\t")
_V = TypeVar("_V", str, date)


@dataclass(frozen=True, slots=True)
class StatementDefaults:
    """What the request says of a file whose rows do not: the account, date and statement id."""

    account: str | None = None
    statement_date: date | None = None
    statement_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    values: dict[str, str]

    @property
    def at(self) -> str:
        return f"line {self.line}"

    def text(self, name: str) -> str | None:
        return self.values.get(name, "").strip() or None


def parse_csv(text: str, defaults: StatementDefaults) -> list[ParsedHoldingsStatement]:
    """Every statement of the file, in the order their first rows come."""
    grouped: dict[tuple[str, str, date], list[ParsedHolding]] = {}
    for row in _rows(text):
        key = _statement_key(row, defaults)
        grouped.setdefault(key, []).append(_holding(row))
    if not grouped:
        grouped[_statement_key(_Row(2, {}), defaults)] = []  # an empty statement: nothing held
    return [
        ParsedHoldingsStatement(
            safekeeping_account=account,
            statement_id=statement_id,
            statement_date=statement_date,
            holdings=tuple(holdings),
        )
        for (account, statement_id, statement_date), holdings in grouped.items()
    ]


def _rows(text: str) -> Iterator[_Row]:
    text = text.lstrip("\ufeff")
    header_line = text.split("\n", 1)[0]
    if not header_line.strip():
        raise HoldingsParseError("no header row", location="line 1")
    delimiter = max(_DELIMITERS, key=header_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise HoldingsParseError(f"no column {', '.join(missing)} in the header", location="line 1")
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            raise HoldingsParseError(
                "more fields than the header names", location=f"line {reader.line_num}"
            )
        yield _Row(reader.line_num, dict(zip(header, cells, strict=False)))


def _statement_key(row: _Row, defaults: StatementDefaults) -> tuple[str, str, date]:
    account = _agreed(row, "account", row.text("account"), defaults.account, "account")
    written_date = row.text("statement_date")
    day = _agreed(
        row,
        "statement_date",
        _date(written_date, row) if written_date else None,
        defaults.statement_date,
        "date",
    )
    if account is None or day is None:
        missing = ("account", "account") if account is None else ("statement_date", "date")
        column, parameter = missing
        raise HoldingsParseError(
            f"no {column}: give the column or the request's {parameter}", location=row.at
        )
    statement_id = _agreed(
        row, "statement_id", row.text("statement_id"), defaults.statement_id, "statement_id"
    )
    return account, statement_id or day.isoformat(), day


def _agreed(
    row: _Row, column: str, written: _V | None, given: _V | None, parameter: str
) -> _V | None:
    """The row's value, else the request's; where both are given they must agree."""
    if written is not None and given is not None and written != given:
        raise HoldingsParseError(
            f"{column} '{written}' differs from the request's {parameter} '{given}'",
            location=row.at,
        )
    return written if written is not None else given


def _date(text: str, row: _Row) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HoldingsParseError(
            f"statement_date '{text}' is not a date (YYYY-MM-DD)", location=row.at
        ) from None


def _holding(row: _Row) -> ParsedHolding:
    quantity = checked_decimal(row.text("quantity") or "", what="quantity", location=row.at)
    written_type = (row.text("quantity_type") or QuantityType.UNIT.value).upper()
    if written_type not in QuantityType.__members__:
        raise HoldingsParseError(
            f"quantity_type '{written_type}' is not UNIT or FAMT", location=row.at
        )
    available = row.text("available")
    return ParsedHolding(
        isin=checked_isin(row.text("isin") or "", location=row.at),
        quantity=quantity,
        quantity_type=QuantityType(written_type),
        available=checked_decimal(available, what="available", location=row.at)
        if available is not None
        else None,
    )
