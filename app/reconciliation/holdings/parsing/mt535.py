"""SWIFT MT535 statements of holdings into ParsedHoldingsStatement. Sequence A (GENL) gives the
statement: reference :20C::SEME//, date :98A::STAT// or :98C::STAT//, page :28E:, basis
:22F::STBA//, account :97A::SAFE// (or :97B:); each sub-safekeeping sequence (SUBSAFE) with an
account of its own is a statement of its own, one without adds to the GENL account's. Each FIN
sequence is a holding: :35B:ISIN, :93B::AGGR// and :93B::AVAI//. Pure: no database."""

import re
from datetime import date
from decimal import Decimal

from app.core.iso15022 import Field, Iso15022Error, Sequence, messages
from app.reconciliation.holdings.parsing.model import (
    HoldingsParseError,
    ParsedHolding,
    ParsedHoldingsStatement,
    QuantityType,
    StatementBasis,
)
from app.reconciliation.holdings.parsing.values import checked_isin

_PAGE = re.compile(r"^(\d{1,5})/(ONLY|MORE|LAST)$")
_REFERENCE = re.compile(r"^[^\n]{1,16}$")
_DATE = re.compile(r"^(\d{8})(\d{6})?$")  # 98A: YYYYMMDD; 98C: YYYYMMDDHHMMSS
# 93B: quantity type code, then an optional N (negative) and a SWIFT decimal (comma mark)
_QUANTITY = re.compile(r"^([A-Z]{4})/(N?)(\d+,\d*)$")
_QUANTITY_TYPES = {"UNIT": QuantityType.UNIT, "FAMT": QuantityType.FAMT}
_ISIN_LINE = re.compile(r"^ISIN\s+(\S*)")
_BASES = {
    "SETT": StatementBasis.SETTLED,
    "TRAD": StatementBasis.TRADED,
    "CONT": StatementBasis.CONTRACTUAL,
}


def parse_mt535(text: str) -> list[ParsedHoldingsStatement]:
    """Every statement of every MT535 in the file, in file order."""
    try:
        return [
            statement
            for sequences in messages(text, message_type="535")
            for statement in _statements(sequences)
        ]
    except Iso15022Error as error:
        raise HoldingsParseError(error.message, location=error.location) from None


def _statements(sequences: list[Sequence]) -> list[ParsedHoldingsStatement]:
    if not sequences or sequences[0].name != "GENL":
        where = sequences[0].where if sequences else "line 1"
        raise HoldingsParseError("an MT535 starts with :16R:GENL", location=where)
    if len([s for s in sequences if s.name == "GENL"]) > 1:
        raise HoldingsParseError(
            "two GENL sequences in one message", location=sequences[0].named("GENL")[1].where
        )
    general = sequences[0]
    main_account = _account(general)
    if main_account is None:
        raise HoldingsParseError(
            "no :97A::SAFE// safekeeping account in GENL", location=general.where
        )
    held: dict[str, list[ParsedHolding]] = {main_account: []}
    sub_accounts = False
    for sequence in sequences[1:]:
        account = _account(sequence) if sequence.name == "SUBSAFE" else None
        sub_accounts = sub_accounts or account is not None
        fins = sequence.named("FIN") if sequence.name == "SUBSAFE" else [sequence]
        holdings = [_holding(fin) for fin in fins if fin.name == "FIN"]
        held.setdefault(account or main_account, []).extend(holdings)
    if sub_accounts and not held[main_account]:
        del held[main_account]  # everything is held in the sub-accounts
    header = _header(general)
    return [
        ParsedHoldingsStatement(
            safekeeping_account=account,
            statement_id=header.statement_id,
            statement_date=header.statement_date,
            basis=header.basis,
            page=header.page,
            last_page=header.last_page,
            holdings=tuple(holdings),
        )
        for account, holdings in held.items()
    ]


def _header(general: Sequence) -> ParsedHoldingsStatement:
    """The GENL sequence's statement (without account and holdings)."""
    references = general.qualified("20C", "SEME")
    if not references:
        raise HoldingsParseError("no :20C::SEME// reference in GENL", location=general.where)
    reference_field, reference = references[0]
    if not _REFERENCE.match(reference):
        raise HoldingsParseError(
            f"'{reference}' is not a reference of 1 to 16 characters",
            location=reference_field.where,
        )
    page, last_page = _page(general)
    return ParsedHoldingsStatement(
        safekeeping_account="",
        statement_id=reference,
        statement_date=_statement_date(general),
        basis=_basis(general),
        page=page,
        last_page=last_page,
    )


