"""SWIFT MT548 and MT544-547 read into the advice model, without a database.

The samples in ``messages/`` follow SR2024: an MT548 from Euroclear Bank (MGTCBEBEECL) with three
STAT blocks (acknowledged, matched, pending on a CSD hold and a proprietary reason), a bare
block 4 MT548 rejecting our instruction, and an MT545 confirming 400,000 of our 1,000,000 Bund
receipt against 316,031.78 EUR, more to come (PAIN).
"""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import FieldProblem, ValidationFailed
from app.settlement.advices.iso20022 import ReadAdvice
from app.settlement.advices.swift import read_mt

MESSAGES = Path(__file__).parent / "messages"
SEME = "01KBV1X0A2S9D8F7"


def sample(name: str) -> str:
    return (MESSAGES / name).read_text(encoding="utf-8")


def read(text: str, message_id: str | None = None) -> ReadAdvice:
    return read_mt(text.encode(), message_id=message_id)


def refused(text: str | bytes) -> list[FieldProblem]:
    with pytest.raises(ValidationFailed) as caught:
        read_mt(text if isinstance(text, bytes) else text.encode())
    assert caught.value.status == 422
    return caught.value.errors


def iso(code: str, text: str | None = None) -> dict[str, Any]:
    return {"proprietary": False, "issuer": None, "code": code, "text": text}


def block(status: str, *reasons: dict[str, Any]) -> dict[str, Any]:
    return {"status": status, "reasons": list(reasons)}


DEFAULTS: dict[str, Any] = {
    "message_type": "sese.024",
    "sender": None,
    "reference": SEME,
    "instruction_id": None,
    "csd_reference": None,
    "processing": None,
    "matching": None,
    "settlement": None,
    "status": None,
    "matched": False,
    "reasons": [],
    "settled_quantity": None,
    "settled_amount": None,
    "settlement_date": None,
    "partial": None,
    "isin": None,
    "currency": None,
    "credit_debit": None,
    "securities_movement": None,
    "payment": None,
}


# MT548 -----------------------------------------------------------------------------------------


def test_an_mt548_reads_every_stat_block_its_reasons_and_the_sender_of_block_2() -> None:
    read_ = read(sample("mt548_multi.txt"))

    assert read_.version == "MT548"
    assert read_.advice.model_dump() == {
        **DEFAULTS,
        "message_id": "EB26112600113",
        "sender": "MGTCBEBEECL",
        "csd_reference": "EB2026112600113",
        "processing": block("acknowledged"),
        "matching": block("matched"),
        "settlement": block(
            "pending",
            iso("CSDH", "Held by the CSD pending review of the account"),
            {"proprietary": True, "issuer": "EUCL", "code": "X042", "text": "Account review"},
        ),
        "isin": "DE0001102614",
        "securities_movement": "RECE",
        "payment": "APMT",
    }
    assert read_.locations["settlement"] == "line 18 :25D::SETT//"
    assert read_.locations["reference"] == "line 6 :20C::RELA//"
    assert read_.advice.headline().status == "pending"


def test_block_4_alone_is_read_without_a_sender() -> None:
    read_ = read(sample("mt548_rejected.txt"))

    assert read_.version == "MT548"
    assert read_.advice.model_dump() == {
        **DEFAULTS,
        "message_id": "EB26112500870",
        "processing": block("rejected", iso("SAFE", "Unknown safekeeping account")),
    }


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        ("IPRC//PACK", None, ("processing", "acknowledged")),
        ("IPRC//CAND", "CAND//CANI", ("processing", "cancelled")),
        ("IPRC//PPRC", "PPRC//NORE", ("processing", "pending_processing")),
        ("MTCH//NMAT", "NMAT//DQUA", ("matching", "unmatched")),
        ("SETT//PENF", "PENF//MONY", ("settlement", "failing")),
        ("SETT//PEND", "PEND//PREA", ("settlement", "pending")),
    ],
)
def test_every_status_an_mt548_gives_is_read(
    status: str, reason: str | None, expected: tuple[str, str]
) -> None:
    reas = "" if reason is None else f":16R:REAS\n:24B::{reason}\n:16S:REAS\n"
    text = sample("mt548_rejected.txt").replace(
        ":25D::IPRC//REJT\n:16R:REAS\n:24B::REJT//SAFE\n:70D::REAS//Unknown safekeeping account\n"
        ":16S:REAS\n",
        f":25D::{status}\n{reas}",
    )

    advice = read(text).advice

    [(given_block, given)] = advice.blocks()
    assert (given_block, given.status) == expected
    assert [r.code for r in given.reasons] == ([] if reason is None else [reason[-4:]])


