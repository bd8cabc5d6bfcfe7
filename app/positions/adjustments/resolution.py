"""What operations typed, turned into ledger lines: our account codes and ledger account codes
resolved, every line checked against the reference data, the opening offsets added."""

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import FieldProblem, ValidationFailed
from app.core.identifiers import currency_minor_units, validate_currency
from app.core.money import decimal_places, format_decimal, is_multiple_of
from app.positions.adjustments.schemas import AdjustmentIn, AdjustmentKind, AdjustmentLineIn
from app.positions.journal.entries import Line, imbalances
from app.positions.ledger_accounts import codes as accounts
from app.positions.ledger_accounts import service as ledger_accounts
from app.positions.ledger_accounts.codes import LedgerKind
from app.reference.accounts.service import accounts_by_code
from app.reference.service import load_reference


class _Resolver:
    """Turns what operations typed into ledger account codes, and says what is wrong."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    async def load(self, session: AsyncSession, data: AdjustmentIn) -> None:
        refs = [line.account for line in data.lines]
        references = [accounts.parse(ref) for ref in refs]
        self.ledger = await ledger_accounts.existing_codes(session, codes=refs)
        named = {p.reference for p in references if p is not None and p.reference}
        self.accounts = await accounts_by_code(session, codes=[*refs, *named])
        self.reference = await load_reference(
            session,
            isins=[line.asset for line in data.lines if accounts.is_security(line.asset)],
            mics=[],
            books=named,
            leis=named,
        )

    def problem(self, field: str, message: str) -> None:
        self.problems.append(FieldProblem(field, message))

    def ledger_account(self, ref: str, field: str) -> tuple[str, LedgerKind] | None:
        if ref in self.ledger:
            parsed = accounts.parse(ref)
            return (ref, parsed.kind) if parsed else None
        parsed = accounts.parse(ref)
        if parsed is None:
            account = self.accounts.get(ref)
            if account is None:
                self.problem(field, f"'{ref}' is neither one of our accounts nor a ledger account")
                return None
            kind = LedgerKind.CASH if account.kind == "cash" else LedgerKind.SECURITIES
            code = accounts.cash(ref) if kind is LedgerKind.CASH else accounts.securities(ref)
            return code, kind
        known = {
            LedgerKind.BOOK: parsed.reference in self.reference.books,
            LedgerKind.COUNTERPARTY: parsed.reference in self.reference.counterparties,
            LedgerKind.SECURITIES: self._account_kind(parsed.reference) == "securities",
            LedgerKind.CASH: self._account_kind(parsed.reference) == "cash",
        }.get(parsed.kind, True)
        if not known:
            self.problem(field, f"'{ref}' names no {parsed.kind} of ours")
            return None
        return ref, parsed.kind

    def _account_kind(self, code: str | None) -> str | None:
        account = self.accounts.get(code or "")
        return account.kind if account else None

    def asset(self, asset: str, kind: LedgerKind, code: str, field: str) -> str | None:
        if accounts.is_security(asset):
            if asset not in self.reference.instruments:
                self.problem(field, f"'{asset}' is not an instrument we know")
                return None
            if kind is LedgerKind.CASH:
                self.problem(field, f"{code} holds cash, not securities")
                return None
            return asset
        try:
            validate_currency(asset)
        except ValueError as error:
            self.problem(field, str(error))
            return None
        if kind is LedgerKind.SECURITIES:
            self.problem(field, f"{code} holds securities, not cash")
            return None
        account = self.accounts.get(code.partition(":")[2])
        if (
            kind is LedgerKind.CASH
            and account is not None
            and account.currency not in (None, asset)
        ):
            self.problem(field, f"{code} holds {account.currency}, not {asset}")
            return None
        return asset

    def amount(self, line: AdjustmentLineIn, asset: str, field: str) -> None:
        if line.amount == 0:
            self.problem(f"{field}.amount", "must not be zero")
        elif accounts.is_security(asset) and not is_multiple_of(
            abs(line.amount), self.reference.instruments[asset].settlement_unit
        ):
            unit = format_decimal(self.reference.instruments[asset].settlement_unit)
            self.problem(
                f"{field}.amount", f"is not a multiple of {asset}'s settlement unit {unit}"
            )
        elif not accounts.is_security(asset) and decimal_places(line.amount) > currency_minor_units(
            asset
        ):
            self.problem(f"{field}.amount", f"has more decimals than {asset} allows")

    def cost(self, line: AdjustmentLineIn, asset: str, book_position: bool, field: str) -> None:
        cost = line.cost
        if book_position and cost is None:
            self.problem(f"{field}.cost", "a book's securities line needs its cost basis")
        elif not book_position and cost is not None:
            self.problem(f"{field}.cost", "only a book's securities line carries a cost")
        elif cost is not None:
            currency = self.reference.instruments[asset].currency
            if decimal_places(cost) > currency_minor_units(currency):
                self.problem(f"{field}.cost", f"has more decimals than {currency} allows")
            elif cost != 0 and (cost > 0) != (line.amount < 0):
                # A long (a credit on the book) costs something; a short brought something in.
                self.problem(
                    f"{field}.cost", "is positive for a long (a credit) and negative for a short"
                )

    def line(self, index: int, line: AdjustmentLineIn) -> Line | None:
        """The ledger line of one typed line, or None when its account or asset is unusable."""
        field = f"lines[{index}]"
        resolved = self.ledger_account(line.account, f"{field}.account")
        if resolved is None:
            return None
        code, kind = resolved
        asset = self.asset(line.asset, kind, code, f"{field}.asset")
        if asset is None:
            return None
        self.amount(line, asset, field)
        book_position = kind is LedgerKind.BOOK and accounts.is_security(asset)
        self.cost(line, asset, book_position, field)
        return Line(code, asset, line.amount, line.cost, Decimal(0) if book_position else None)


def _balanced(kind: AdjustmentKind, lines: list[Line]) -> list[Line]:
    """An opening adjustment's lines offset per asset against opening equity; any other must
    balance per asset itself."""
    off = imbalances(lines)
    if kind is AdjustmentKind.OPENING:
        return lines + [
            Line(accounts.OPENING_EQUITY.code, asset, -amount)
            for asset, amount in sorted(off.items())
        ]
    if off:
        detail = ", ".join(
            f"{asset} by {format_decimal(amount)}" for asset, amount in sorted(off.items())
        )
        raise ValidationFailed(
            f"A {kind} adjustment must balance per asset; it is off {detail}.",
            errors=[
                FieldProblem("lines", f"{asset} does not balance (off by {format_decimal(amount)})")
                for asset, amount in sorted(off.items())
            ],
        )
    return lines


async def resolve(session: AsyncSession, data: AdjustmentIn, today: date) -> list[Line]:
    """The lines approval will post, or ValidationFailed naming every field at fault."""
    resolver = _Resolver()
    await resolver.load(session, data)
    lines: list[Line] = []
    for index, typed in enumerate(data.lines):
        line = resolver.line(index, typed)
        if line is not None:
            lines.append(line)
    if data.value_date is not None and data.value_date > today:
        resolver.problem("value_date", f"is in the future (today is {today})")
    if resolver.problems:
        raise ValidationFailed(
            "; ".join(f"{p.field}: {p.message}" for p in resolver.problems[:5]),
            errors=resolver.problems,
        )
    return _balanced(data.kind, lines)
