"""The bank's end-of-day camt.053 for our EUR cash account, written from what the book settled
that day, with the deliberate differences a demo needs so reconciliation has breaks to show:

- every day the bank charges an account fee the book does not know (missing in the book);
- on the second day the bank has not yet booked one of our payments: it appears on the next
  day's statement, a day late (a value-date difference), or never, on the week's last day.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from xml.sax.saxutils import escape

EUR_IBAN = "DE89370400440532013000"
BANK_FEE = Decimal("-25.00")


@dataclass(frozen=True)
class Line:
    amount: Decimal  # signed: credit (money in) positive
    value_date: date
    reference: str
    text: str


@dataclass
class BankAccount:
    """What the bank's ledger holds: its balance and the payments it has not booked yet."""

    balance: Decimal
    sequence: int = 0
    delayed: list[Line] = field(default_factory=list)


def _amount(value: Decimal) -> tuple[str, str]:
    return f"{abs(value):.2f}", "CRDT" if value >= 0 else "DBIT"


def _balance(code: str, value: Decimal, day: date) -> str:
    amount, sign = _amount(value)
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{sign}</CdtDbtInd>'
        f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
    )


def _entry(line: Line, booked: date, number: int) -> str:
    amount, sign = _amount(line.amount)
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{sign}</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>{booked.isoformat()}</Dt></BookgDt>"
        f"<ValDt><Dt>{line.value_date.isoformat()}</Dt></ValDt>"
        f"<AcctSvcrRef>COBA-{booked:%Y%m%d}-{number:04d}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>{escape(line.reference)}</EndToEndId></Refs>"
        f"<RmtInf><Ustrd>{escape(line.text)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def day_lines(book: list[Line], account: BankAccount, day: date, *, delay_one: bool) -> list[Line]:
    """The lines the bank books on ``day``: yesterday's delayed payments (value today), the
    book's movements (less one, delayed, when ``delay_one``) and the bank's own fee."""
    lines = [Line(x.amount, day, x.reference, x.text) for x in account.delayed]
    account.delayed = []
    movements = list(book)
    if delay_one and movements:
        account.delayed.append(movements.pop(0))
    lines += movements
    lines.append(Line(BANK_FEE, day, f"FEE-{day:%Y%m%d}", "Account maintenance fee"))
    return lines


def camt053(account: BankAccount, day: date, lines: list[Line]) -> bytes:
    """One statement: opening balance (the bank's last closing), the lines, the new closing;
    the electronic sequence one on from the last."""
    opening = account.balance
    account.balance = opening + sum((x.amount for x in lines), Decimal(0))
    account.sequence += 1
    created = datetime.combine(day, time(22, 0), tzinfo=UTC).isoformat()
    entries = "".join(_entry(x, day, i) for i, x in enumerate(lines, 1))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>DEMO-{day:%Y%m%d}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>"
        f"<Stmt><Id>DEMO-EUR-{day:%Y%m%d}</Id><ElctrncSeqNb>{account.sequence}</ElctrncSeqNb>"
        f"<CreDtTm>{created}</CreDtTm>"
        f"<Acct><Id><IBAN>{EUR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{_balance('OPBD', opening, day)}{_balance('CLBD', account.balance, day)}"
        f"{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()