def test_crlf_line_ends_read_the_same() -> None:
    text = sample("mt548_multi.txt")

    assert read(text.replace("\n", "\r\n")).advice == read(text).advice


# MT544-547 -------------------------------------------------------------------------------------


def test_an_mt545_reads_what_settled_when_and_that_more_is_to_come() -> None:
    read_ = read(sample("mt545_partial.txt"))

    assert read_.version == "MT545"
    assert read_.advice.model_dump() == {
        **DEFAULTS,
        "message_id": "EB26112604410",
        "message_type": "sese.025",
        "sender": "MGTCBEBEECL",
        "settled_quantity": Decimal("400000"),
        "settled_amount": Decimal("316031.78"),
        "settlement_date": date(2026, 11, 26),
        "partial": True,
        "isin": "DE0001102614",
        "currency": "EUR",
        "credit_debit": "DBIT",
        "securities_movement": "RECE",
        "payment": "APMT",
    }
    assert read_.locations["settled_quantity"] == "line 16 :36B::ESTT//"


@pytest.mark.parametrize(
    ("kind", "movement", "payment", "direction"),
    [
        ("544", "RECE", "FREE", None),
        ("546", "DELI", "FREE", None),
        ("547", "DELI", "APMT", "CRDT"),
    ],
)
def test_each_confirmation_type_says_its_movement_and_payment(
    kind: str, movement: str, payment: str, direction: str | None
) -> None:
    text = sample("mt545_partial.txt").replace("{2:O545", f"{{2:O{kind}")
    if payment == "FREE":
        text = text.replace(":16R:AMT\n:19A::ESTT//EUR316031,78\n:16S:AMT\n", "")

    advice = read(text).advice

    assert (advice.securities_movement, advice.payment, advice.credit_debit) == (
        movement,
        payment,
        direction,
    )
    assert advice.settled_amount == (None if payment == "FREE" else Decimal("316031.78"))


def test_a_bare_confirmation_takes_its_type_from_rede_and_paym_and_parc_is_the_last_part() -> None:
    body = sample("mt545_partial.txt").split("{4:\n", 1)[1].removesuffix("-}\n")
    body = body.replace(":22F::PRTL//PAIN", ":22F::PRTL//PARC").replace(
        ":22F::SETR//TRAD\n", ":22F::SETR//TRAD\n:22H::REDE//RECE\n:22H::PAYM//APMT\n"
    )

    read_ = read(body.replace(":98A::ESET//20261126", ":98C::ESET//20261126150244"))

    assert read_.version == "MT545"
    assert (read_.advice.partial, read_.advice.settlement_date) == (False, date(2026, 11, 26))


# Refused ---------------------------------------------------------------------------------------


MT548 = "mt548_multi.txt"
MT545 = "mt545_partial.txt"


