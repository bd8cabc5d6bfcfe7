"""The request body of ``POST /statements`` as OpenAPI declares it: the file itself, in one of
four media types, with an example of each (the route reads the raw body, so FastAPI cannot
derive this)."""

from typing import Any

_CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>STMT-20261125-0001</MsgId><CreDtTm>2026-11-26T06:10:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-2026-330-EUR</Id>
      <ElctrncSeqNb>330</ElctrncSeqNb>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">10000.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-24</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">12500.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-25</Dt></Dt></Bal>
      <Ntry>
        <Amt Ccy="EUR">2500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-25</Dt></BookgDt><ValDt><Dt>2026-11-25</Dt></ValDt>
        <AcctSvcrRef>BANKREF-0001</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs></TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>"""

_MT940 = """{1:F01COBADEFFAXXX0000000000}{2:O9401200261125COBADEFFXXXX00000000002611251200N}{4:
:20:STMT-1125
:25:COBADEFF/DE89370400440532013000
:28C:00330/001
:60F:C261124EUR10000,00
:61:2611251125C2500,00NTRFE2E-1//BANKREF-0001
:86:Settlement trade FO-20261124-000123
:62F:C261125EUR12500,00
-}"""

_CSV = (
    "Konto;Auszug;Buchungstag;Valuta;Betrag;S/H;Verwendungszweck;Name;E2E;Anfangssaldo;Endsaldo\n"
    "DE89370400440532013000;330;25.11.2026;25.11.2026;2.500,00;H;Trade FO-1;Goldman Sachs;E2E-1;"
    "10.000,00;12.500,00\n"
)

_JSON: dict[str, Any] = {
    "statements": [
        {
            "account": "DE89370400440532013000",
            "currency": "EUR",
            "statement_id": "STMT-2026-330-EUR",
            "sequence": 330,
            "opening_balance": {"amount": "10000.00", "date": "2026-11-24"},
            "closing_balance": {"amount": "12500.00", "date": "2026-11-25"},
            "entries": [
                {
                    "amount": "2500.00",
                    "booking_date": "2026-11-25",
                    "value_date": "2026-11-25",
                    "status": "booked",
                    "references": {"end_to_end_id": "E2E-1"},
                    "remittance_information": "Settlement trade FO-20261124-000123",
                    "counterparty": {"name": "Goldman Sachs & Co. LLC", "account": None},
                }
            ],
        }
    ]
}

_TEXT = {"type": "string"}

REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The statement file, byte for byte as the bank sent it. ISO 20022 "
        "camt.052 / camt.053 / camt.054 (.001.02 to .001.13) as `application/xml`; SWIFT "
        "MT940 / MT950 / MT942 as `text/plain`; CSV as `text/csv` with `?mapping=`; the "
        "service's JSON as `application/json`. `?format=` overrides the media type; without "
        "either the content decides. A file may hold several statements.",
        "content": {
            "application/xml": {"schema": _TEXT, "example": _CAMT},
            "text/plain": {"schema": _TEXT, "example": _MT940},
            "text/csv": {"schema": _TEXT, "example": _CSV},
            "application/json": {"schema": {"type": "object"}, "example": _JSON},
        },
    }
}
