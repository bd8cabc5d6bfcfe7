"""Our MT540/541/542/543 read (NEWM, and CANC with ``:20C::PREV//``), per the message contract.
Anything unreadable raises ``MalformedMessage`` naming the field."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, cast

from stdnum import isin as isin_check

from csd_sim.messages.instruction import (
    PARTIAL_INDICATORS,
    DealPrice,
    Direction,
    Instruction,
    MalformedMessage,
    Payment,
    QuantityType,
)
from csd_sim.messages.swift import Field, fields, parse_amount

MT_TYPES: dict[str, tuple[Direction, Payment]] = {
    "MT540": ("RECE", "FREE"),
    "MT541": ("RECE", "APMT"),
    "MT542": ("DELI", "FREE"),
    "MT543": ("DELI", "APMT"),
}


class _Fields:
    def __init__(self, found: list[Field]) -> None:
        self.found = found

    def first(self, tag: str, qualifier: str | None, sequence: str, *, code: str = "OTHR") -> Field:
        field = self.optional(tag, qualifier, sequence)
        if field is None:
            name = f":{tag}:" + (f":{qualifier}//" if qualifier else "")
            raise MalformedMessage(f"{sequence}/{name}", "is missing", code=code)
        return field

    def optional(self, tag: str, qualifier: str | None, sequence: str) -> Field | None:
        for field in self.found:
            wanted = qualifier is None or field.qualifier == qualifier
            if field.tag == tag and sequence in field.sequence and wanted:
                return field
        return None

    def party(self, qualifier: str) -> list[Field]:
        """The fields of the SETPRTY sequence whose 95a has this qualifier."""
        groups: list[list[Field]] = []
        for field in self.found:
            if field.sequence[-1:] != ("SETPRTY",):
                continue
            if field.tag.startswith("95"):
                groups.append([field])
            elif groups:
                groups[-1].append(field)
        return next((group for group in groups if group[0].qualifier == qualifier), [])


def _date(field: Field, where: str, code: str) -> date:
    try:
        return datetime.strptime(field.data, "%Y%m%d").date()  # noqa: DTZ007 - a date, no time
    except ValueError:
        raise MalformedMessage(where, f"'{field.data[:40]}' is not YYYYMMDD", code=code) from None


def _isin(found: _Fields) -> str:
    value = found.first("35B", None, "TRADDET", code="DSEC").value.split("\n", 1)[0]
    isin = value.removeprefix("ISIN ").strip()
    if not value.startswith("ISIN ") or not isin_check.is_valid(isin):
        raise MalformedMessage("TRADDET/:35B:", f"'{value[:40]}' is not ISIN <ISIN>", code="DSEC")
    return isin


def _quantity(found: _Fields) -> tuple[Decimal, QuantityType]:
    field = found.first("36B", "SETT", "FIAC", code="DQUA")
    kind, _, number = field.data.partition("/")
    if kind not in ("UNIT", "FAMT"):
        raise MalformedMessage(
            "FIAC/:36B::SETT//", f"'{kind[:10]}' is not UNIT or FAMT", code="DQUA"
        )
    quantity = parse_amount(number, "FIAC/:36B::SETT//", code="DQUA")
    if quantity <= 0:
        raise MalformedMessage("FIAC/:36B::SETT//", "is not positive", code="DQUA")
    return quantity, cast(QuantityType, kind)


def _deal_price(found: _Fields) -> DealPrice | None:
    percent = found.optional("90A", "DEAL", "TRADDET")
    if percent is not None:
        _, _, rate = percent.data.partition("/")
        return DealPrice(parse_amount(rate, "TRADDET/:90A::DEAL//"), "PRCT")
    actual = found.optional("90B", "DEAL", "TRADDET")
    if actual is None:
        return None
    _, _, amount = actual.data.partition("/")
    return DealPrice(parse_amount(amount[3:], "TRADDET/:90B::DEAL//"), "ACTU", amount[:3])


def _settlement(found: _Fields, direction: str, payment: str) -> dict[str, Any]:
    agent = found.party("DEAG" if direction == "RECE" else "REAG")
    trading = found.party("SELL" if direction == "RECE" else "BUYR")
    place = found.party("PSET")
    values: dict[str, Any] = {
        "place_of_settlement": place[0].data if place else None,
        "counterparty_agent": agent[0].data if agent else None,
        "counterparty_account": next((f.data for f in agent if f.tag == "97A"), None),
        "counterparty": trading[0].data if trading else None,
    }
    partial = found.optional("22F", "STCO", "SETDET")
    if partial is not None:
        if partial.data not in PARTIAL_INDICATORS:
            where = "SETDET/:22F::STCO//"
            raise MalformedMessage(
                where, f"'{partial.data[:10]}' is not one of NPAR, PART, PARQ, PARC"
            )
        values["partial_indicator"] = partial.data
    priority = found.optional("22F", "PRIR", "SETDET")
    if priority is not None:
        if not (priority.data.isdigit() and len(priority.data) == 4):
            raise MalformedMessage("SETDET/:22F::PRIR//", f"'{priority.data[:10]}' is not 4 digits")
        values["priority"] = priority.data
    setr = found.optional("22F", "SETR", "SETDET")
    values["transaction_type"] = setr.data if setr is not None else "TRAD"
    if payment == "APMT":
        amount = found.first("19A", "SETT", "AMT").data.removeprefix("N")
        values["currency"] = amount[:3]
        values["settlement_amount"] = parse_amount(amount[3:], "AMT/:19A::SETT//")
        values["credit_debit"] = "DBIT" if direction == "RECE" else "CRDT"
    return values


def read_mt_instruction(content: str, message_type: str) -> Instruction:
    """An MT540-543 given its type (the outbound message's format, e.g. "MT541")."""
    if message_type not in MT_TYPES:
        raise MalformedMessage("format", f"'{message_type}' is not MT540, MT541, MT542 or MT543")
    direction, payment = MT_TYPES[message_type]
    found = _Fields(fields(content))
    function = found.first("23G", None, "GENL").value
    if function not in ("NEWM", "CANC"):
        raise MalformedMessage("GENL/:23G:", f"'{function[:10]}' is not NEWM or CANC")
    kind: Literal["NEWM", "CANC"] = "CANC" if function == "CANC" else "NEWM"
    cancels = found.first("20C", "PREV", "LINK").data if kind == "CANC" else None
    quantity, quantity_type = _quantity(found)
    return Instruction(
        reference=found.first("20C", "SEME", "GENL").data,
        family="mt",
        message_type=message_type,
        cancels=cancels,
        direction=direction,
        payment=payment,
        isin=_isin(found),
        quantity=quantity,
        quantity_type=quantity_type,
        trade_date=_date(
            found.first("98A", "TRAD", "TRADDET", code="DTRD"), "TRADDET/:98A::TRAD//", "DTRD"
        ),
        settlement_date=_date(
            found.first("98A", "SETT", "TRADDET", code="DDAT"), "TRADDET/:98A::SETT//", "DDAT"
        ),
        safekeeping_account=found.first("97A", "SAFE", "FIAC", code="SAFE").data,
        deal_price=_deal_price(found),
        **_settlement(found, direction, payment),
    )