def _page(general: Sequence) -> tuple[int | None, bool | None]:
    pages = [item for item in general.fields if item.tag == "28E"]
    if not pages:
        return None, None
    match = _PAGE.match(pages[0].value.strip())
    if match is None or int(match[1]) < 1:
        raise HoldingsParseError(
            f":28E: '{pages[0].value}' is not 'page/ONLY|MORE|LAST'", location=pages[0].where
        )
    return int(match[1]), match[2] in ("ONLY", "LAST")


def _statement_date(general: Sequence) -> date:
    found = general.qualified("98A", "STAT") + general.qualified("98C", "STAT")
    if not found:
        raise HoldingsParseError("no :98A::STAT// statement date in GENL", location=general.where)
    item, value = found[0]
    match = _DATE.match(value.strip())
    if match is None or (item.tag == "98A") != (match[2] is None):
        raise HoldingsParseError(f":{item.tag}: '{value}' is not a date", location=item.where)
    try:
        return date(int(match[1][:4]), int(match[1][4:6]), int(match[1][6:]))
    except ValueError:
        raise HoldingsParseError(f"'{match[1]}' is not a date", location=item.where) from None


def _basis(general: Sequence) -> StatementBasis | None:
    found = general.qualified("22F", "STBA")
    if not found:
        return None
    item, code = found[0]
    if code.strip() not in _BASES:
        raise HoldingsParseError(f"unknown statement basis '{code}'", location=item.where)
    return _BASES[code.strip()]


def _account(sequence: Sequence) -> str | None:
    """:97A::SAFE//account, or :97B::SAFE/issuer/type/account; None when there is none."""
    found = sequence.qualified("97", "SAFE")
    if not found:
        return None
    item, value = found[0]
    if item.tag == "97B":
        value = value.split("/", 1)[1] if "/" in value else ""
    elif item.tag != "97A":
        raise HoldingsParseError(
            f":{item.tag}: does not name a safekeeping account number", location=item.where
        )
    if not value.strip() or "\n" in value:
        raise HoldingsParseError(f"'{value}' is not an account", location=item.where)
    return value.strip()


def _holding(fin: Sequence) -> ParsedHolding:
    securities = [item for item in fin.fields if item.tag == "35B"]
    if not securities:
        raise HoldingsParseError("no :35B: security in FIN", location=fin.where)
    match = _ISIN_LINE.match(securities[0].value)
    if match is None:
        raise HoldingsParseError("no ISIN in :35B:", location=securities[0].where)
    aggregate = _quantities(fin, "AGGR")
    if len(aggregate) != 1:
        raise HoldingsParseError(
            f"{len(aggregate)} :93B::AGGR// balances in FIN, not one",
            location=aggregate[1][0].where if aggregate else fin.where,
        )
    available = _quantities(fin, "AVAI")
    return ParsedHolding(
        isin=checked_isin(match[1], location=securities[0].where),
        quantity=aggregate[0][1],
        quantity_type=aggregate[0][2],
        available=available[0][1] if available else None,
    )


def _quantities(fin: Sequence, qualifier: str) -> list[tuple[Field, Decimal, QuantityType]]:
    """The FIN sequence's own :93B: balances of a qualifier (sub-balances are not read)."""
    found = []
    for item, value in fin.qualified("93B", qualifier):
        match = _QUANTITY.match(value.strip())
        if match is None or len(match[3]) > 15:
            raise HoldingsParseError(
                f":93B: '{value}' is not 'UNIT|FAMT/[N]quantity' with a decimal comma",
                location=item.where,
            )
        if match[1] not in _QUANTITY_TYPES:
            raise HoldingsParseError(
                f"quantity type '{match[1]}' is not UNIT or FAMT", location=item.where
            )
        quantity = Decimal(match[3].replace(",", ".").rstrip("."))
        signed = -quantity if match[2] and quantity else quantity
        found.append((item, signed, _QUANTITY_TYPES[match[1]]))
    return found
