"""SWIFT MT status advices and confirmations read into ``AdviceIn``. Pure: no database.

A message is the whole FIN message (blocks 1, 2 and 4; 3 and 5 are skipped) or block 4 alone
(with or without ``{4:`` and ``-}``); CRLF or LF. Read (SR2024 field formats, decimal comma):

- MT548 settlement status and processing advice: GENL ``:20C::SEME//`` (the message id),
  ``:23G:INST`` or ``CAST``, LINK ``:20C::RELA//`` (our SEME) and ``:20C::ASRF//`` (the CSD's
  transaction id), and every STAT block: ``:25D::IPRC//PACK|REJT|CAND|PPRC``,
  ``:25D::MTCH//MACH|NMAT``, ``:25D::SETT//PEND|PENF``, each with its REAS blocks
  (``:24B::<status>//<code>``, or ``:24B::<status>/<issuer>/<code>`` for a proprietary code kept
  as text, and ``:70D::REAS//`` text); optionally SETTRAN ``:35B:ISIN``, ``:22H::REDE//`` and
  ``:22H::PAYM//``.
- MT544/545/546/547 settlement confirmations (receive free / against payment, deliver free /
  against payment): GENL SEME, ``:23G:NEWM``, LINK RELA (and ASRF), ``:22F::PRTL//PAIN|PARC``
  (GENL, else TRADDET or SETDET); TRADDET ``:98A::ESET//`` (or ``:98C::``) and ``:35B:ISIN``;
  FIAC ``:36B::ESTT//UNIT|FAMT/``; SETDET AMT ``:19A::ESTT//`` (MT545 and MT547).

The sender is the BIC of block 2's logical terminal (an output message; for an input one,
block 1's); without the headers the caller names it. Block 4 alone says no message type: a GENL
with STAT blocks is an MT548, else a confirmation (its movement and payment then from
``:22H::REDE//`` and ``:22H::PAYM//`` when given). Every problem names the field and its line
(``line 14 :36B::ESTT//``); the message is refused whole.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.errors import FieldProblem, ValidationFailed
from app.core.iso15022 import Field, FinMessage, Iso15022Error, Sequence, fin_message
from app.core.money import parse_decimal
from app.settlement.advices.iso20022 import ReadAdvice, validated
from app.settlement.advices.schemas import AdvisedStatus, Block, MessageType

_S = AdvisedStatus
STATUS_QUALIFIERS: dict[str, tuple[Block, dict[str, AdvisedStatus]]] = {
    "IPRC": (
        Block.PROCESSING,
        {
            "PACK": _S.ACKNOWLEDGED,
            "REJT": _S.REJECTED,
            "CAND": _S.CANCELLED,
            "PPRC": _S.PENDING_PROCESSING,
        },
    ),
    "MTCH": (Block.MATCHING, {"MACH": _S.MATCHED, "NMAT": _S.UNMATCHED}),
    "SETT": (Block.SETTLEMENT, {"PEND": _S.PENDING, "PENF": _S.FAILING}),
}
# Confirmation type -> (securities movement, payment, credit/debit of the cash seen from us).
CONFIRMATIONS: dict[str, tuple[str, str, str | None]] = {
    "544": ("RECE", "FREE", None),
    "545": ("RECE", "APMT", "DBIT"),
    "546": ("DELI", "FREE", None),
    "547": ("DELI", "APMT", "CRDT"),
}
_REFERENCE = re.compile(r"^[^\n/][^\n]{0,15}$")
_QUANTITY = re.compile(r"^(UNIT|FAMT)/(\d{1,15},\d*)$")
_AMOUNT = re.compile(r"^(N?)([A-Z]{3})(\d{1,15},\d*)$")
_ISIN = re.compile(r"^ISIN\s+(\S+)")
_DATE = re.compile(r"^(\d{8})(\d{6})?$")
_CODE = re.compile(r"^[A-Z0-9]{4}$")


def _at(item: Field | Sequence, label: str = "") -> str:
    if isinstance(item, Sequence):
        return f"line {item.line} :16R:{item.name}"
    return f"line {item.line} :{item.tag}:{label}"


@dataclass
class _Reader:
    """What was read, where, and what is wrong: every problem is reported, then refused."""

    problems: list[FieldProblem] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)

    def problem(self, location: str, message: str) -> None:
        self.problems.append(FieldProblem(location, message))

    def keep(self, name: str, value: Any, location: str) -> None:
        if value is not None:
            self.values[name] = value
            self.locations[name] = location

    def one(
        self, sequence: Sequence, tag: str, qualifier: str, *, required: bool
    ) -> tuple[Field, str, str] | None:
        """The sequence's one field of a tag and qualifier: (field, issuer, value)."""
        found = []
        for item in sequence.fields:
            if item.tag.startswith(tag):
                try:
                    code, issuer, rest = item.qualified()
                except Iso15022Error as error:
                    self.problem(f"{error.location} :{item.tag}:", error.message)
                    continue
                if code == qualifier:
                    found.append((item, issuer, rest.strip()))
        if len(found) > 1:
            self.problem(_at(found[1][0]), f"a second :{tag}::{qualifier}// in {sequence.name}")
        if not found:
            if required:
                self.problem(_at(sequence), f"has no :{tag}::{qualifier}//")
            return None
        return found[0]


