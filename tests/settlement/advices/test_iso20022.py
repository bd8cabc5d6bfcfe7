"""ISO 20022 sese.024 and sese.025 read into the advice model, without a database.

The samples in ``messages/`` follow the published message structure (sese.024.001.12/.13,
sese.025.001.11/.12, head.001.001.02): a 1,000,000 Bund receipt from Goldman at Euroclear Bank,
790,079.45 EUR against payment, confirmed in two parts, 400,000 for 316,031.78 EUR
(790,079.45 x 0.4) and 600,000 for the remaining 474,047.67 EUR.
"""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import FieldProblem, ValidationFailed
from app.settlement.advices.iso20022 import read_advice

MESSAGES = Path(__file__).parent / "messages"
SAMPLE_INSTRUCTION = "si_01kbv1x0a2s9d8f7g6h5j4k3m2"
CONF = "SctiesSttlmTxConf"
ADVC = "SctiesSttlmTxStsAdvc"


def sample(name: str) -> str:
    return (MESSAGES / name).read_text(encoding="utf-8")


def read(text: str, message_id: str | None = "MSG-1") -> Any:
    return read_advice(text.encode(), message_id=message_id)


def refused(text: str, message_id: str | None = "MSG-1") -> list[FieldProblem]:
    with pytest.raises(ValidationFailed) as caught:
        read(text, message_id)
    assert caught.value.status == 422
    return caught.value.errors


def advice_of(text: str, message_id: str | None = "MSG-1") -> dict[str, Any]:
    result: dict[str, Any] = read(text, message_id).advice.model_dump()
    return result


def iso(code: str, text: str | None = None) -> dict[str, Any]:
    """An ISO reason as read."""
    return {"proprietary": False, "issuer": None, "code": code, "text": text}


def block(status: str, *reasons: dict[str, Any]) -> dict[str, Any]:
    return {"status": status, "reasons": list(reasons)}