@pytest.mark.parametrize(
    ("name", "old", "new", "problem"),
    [
        pytest.param(
            MT548,
            ":25D::SETT//PEND",
            ":25D::SETT//PENX",
            FieldProblem("line 18 :25D::SETT//", "'PENX' is not one of PEND, PENF"),
            id="status-code",
        ),
        pytest.param(
            MT548,
            ":25D::SETT//PEND",
            ":25D::CPRC//CAND",
            FieldProblem("line 18 :25D:", "status CPRC is not one of IPRC, MTCH, SETT"),
            id="status-qualifier",
        ),
        pytest.param(
            MT548,
            ":24B::PEND//CSDH",
            ":24B::PENF//CSDH",
            FieldProblem("line 20 :24B:", "the reason's qualifier PENF is not the status PEND"),
            id="reason-qualifier",
        ),
        pytest.param(
            MT548,
            ":24B::PEND//CSDH",
            ":24B::PEND//csdh",
            FieldProblem("line 20 :24B::PEND//", "'csdh' is not a 4-character reason code"),
            id="reason-code",
        ),
        pytest.param(
            MT548,
            ":20C::RELA//01KBV1X0A2S9D8F7\n",
            "",
            FieldProblem("line 2 :16R:GENL", "has no LINK with :20C::RELA// (our reference)"),
            id="no-reference",
        ),
        pytest.param(
            MT548,
            ":20C::SEME//EB26112600113\n",
            "",
            FieldProblem("line 2 :16R:GENL", "has no :20C::SEME//"),
            id="no-message-id",
        ),
        pytest.param(
            MT548,
            ":16R:STAT\n:25D::MTCH//MACH\n:16S:STAT\n",
            ":16R:STAT\n:25D::MTCH//MACH\n:16S:STAT\n:16R:STAT\n:25D::MTCH//NMAT\n:16S:STAT\n",
            FieldProblem("line 18 :25D::MTCH//", "a second MTCH status in one message"),
            id="two-matching-statuses",
        ),
        pytest.param(
            MT548,
            ":23G:INST",
            ":23G:REPL",
            FieldProblem("line 4 :23G:", "'REPL' is not one of INST, CAST"),
            id="function",
        ),
        pytest.param(
            MT545,
            ":36B::ESTT//FAMT/400000,",
            ":36B::ESTT//FAMT/400000.00",
            FieldProblem(
                "line 16 :36B::ESTT//",
                "'FAMT/400000.00' is not 'UNIT|FAMT/quantity' with a decimal comma",
            ),
            id="quantity",
        ),
        pytest.param(
            MT545,
            ":19A::ESTT//EUR316031,78",
            ":19A::ESTT//NEUR316031,78",
            FieldProblem("line 22 :19A::ESTT//", "a settled amount is not negative"),
            id="negative-amount",
        ),
        pytest.param(
            MT545,
            ":16R:AMT\n:19A::ESTT//EUR316031,78\n:16S:AMT\n",
            "",
            FieldProblem("line 19 :16R:SETDET", "has no AMT with :19A::ESTT//"),
            id="mt545-without-amount",
        ),
        pytest.param(
            MT545,
            ":98A::ESET//20261126",
            ":98A::ESET//20261131",
            FieldProblem("line 11 :98A::ESET//", "'20261131' is not a date"),
            id="date",
        ),
        pytest.param(
            MT545,
            ":98A::ESET//20261126\n",
            "",
            FieldProblem("line 10 :16R:TRADDET", "has no :98A::ESET// effective settlement date"),
            id="no-effective-date",
        ),
        pytest.param(
            MT545,
            ":22F::PRTL//PAIN",
            ":22F::PRTL//PART",
            FieldProblem("line 5 :22F::PRTL//", "'PART' is not one of PAIN, PARC"),
            id="partial",
        ),
        pytest.param(
            MT545,
            ":23G:NEWM",
            ":23G:CANC",
            FieldProblem("line 4 :23G:", "'CANC' is not one of NEWM"),
            id="cancelled-confirmation",
        ),
        pytest.param(
            MT545,
            ":35B:ISIN DE0001102614",
            ":35B:ISIN DE0001102615",
            FieldProblem(
                "line 13 :35B:",
                "is not a valid ISIN: The number's checksum or check digit is invalid.",
            ),
            id="isin",
        ),
    ],
)
def test_a_wrong_field_is_refused_naming_it_and_its_line(
    name: str, old: str, new: str, problem: FieldProblem
) -> None:
    text = sample(name)
    assert old in text
    assert problem in refused(text.replace(old, new))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            "{1:F01COBADEFFAXXX0000000000}{2:O5350912261126MGTCBEBEAECL00000000002611260912N}"
            "{4:\n:16R:GENL\n:16S:GENL\n-}",
            FieldProblem("block 2", "MT535 is not MT548 nor MT544-547"),
            id="other-message-type",
        ),
        pytest.param(
            ":16R:GENL\n:20C::SEME//X\n",
            FieldProblem("line 1", ":16R:GENL is never closed"),
            id="open",
        ),
        pytest.param(
            ":16R:STAT\n:16S:STAT\n",
            FieldProblem("line 1 :16R:STAT", "the message does not start with :16R:GENL"),
            id="no-genl",
        ),
        pytest.param("", FieldProblem("body", "is empty"), id="empty"),
        pytest.param(
            "{4:\n:16R:GENL\n:16S:GENL\n-}{4:\n:16R:GENL\n:16S:GENL\n-}",
            FieldProblem("line 4", "a second message: send one at a time"),
            id="two-messages",
        ),
        pytest.param(
            "{4:\n:16R:GENL\n:16S:GENL\n",
            FieldProblem("line 1", "block 4 is not closed by '-}'"),
            id="unclosed-block-4",
        ),
    ],
)
def test_a_message_that_cannot_be_read_is_refused_whole(text: str, problem: FieldProblem) -> None:
    assert refused(text) == [problem]


def test_text_not_utf8_is_refused_naming_its_line() -> None:
    assert refused(b":16R:GENL\n:20C::SEME//\xff\n") == [
        FieldProblem("line 2", "is not UTF-8 text")
    ]


def test_the_message_id_given_apart_must_be_the_seme() -> None:
    with pytest.raises(ValidationFailed) as caught:
        read(sample("mt548_multi.txt"), message_id="OTHER")

    assert caught.value.errors == [
        FieldProblem("line 3 :20C::SEME//", "'EB26112600113' differs from message_id 'OTHER'")
    ]
