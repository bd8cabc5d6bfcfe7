"""What makes two statements the same one, and whether they say the same. Pure: no database.

A statement is identified by our account, its kind, the bank's statement id and its sequence
key (electronic sequence, legal sequence and page, each possibly absent: the key is never
NULL, so statements without any sequence are kept apart by their id alone). What it says is its
content hash: SHA-256 over a canonical encoding of the parsed statement.
"""

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.money import format_decimal
from app.reconciliation.statements.parsing.model import Balance, ParsedEntry, ParsedStatement

# Changing the encoding changes every hash: a new version, so stored hashes can be told apart.
CONTENT_ENCODING = "statement-content/1"
_ABSENT = "-"


def normalised_account(identifier: str) -> str:
    """An IBAN or account number as compared: without spaces, upper case."""
    return "".join(identifier.split()).upper()


def sequence_key(statement: ParsedStatement) -> str:
    """``electronic/legal/page``, ``-`` for each one absent: ``71/12/-``, ``-/64/1``, ``-/-/-``."""
    parts = (statement.electronic_sequence, statement.legal_sequence, statement.page)
    return "/".join(_ABSENT if part is None else str(part) for part in parts)


def statement_date(statement: ParsedStatement) -> date | None:
    """The day a statement is about: its closing booked balance's date, else its latest entry
    date, else the day it was created."""
    if statement.closing_booked is not None:
        return statement.closing_booked.date
    days = [d for e in statement.entries for d in (e.booking_date, e.value_date) if d is not None]
    if days:
        return max(days)
    return statement.created_at.date() if statement.created_at is not None else None


def _amount(value: Decimal) -> str:
    # 1.50 and 1.5 are the same amount: a statement re-sent with other trailing zeros (or in
    # another format) says the same thing.
    return format_decimal(value.normalize()) if value else "0"


def _balance(balance: Balance | None) -> dict[str, str] | None:
    if balance is None:
        return None
    return {"amount": _amount(balance.amount), "date": balance.date.isoformat()}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _entry(entry: ParsedEntry) -> dict[str, Any]:
    return {
        "amount": _amount(entry.amount),
        "credit_debit": entry.credit_debit.value,
        "booking_date": _day(entry.booking_date),
        "value_date": _day(entry.value_date),
        "status": entry.status.value,
        "bank_transaction_code": entry.bank_transaction_code,
        "references": dict(sorted(entry.references.items())),
        "remittance_information": entry.remittance_information,
        "counterparty_name": entry.counterparty_name,
        "counterparty_account": entry.counterparty_account,
        "reversal": entry.reversal,
    }


def canonical_content(statement: ParsedStatement) -> bytes:
    """The statement as compact JSON with sorted keys, amounts normalised, dates ISO, entries in
    their order. The creation time is left out: a copy the bank generates again later is the
    same statement."""
    content = {
        "encoding": CONTENT_ENCODING,
        "kind": statement.kind.value,
        "account": normalised_account(statement.account),
        "currency": statement.currency,
        "statement_id": statement.statement_id,
        "sequence": sequence_key(statement),
        "opening_booked": _balance(statement.opening_booked),
        "closing_booked": _balance(statement.closing_booked),
        "opening_available": _balance(statement.opening_available),
        "closing_available": _balance(statement.closing_available),
        "entries": [_entry(entry) for entry in statement.entries],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def content_hash(statement: ParsedStatement) -> str:
    return hashlib.sha256(canonical_content(statement)).hexdigest()