DEFAULTS: dict[str, Any] = {
    "message_type": "sese.024",
    "sender": None,
    "reference": SAMPLE_INSTRUCTION,
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


# The samples -----------------------------------------------------------------------------------


def test_a_matched_status_advice_reads_its_status_and_transaction_details() -> None:
    read_ = read(sample("sese024_matched.xml"), "EB-20261125-000871")

    assert read_.version == "sese.024.001.13"
    assert read_.advice.model_dump() == {
        **DEFAULTS,
        "message_id": "EB-20261125-000871",
        "csd_reference": "EB2026112500871",
        "processing": block("acknowledged"),
        "matching": block("matched"),
        "isin": "DE0001102614",
        "currency": "EUR",
        "credit_debit": "DBIT",
        "securities_movement": "RECE",
        "payment": "APMT",
    }
    assert read_.locations["isin"] == f"{ADVC}/TxDtls/FinInstrmId/ISIN"
    assert read_.locations["currency"] == f"{ADVC}/TxDtls/SttlmAmt/Amt/@Ccy"


def test_an_unmatched_advice_in_its_envelope_takes_the_message_id_from_the_header() -> None:
    read_ = read(sample("sese024_unmatched.xml"), None)

    assert read_.version == "sese.024.001.12"
    # Every block is read: unmatched with its reasons, and pending with none.
    assert read_.advice.model_dump() == {
        **DEFAULTS,
        "message_id": "EB-20261125-000872",
        "sender": "MGTCBEBEECL",
        "matching": block("unmatched", iso("DQUA", "Counterparty instructs 990000"), iso("DDEA")),
        "settlement": block("pending"),
    }
    # Listed as what is not good news: unmatched.
    assert read_.advice.headline().status == "unmatched"


def test_a_failing_advice_of_a_matched_instruction_keeps_both_statuses() -> None:
    assert advice_of(sample("sese024_failing.xml")) == {
        **DEFAULTS,
        "message_id": "MSG-1",
        "csd_reference": "EB2026112600113",
        "matching": block("matched"),
        "settlement": block("failing", iso("LACK", "Insufficient securities of the deliverer")),
    }


def test_a_partial_confirmation_reads_the_face_amount_cash_and_effective_date() -> None:
    read_ = read(sample("sese025_partial.xml"), None)

    assert read_.version == "sese.025.001.12"
    assert read_.advice.model_dump() == {
        **DEFAULTS,
        "message_id": "EB-20261126-004410",
        "message_type": "sese.025",
        "sender": "MGTCBEBEECL",
        "csd_reference": "EB2026112604410",
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
    assert read_.locations["settled_quantity"] == f"{CONF}/QtyAndAcctDtls/SttldQty/Qty/FaceAmt"
    assert read_.locations["settlement_date"] == f"{CONF}/TradDtls/FctvSttlmDt/Dt"


def test_the_last_part_reads_parc_as_final_and_a_date_time_as_its_day() -> None:
    read_ = read(sample("sese025_final.xml"), "EB-20261126-004977")

    assert read_.version == "sese.025.001.11"
    advice = read_.advice
    assert (
        advice.message_id,
        advice.settled_quantity,
        advice.settled_amount,
        advice.settlement_date,
        advice.partial,
    ) == ("EB-20261126-004977", Decimal("600000"), Decimal("474047.67"), date(2026, 11, 26), False)


def test_shares_settle_in_units_and_a_confirmation_without_prtlsttlm_is_undecided() -> None:
    text = (
        sample("sese025_final.xml")
        .replace("<FaceAmt>600000</FaceAmt>\n        </Qty>", "<Unit>100</Unit>\n        </Qty>")
        .replace("<PrtlSttlm>PARC</PrtlSttlm>", "")
    )

    advice = read(text).advice

    assert (advice.settled_quantity, advice.partial) == (Decimal("100"), None)


def test_a_prefixed_namespace_reads_the_same() -> None:
    text = (
        sample("sese024_failing.xml")
        .replace('<Document xmlns="', '<s:Document xmlns:s="')
        .replace("</Document>", "</s:Document>")
    )
    for tag in ("SctiesSttlmTxStsAdvc", "TxId", "AcctOwnrTxId", "AcctSvcrTxId", "MtchgSts"):
        text = text.replace(f"<{tag}>", f"<s:{tag}>").replace(f"</{tag}>", f"</s:{tag}>")
    for tag in ("SttlmSts", "Flng", "Rsn", "Cd", "AddtlRsnInf"):
        text = text.replace(f"<{tag}>", f"<s:{tag}>").replace(f"</{tag}>", f"</s:{tag}>")
    text = text.replace("<Mtchd/>", "<s:Mtchd/>")

    assert advice_of(text) == advice_of(sample("sese024_failing.xml"))


# Refused: not XML, or not safe to read ---------------------------------------------------------


def test_malformed_xml_is_refused_naming_the_body() -> None:
    [problem] = refused(sample("sese025_partial.xml")[:900])

    assert problem.field == "body"
    assert problem.message.startswith("is not well-formed XML (")


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.024.001.13">&lol3;</Document>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.024.001.13">
  <SctiesSttlmTxStsAdvc><TxId><AcctOwnrTxId>&xxe;</AcctOwnrTxId></TxId></SctiesSttlmTxStsAdvc>
</Document>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/sese.dtd">
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.024.001.13"/>"""


@pytest.mark.parametrize(
    "text",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD],
    ids=["entity-expansion", "external-entity", "external-dtd"],
)
def test_a_dtd_is_refused_so_no_entity_is_ever_expanded_or_fetched(text: str) -> None:
    assert refused(text) == [
        FieldProblem("body", "a DTD is not allowed: entities are never expanded")
    ]


# Refused: not a message we read ----------------------------------------------------------------


SUPPORTED = (
    "urn:iso:std:iso:20022:tech:xsd:sese.024.001.12, "
    "urn:iso:std:iso:20022:tech:xsd:sese.024.001.13, "
    "urn:iso:std:iso:20022:tech:xsd:sese.025.001.11, "
    "urn:iso:std:iso:20022:tech:xsd:sese.025.001.12"
)


@pytest.mark.parametrize(
    "namespace",
    [
        "urn:iso:std:iso:20022:tech:xsd:sese.025.001.05",  # a version we do not read
        "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08",  # another message
        "",  # no namespace at all
    ],
)
def test_a_document_in_another_namespace_is_refused_naming_the_ones_read(namespace: str) -> None:
    text = sample("sese025_final.xml").replace(
        'xmlns="urn:iso:std:iso:20022:tech:xsd:sese.025.001.11"',
        f'xmlns="{namespace}"' if namespace else "",
    )

    assert refused(text) == [
        FieldProblem("Document", f"has the namespace '{namespace}', not one of {SUPPORTED}")
    ]


def test_an_envelope_without_a_document_is_refused() -> None:
    assert refused("<BizData><Hdr/></BizData>") == [
        FieldProblem("Document", "is missing: the message (BizData) holds no ISO 20022 Document")
    ]


def test_a_confirmation_in_the_status_advice_namespace_is_refused() -> None:
    text = sample("sese025_final.xml").replace("sese.025.001.11", "sese.024.001.13")

    assert refused(text) == [FieldProblem(f"Document/{ADVC}", "is missing")]


def test_elements_outside_the_documents_namespace_are_not_read() -> None:
    text = sample("sese025_final.xml").replace("<TradDtls>", '<TradDtls xmlns="urn:other">')

    assert refused(text) == [FieldProblem(f"{CONF}/TradDtls", "is missing")]


# Refused: what is read is missing or wrong -----------------------------------------------------


def test_every_missing_element_is_named() -> None:
    text = (
        sample("sese025_partial.xml")
        .replace(f"<AcctOwnrTxId>{SAMPLE_INSTRUCTION}</AcctOwnrTxId>", "")
        .replace(
            "<FctvSttlmDt>\n            <Dt>\n              <Dt>2026-11-26</Dt>\n"
            "            </Dt>\n          </FctvSttlmDt>",
            "",
        )
        .replace("<CdtDbtInd>DBIT</CdtDbtInd>\n        </SttldAmt>", "</SttldAmt>")
    )

    assert refused(text, None) == [
        FieldProblem(f"{CONF}/TxIdDtls/AcctOwnrTxId", "is missing"),
        FieldProblem(f"{CONF}/TradDtls/FctvSttlmDt", "is missing"),
        FieldProblem(f"{CONF}/SttldAmt/CdtDbtInd", "is missing"),
    ]


QTY = f"{CONF}/QtyAndAcctDtls/SttldQty/Qty"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        pytest.param(
            "<FaceAmt>600000</FaceAmt>\n        </Qty>",
            "<FaceAmt>6E5</FaceAmt>\n        </Qty>",
            FieldProblem(f"{QTY}/FaceAmt", "'6E5' is not a non-negative decimal"),
            id="exponent",
        ),
        pytest.param(
            "<FaceAmt>600000</FaceAmt>\n        </Qty>",
            "<FaceAmt>-600000</FaceAmt>\n        </Qty>",
            FieldProblem(f"{QTY}/FaceAmt", "'-600000' is not a non-negative decimal"),
            id="negative",
        ),
        pytest.param(
            '<Amt Ccy="EUR">474047.67</Amt>',
            '<Amt Ccy="EUR">474,047.67</Amt>',
            FieldProblem(f"{CONF}/SttldAmt/Amt", "'474,047.67' is not a non-negative decimal"),
            id="thousands-separator",
        ),
        pytest.param(
            '<Amt Ccy="EUR">474047.67</Amt>',
            "<Amt>474047.67</Amt>",
            FieldProblem(f"{CONF}/SttldAmt/Amt/@Ccy", "is missing"),
            id="no-currency",
        ),
        pytest.param(
            '<Amt Ccy="EUR">',
            '<Amt Ccy="EUX">',
            FieldProblem(f"{CONF}/SttldAmt/Amt/@Ccy", "'EUX' is not an ISO 4217 currency code"),
            id="unknown-currency",
        ),
        pytest.param(
            "<CdtDbtInd>DBIT</CdtDbtInd>",
            "<CdtDbtInd>DEBIT</CdtDbtInd>",
            FieldProblem(f"{CONF}/SttldAmt/CdtDbtInd", "'DEBIT' is not one of CRDT, DBIT"),
            id="direction",
        ),
        pytest.param(
            "<DtTm>2026-11-26T15:02:44</DtTm>",
            "<Dt>2026-11-31</Dt>",
            FieldProblem(f"{CONF}/TradDtls/FctvSttlmDt/Dt/Dt", "'2026-11-31' is not an ISO date"),
            id="date",
        ),
        pytest.param(
            "<Dt>\n          <DtTm>2026-11-26T15:02:44</DtTm>\n        </Dt>",
            "<DtCd><Cd>UKWN</Cd></DtCd>",
            FieldProblem(
                f"{CONF}/TradDtls/FctvSttlmDt/DtCd", "a date code is not a settlement date"
            ),
            id="date-code",
        ),
        pytest.param(
            "<PrtlSttlm>PARC</PrtlSttlm>",
            "<PrtlSttlm>PART</PrtlSttlm>",
            FieldProblem(f"{CONF}/AddtlParams/PrtlSttlm", "'PART' is not one of PAIN, PARC"),
            id="partial-code",
        ),
        pytest.param(
            "<ISIN>DE0001102614</ISIN>",
            "<ISIN>DE0001102615</ISIN>",
            FieldProblem(
                f"{CONF}/FinInstrmId/ISIN",
                "is not a valid ISIN: The number's checksum or check digit is invalid.",
            ),
            id="isin-check-digit",
        ),
        pytest.param(
            "<FaceAmt>600000</FaceAmt>\n        </Qty>",
            "<FaceAmt>0</FaceAmt>\n        </Qty>",
            None,  # with the amount below also zero
            id="nothing-settled",
        ),
    ],
)
def test_a_wrong_value_is_refused_naming_its_element(
    old: str, new: str, problem: FieldProblem | None
) -> None:
    text = sample("sese025_final.xml")
    assert old in text
    text = text.replace(old, new)
    if problem is None:
        text = text.replace('<Amt Ccy="EUR">474047.67</Amt>', '<Amt Ccy="EUR">0.00</Amt>')
        problem = FieldProblem(f"{QTY}/FaceAmt", "nothing settled: both are zero")

    assert refused(text) == [problem]