def _summary(problems: list[FieldProblem]) -> str:
    listed = "; ".join(f"{p.field}: {p.message}" for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return f"The SWIFT MT message is not valid: {listed}{more}."


def _refused(location: str, message: str) -> ValidationFailed:
    problem = FieldProblem(location, message)
    return ValidationFailed(_summary([problem]), errors=[problem])


def _message(data: bytes) -> FinMessage:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _refused(f"line {line}", "is not UTF-8 text") from None
    if not text.strip():
        raise _refused("body", "is empty")
    try:
        return fin_message(text)
    except Iso15022Error as error:
        raise _refused(error.location, error.message) from None


def _general(message: FinMessage) -> Sequence:
    sequences = message.sequences
    if not sequences or sequences[0].name != "GENL":
        where = _at(sequences[0]) if sequences else "line 1"
        raise _refused(where, "the message does not start with :16R:GENL")
    return sequences[0]


def _identification(reader: _Reader, general: Sequence, functions: tuple[str, ...]) -> None:
    """GENL: the message id (SEME), the function, our reference (RELA) and the CSD's (ASRF)."""
    seme = reader.one(general, "20C", "SEME", required=True)
    if seme is not None:
        if _REFERENCE.match(seme[2]) is None:
            reader.problem(_at(seme[0], ":SEME//"), f"'{seme[2][:40]}' is not a 16x reference")
        reader.keep("message_id", seme[2], _at(seme[0], ":SEME//"))
    functions_given = [item for item in general.fields if item.tag == "23G"]
    if not functions_given:
        reader.problem(_at(general), "has no :23G: function of the message")
    elif functions_given[0].value.strip()[:4] not in functions:
        function = functions_given[0].value.strip()
        reader.problem(
            _at(functions_given[0]), f"'{function}' is not one of {', '.join(functions)}"
        )
    links = general.named("LINK")
    related = [
        found for link in links if (found := reader.one(link, "20C", "RELA", required=False))
    ]
    if not related:
        reader.problem(_at(general), "has no LINK with :20C::RELA// (our reference)")
    else:
        reader.keep("reference", related[0][2], _at(related[0][0], ":RELA//"))
    servicer = [
        found for link in links if (found := reader.one(link, "20C", "ASRF", required=False))
    ]
    if servicer:
        reader.keep("csd_reference", servicer[0][2], _at(servicer[0][0], ":ASRF//"))


def _reason(reader: _Reader, reas: Sequence, status_code: str) -> dict[str, Any] | None:
    """One REAS block: ``:24B:`` (its qualifier is the status code) and ``:70D::REAS//``."""
    codes = [item for item in reas.fields if item.tag == "24B"]
    if len(codes) != 1:
        where = _at(codes[1]) if codes else _at(reas)
        reader.problem(where, f"a REAS block holds one :24B: reason, not {len(codes)}")
        return None
    item = codes[0]
    try:
        qualifier, issuer, code = item.qualified()
    except Iso15022Error as error:
        reader.problem(f"{error.location} :24B:", error.message)
        return None
    code = code.strip()
    if qualifier != status_code:
        reader.problem(
            _at(item), f"the reason's qualifier {qualifier} is not the status {status_code}"
        )
        return None
    narrative = reader.one(reas, "70D", "REAS", required=False)
    text = None if narrative is None else " ".join(narrative[2].split())
    if issuer:
        return {"code": code, "proprietary": True, "issuer": issuer, "text": text}
    if _CODE.match(code) is None:
        reader.problem(
            _at(item, f":{qualifier}//"), f"'{code[:40]}' is not a 4-character reason code"
        )
        return None
    return {"code": code, "text": text}


def _status_blocks(reader: _Reader, general: Sequence) -> None:
    """GENL's STAT blocks: one ``:25D:`` status each, with its REAS blocks."""
    stats = general.named("STAT")
    if not stats:
        reader.problem(_at(general), "an MT548 has at least one STAT block")
    for stat in stats:
        statuses = [item for item in stat.fields if item.tag == "25D"]
        if len(statuses) != 1:
            reader.problem(_at(stat), f"a STAT block holds one :25D: status, not {len(statuses)}")
            continue
        item = statuses[0]
        try:
            qualifier, issuer, code = item.qualified()
        except Iso15022Error as error:
            reader.problem(f"{error.location} :25D:", error.message)
            continue
        code = code.strip()
        if qualifier not in STATUS_QUALIFIERS:
            reader.problem(
                _at(item), f"status {qualifier} is not one of {', '.join(STATUS_QUALIFIERS)}"
            )
            continue
        block, codes = STATUS_QUALIFIERS[qualifier]
        where = _at(item, f":{qualifier}//")
        if issuer or code not in codes:
            reader.problem(where, f"'{code[:40]}' is not one of {', '.join(codes)}")
            continue
        if block.value in reader.values:
            reader.problem(where, f"a second {qualifier} status in one message")
            continue
        reasons = [_reason(reader, reas, code) for reas in stat.named("REAS")]
        kept = [reason for reason in reasons if reason is not None]
        reader.keep(block.value, {"status": codes[code].value, "reasons": kept}, where)


def _terms(reader: _Reader, sequence: Sequence | None) -> None:
    """The ISIN, movement and payment a SETTRAN (MT548) or TRADDET/SETDET (MT54x) gives."""
    if sequence is None:
        return
    for item in sequence.fields:
        if item.tag == "35B":
            match = _ISIN.match(item.value)
            if match is None:
                reader.problem(_at(item), "names no ISIN ('ISIN <code>')")
            else:
                reader.keep("isin", match[1], _at(item))
    for qualifier, name, allowed in (
        ("REDE", "securities_movement", ("RECE", "DELI")),
        ("PAYM", "payment", ("APMT", "FREE")),
    ):
        found = reader.one(sequence, "22H", qualifier, required=False)
        if found is None:
            continue
        if found[2] not in allowed:
            reader.problem(
                _at(found[0], f":{qualifier}//"),
                f"'{found[2][:40]}' is not one of {', '.join(allowed)}",
            )
            continue
        reader.keep(name, found[2], _at(found[0], f":{qualifier}//"))


def _status_advice(reader: _Reader, general: Sequence, sequences: list[Sequence]) -> None:
    reader.keep("message_type", MessageType.STATUS.value, _at(general))
    _identification(reader, general, ("INST", "CAST"))
    _status_blocks(reader, general)
    for sequence in sequences[1:]:
        if sequence.name == "SETTRAN":
            _terms(reader, sequence)


def _decimal(reader: _Reader, text: str, where: str) -> Decimal | None:
    try:
        return parse_decimal(text.replace(",", ".").rstrip("."))
    except ValueError as error:
        reader.problem(where, str(error))
        return None


def _settled_date(reader: _Reader, traddet: Sequence) -> None:
    found = reader.one(traddet, "98A", "ESET", required=False) or reader.one(
        traddet, "98C", "ESET", required=False
    )
    if found is None:
        reader.problem(_at(traddet), "has no :98A::ESET// effective settlement date")
        return
    item, _issuer, value = found
    where = _at(item, ":ESET//")
    match = _DATE.match(value)
    if match is None or (item.tag == "98A") != (match[2] is None):
        reader.problem(where, f"'{value[:40]}' is not a date for :{item.tag}:")
        return
    try:
        day = date(int(match[1][:4]), int(match[1][4:6]), int(match[1][6:]))
    except ValueError:
        reader.problem(where, f"'{match[1]}' is not a date")
        return
    reader.keep("settlement_date", day, where)


def _settled_quantity(reader: _Reader, fiac: Sequence | None) -> None:
    if fiac is None:
        return
    found = reader.one(fiac, "36B", "ESTT", required=True)
    if found is None:
        return
    where = _at(found[0], ":ESTT//")
    match = _QUANTITY.match(found[2])
    if match is None:
        reader.problem(where, f"'{found[2][:40]}' is not 'UNIT|FAMT/quantity' with a decimal comma")
        return
    reader.keep("settled_quantity", _decimal(reader, match[2], where), where)


def _settled_amount(reader: _Reader, setdet: Sequence | None, required: bool) -> None:
    amounts = [] if setdet is None else setdet.named("AMT")
    found = [hit for amt in amounts if (hit := reader.one(amt, "19A", "ESTT", required=False))]
    if not found:
        if required:
            reader.problem(_at(setdet) if setdet else "SETDET", "has no AMT with :19A::ESTT//")
        return
    where = _at(found[0][0], ":ESTT//")
    match = _AMOUNT.match(found[0][2])
    if match is None:
        reader.problem(
            where, f"'{found[0][2][:40]}' is not '[N]currency amount' with a decimal comma"
        )
        return
    if match[1]:
        reader.problem(where, "a settled amount is not negative")
        return
    reader.keep("currency", match[2], where)
    reader.keep("settled_amount", _decimal(reader, match[3], where), where)


def _partial(reader: _Reader, sequences: list[Sequence | None]) -> None:
    for sequence in sequences:
        found = None if sequence is None else reader.one(sequence, "22F", "PRTL", required=False)
        if found is None:
            continue
        where = _at(found[0], ":PRTL//")
        if found[2] not in ("PAIN", "PARC"):
            reader.problem(where, f"'{found[2][:40]}' is not one of PAIN, PARC")
        else:
            reader.keep("partial", found[2] == "PAIN", where)
        return


def _first(sequences: list[Sequence], name: str) -> Sequence | None:
    return next((sequence for sequence in sequences if sequence.name == name), None)


def _confirmation(
    reader: _Reader, general: Sequence, sequences: list[Sequence], kind: str | None
) -> None:
    reader.keep("message_type", MessageType.CONFIRMATION.value, _at(general))
    _identification(reader, general, ("NEWM",))
    traddet, fiac, setdet = (_first(sequences, name) for name in ("TRADDET", "FIAC", "SETDET"))
    for name, sequence in (("TRADDET", traddet), ("FIAC", fiac)):
        if sequence is None:
            reader.problem(_at(general), f"the confirmation has no {name} block")
    if traddet is not None:
        _settled_date(reader, traddet)
        _terms(reader, traddet)
    _terms(reader, setdet)
    _settled_quantity(reader, fiac)
    _partial(reader, [general, traddet, setdet])
    if kind is not None:
        _of_the_type(reader, kind)
    _settled_amount(reader, setdet, required=reader.values.get("payment") == "APMT")


def _of_the_type(reader: _Reader, kind: str) -> None:
    """What the MT's type says (MT545: receipt against payment...); :22H: must agree."""
    movement, payment, direction = CONFIRMATIONS[kind]
    for name, value in (("securities_movement", movement), ("payment", payment)):
        given = reader.values.get(name)
        if given is not None and given != value:
            reader.problem(
                reader.locations[name], f"'{given}' is not what an MT{kind} is ({value})"
            )
        reader.keep(name, value, reader.locations.get(name, "block 2"))
    reader.keep("credit_debit", direction, "block 2")


def _kind(message: FinMessage, general: Sequence) -> str:
    """The MT: block 2's, else what block 4 holds."""
    if message.message_type is not None:
        if message.message_type != "548" and message.message_type not in CONFIRMATIONS:
            raise _refused("block 2", f"MT{message.message_type} is not MT548 nor MT544-547")
        return message.message_type
    functions = [item.value.strip()[:4] for item in general.fields if item.tag == "23G"]
    return "548" if general.named("STAT") or functions[:1] in (["INST"], ["CAST"]) else "54x"


def read_mt(data: bytes, *, message_id: str | None = None) -> ReadAdvice:
    """The advice an MT548 or MT544-547 carries, every value checked; ``ValidationFailed``
    (422) naming each field (and line) that is missing or wrong otherwise. ``message_id``, if
    given, must be the message's SEME; the sender is read from the headers when given."""
    message = _message(data)
    reader = _Reader()
    general = _general(message)
    kind = _kind(message, general)
    if kind == "548":
        _status_advice(reader, general, message.sequences)
    else:
        _confirmation(reader, general, message.sequences, None if kind == "54x" else kind)
    given = reader.values.get("message_id")
    if message_id is not None and given is not None and given != message_id:
        reader.problem(
            reader.locations["message_id"], f"'{given}' differs from message_id '{message_id}'"
        )
    if message.sender is not None:
        reader.keep("sender", message.sender, "block 2")
    if reader.problems:
        raise ValidationFailed(_summary(reader.problems), errors=reader.problems)
    if kind == "54x":
        known = (reader.values.get("securities_movement"), reader.values.get("payment"))
        kind = next((k for k, v in CONFIRMATIONS.items() if v[:2] == known), "544-547")
    advice = validated(reader.values, reader.locations, "GENL", _summary)
    return ReadAdvice(advice, f"MT{kind}", reader.locations)
