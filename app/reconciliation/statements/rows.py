"""A parsed statement as the rows that store it: the statement with its balances, sequence and
integrity, and its entries as plain rows for one INSERT."""

from datetime import datetime
from typing import Any

from app.core.ids import new_id
from app.reconciliation.statements.identity import sequence_key, statement_date
from app.reconciliation.statements.integrity import IntegrityBreak, sequence_of
from app.reconciliation.statements.models import BankStatement, StatementFile
from app.reconciliation.statements.parsing.model import Balance, ParsedStatement

OK = "ok"
BREAKS = "breaks"
# The references that have a column of their own (the matching rules look them up).
REFERENCE_COLUMNS = ("end_to_end_id", "account_servicer_reference", "instruction_id", "uetr")


def break_json(found: IntegrityBreak) -> dict[str, Any]:
    return {
        "kind": found.code.value,
        "expected": found.expected,
        "found": found.found,
        "message": found.detail,
    }


def _balance(balance: Balance | None) -> tuple[Any, Any]:
    return (balance.amount, balance.date) if balance is not None else (None, None)


def statement_row(
    statement: ParsedStatement,
    *,
    file: StatementFile,
    account: str,
    content: str,
    breaks: list[IntegrityBreak],
    now: datetime,
) -> BankStatement:
    row = BankStatement(
        id=new_id("stm"),
        file_id=file.id,
        account=account,
        account_identifier=statement.account,
        kind=statement.kind.value,
        format=file.format,
        statement_id=statement.statement_id,
        electronic_sequence=statement.electronic_sequence,
        legal_sequence=statement.legal_sequence,
        page=statement.page,
        sequence=sequence_of(statement),
        sequence_key=sequence_key(statement),
        currency=statement.currency,
        statement_date=statement_date(statement),
        created_at=statement.created_at,
        entry_count=len(statement.entries),
        content_hash=content,
        integrity=BREAKS if breaks else OK,
        integrity_breaks=[break_json(found) for found in breaks],
        received_at=now,
        received_by=file.received_by,
    )
    row.opening_booked_amount, row.opening_booked_date = _balance(statement.opening_booked)
    row.closing_booked_amount, row.closing_booked_date = _balance(statement.closing_booked)
    row.opening_available_amount, row.opening_available_date = _balance(statement.opening_available)
    row.closing_available_amount, row.closing_available_date = _balance(statement.closing_available)
    return row


def entry_rows(row: BankStatement, statement: ParsedStatement) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id("ste"),
            "bank_statement_id": row.id,
            "line": line,
            "account": row.account,
            "entry_date": entry.value_date or entry.booking_date,
            "amount": entry.amount,
            "credit_debit": entry.credit_debit.value,
            "booking_date": entry.booking_date,
            "value_date": entry.value_date,
            "status": entry.status.value,
            "bank_transaction_code": entry.bank_transaction_code,
            **{name: entry.references.get(name) for name in REFERENCE_COLUMNS},
            "references": dict(entry.references),
            "remittance_information": entry.remittance_information,
            "counterparty_name": entry.counterparty_name,
            "counterparty_account": entry.counterparty_account,
            "reversal": entry.reversal,
        }
        for line, entry in enumerate(statement.entries, start=1)
    ]