def test_a_status_advice_without_a_status_is_refused() -> None:
    text = sample("sese024_matched.xml").replace("<MtchgSts>\n      <Mtchd/>\n    </MtchgSts>", "")
    text = re.sub(r"<PrcgSts>.*</PrcgSts>", "", text, flags=re.DOTALL)

    assert refused(text) == [
        FieldProblem(
            f"{ADVC}/PrcgSts",
            "is missing (and so are MtchgSts and SttlmSts): nothing is advised",
        )
    ]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        pytest.param(
            "<Cd>LACK</Cd>",
            "<Cd>lack</Cd>",
            FieldProblem(
                f"{ADVC}/SttlmSts/Flng/Rsn[0]/Cd/Cd", "'lack' is not a four-letter reason code"
            ),
            id="lower-case",
        ),
        pytest.param(
            "<Cd>\n            <Cd>LACK</Cd>\n          </Cd>",
            "<Cd><Prtry><Issr>EB</Issr></Prtry></Cd>",
            FieldProblem(f"{ADVC}/SttlmSts/Flng/Rsn[0]/Cd/Prtry/Id", "is missing"),
            id="proprietary-without-id",
        ),
        pytest.param(
            "<Rsn>\n          <Cd>\n            <Cd>LACK</Cd>\n          </Cd>\n"
            "          <AddtlRsnInf>Insufficient securities of the deliverer</AddtlRsnInf>\n"
            "        </Rsn>",
            "",
            FieldProblem(f"{ADVC}/SttlmSts/Flng", "has neither Rsn nor NoSpcfdRsn"),
            id="no-reason",
        ),
        pytest.param(
            "<Flng>",
            "<Prtry><PrtrySts><Id>HOLD</Id><Issr>EB</Issr></PrtrySts></Prtry><Flng>",
            None,  # Flng still read: the first of Pdg or Flng counts
            id="extra-proprietary",
        ),
        pytest.param(
            "Insufficient securities of the deliverer",
            "x" * 251,
            FieldProblem(f"{ADVC}/SttlmSts/Flng", "String should have at most 250 characters"),
            id="long-text",
        ),
    ],
)
def test_a_wrong_reason_is_refused_naming_it(
    old: str, new: str, problem: FieldProblem | None
) -> None:
    text = sample("sese024_failing.xml")
    assert old in text
    text = text.replace(old, new)
    if problem is None:
        assert read(text).advice.settlement.reasons[0].code == "LACK"
    else:
        assert refused(text) == [problem]


# The message id --------------------------------------------------------------------------------


def test_a_document_alone_needs_the_message_id_given_apart() -> None:
    assert refused(sample("sese025_final.xml"), None) == [
        FieldProblem(
            "AppHdr/BizMsgIdr",
            "is missing: send the business application header or the message_id parameter",
        )
    ]


def test_the_header_must_name_the_documents_message_and_the_same_id() -> None:
    text = sample("sese025_partial.xml").replace(
        "<MsgDefIdr>sese.025.001.12</MsgDefIdr>", "<MsgDefIdr>sese.025.001.11</MsgDefIdr>"
    )

    assert refused(text, "EB-20261126-999999") == [
        FieldProblem("AppHdr/MsgDefIdr", "'sese.025.001.11' is not the Document's sese.025.001.12"),
        FieldProblem(
            "AppHdr/BizMsgIdr",
            "'EB-20261126-004410' differs from message_id 'EB-20261126-999999'",
        ),
    ]


def test_the_same_id_given_twice_is_fine() -> None:
    assert read(sample("sese025_partial.xml"), "EB-20261126-004410").advice.message_id == (
        "EB-20261126-004410"
    )
