"""The :86: information to account owner of a SWIFT statement line: ``?NN`` subfields (German
DFÜ style, with SEPA keywords), ``/CODE/`` slash codes, or plain text. Pure: no database."""

import re
from dataclasses import dataclass, field

_QUESTION_MARK_FORM = re.compile(r"^(\d{3})?\?\d{2}")
_SUBFIELD = re.compile(r"\?(\d{2})")
_PURPOSE_SUBFIELDS = frozenset({*(str(n) for n in range(20, 30)), "60", "61", "62", "63"})
_SEPA_KEYWORD = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|COAM|OAMT|SVWZ|ABWA|ABWE)\+")
_SLASH_CODE = re.compile(
    r"/(EREF|REMI|NAME|IBAN|ACCW|BIC|CNTP|ORDP|BENM|UETR|IREF|MARF|CSID|PURP|ULTD|ULTC|"
    r"RTRN|TRCD|ADDR|ISDT|ID)/"
)
_NOT_PROVIDED = "NOTPROVIDED"
# Slash-coded references that name one of ours: the key in ParsedEntry.references.
_SLASH_REFERENCES = {"EREF": "end_to_end_id", "UETR": "uetr", "IREF": "instruction_id"}


@dataclass(frozen=True, slots=True)
class Details:
    remittance_information: str | None = None
    counterparty_name: str | None = None
    counterparty_account: str | None = None
    references: dict[str, str] = field(default_factory=dict)


def read_details(text: str) -> Details:
    """The structure of one :86: value (its lines separated by newlines)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    # Structured forms wrap at a fixed width, often inside a word: their lines join with nothing.
    joined = "".join(lines)
    if _QUESTION_MARK_FORM.match(joined):
        return _from_subfields(joined)
    if joined.startswith("/") and _SLASH_CODE.match(joined):
        return _from_slash_codes(joined)
    return Details(remittance_information=" ".join(lines) or None)


def _from_subfields(joined: str) -> Details:
    parts = _SUBFIELD.split(joined)
    subfields: dict[str, list[str]] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        subfields.setdefault(code, []).append(value)
    purpose = "".join(v for code, vs in subfields.items() if code in _PURPOSE_SUBFIELDS for v in vs)
    name = "".join(subfields.get("32", []) + subfields.get("33", []))
    account = "".join(subfields.get("31", []))
    remittance, references = _sepa_purpose(purpose)
    return Details(
        remittance_information=remittance or None,
        counterparty_name=name.strip() or None,
        counterparty_account=account.strip() or None,
        references=references,
    )


def _sepa_purpose(purpose: str) -> tuple[str, dict[str, str]]:
    """The SVWZ text and the EREF / MREF references of a purpose carrying SEPA keywords."""
    parts = _SEPA_KEYWORD.split(purpose)
    if len(parts) == 1:
        return purpose.strip(), {}
    keywords = dict(zip(parts[1::2], (p.strip() for p in parts[2::2]), strict=True))
    references: dict[str, str] = {}
    if keywords.get("EREF") and keywords["EREF"] != _NOT_PROVIDED:
        references["end_to_end_id"] = keywords["EREF"]
    if keywords.get("MREF"):
        references["mandate_id"] = keywords["MREF"]
    remittance = keywords.get("SVWZ") or parts[0].strip()
    return remittance, references


def _from_slash_codes(joined: str) -> Details:
    codes: dict[str, str] = {}
    matches = list(_SLASH_CODE.finditer(joined))
    for match, after in zip(matches, [*matches[1:], None], strict=True):
        end = after.start() if after else len(joined)
        codes.setdefault(match.group(1), joined[match.end() : end].rstrip("/").strip())
    references = {
        key: codes[code]
        for code, key in _SLASH_REFERENCES.items()
        if codes.get(code) and codes[code] != _NOT_PROVIDED
    }
    counterparty = codes.get("CNTP", "").split("/")  # account / BIC / name / city
    name = codes.get("NAME") or (counterparty[2] if len(counterparty) > 2 else "")
    account = codes.get("IBAN") or codes.get("ACCW") or counterparty[0]
    remittance = codes.get("REMI", "").removeprefix("USTD//") or joined
    return Details(
        remittance_information=remittance,
        counterparty_name=name or None,
        counterparty_account=account or None,
        references=references,
    )
