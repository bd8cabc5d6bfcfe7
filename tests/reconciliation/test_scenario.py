"""The reconciliation scenario: a book day on CASH-EUR and SEC-EB, a camt.053 statement of the
day and of the next, a custodian's holdings, with seeded differences. The runs find every
seeded break, exactly, and nothing else; the cent inside tolerance is matched; the payment a
day late closes the day's break with the match of the next day.

Book (approved adjustments, value date 2026-11-25; those with a counterparty post against it):
A +1000.00 (paid), B +500.00 (the bank never pays: missing), C -200.00 (the bank debits it
twice), D1 +100.00, D2 +250.00, D3 +50.00 from Société Générale (one net payment of 400.00),
E +300.00 (the bank pays 300.01: inside the cent), F +700.00 (the bank pays 700.02: outside),
G +900.00 from Morgan Stanley (paid a day late, without our reference). The bank also charges
a 15.00 fee the book does not know. SEC-EB holds 5,000,000 BUND; the custodian says 4,990,000.
"""

from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from tests.conftest import Database
from tests.factories import BUND
from tests.reconciliation.runs.support import (
    DAY,
    NEXT_DAY,
    OPS,
    reconcile,
    stored_breaks,
    stored_matches,
)
from tests.support import Api, SecondKey

SOCGEN, MORGAN = "O2RNE8IBXP4R0TD8PU41", "9R7GPTSO7KV3UQJZQ078"


def camt_entry(
    amount: str, day: str, *, reference: str | None = None, debtor: str | None = None
) -> str:
    sign = "DBIT" if amount.startswith("-") else "CRDT"
    refs = f"<Refs><EndToEndId>{reference}</EndToEndId></Refs>" if reference else ""
    party = (
        f"<RltdPties><Dbtr><Pty><Nm>{escape(debtor)}</Nm></Pty></Dbtr></RltdPties>"
        if debtor
        else ""
    )
    return f"""<Ntry><Amt Ccy="EUR">{amount.lstrip("-")}</Amt><CdtDbtInd>{sign}</CdtDbtInd>
      <Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>
      <NtryDtls><TxDtls>{refs}{party}</TxDtls></NtryDtls></Ntry>"""


def camt053(sequence: int, day: str, opening: str, closing: str, entries: list[str]) -> bytes:
    def balance(code: str, amount: str, on: str) -> str:
        return f"""<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>
          <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{on}</Dt></Dt></Bal>"""

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
  <GrpHdr><MsgId>SCN-{sequence}</MsgId><CreDtTm>{day}T18:00:00Z</CreDtTm></GrpHdr>
  <Stmt><Id>SCN-STMT-{sequence}</Id><ElctrncSeqNb>{sequence}</ElctrncSeqNb>
    <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
    {balance("OPBD", opening, day)}{balance("CLBD", closing, day)}
    {"".join(entries)}
  </Stmt></BkToCstmrStmt></Document>""".encode()


async def book(
    api: Api, ops2: SecondKey, amount: str, counterparty: str | None = None
) -> tuple[str, str]:
    """An approved adjustment moving cash on CASH-EUR (against the counterparty when given):
    (adjustment id, journal entry id)."""
    lines: list[dict[str, Any]] = [{"account": "CASH-EUR", "asset": "EUR", "amount": amount}]
    kind = "opening"
    if counterparty is not None:
        kind = "correction"
        negated = str(-Decimal(amount))
        lines.append({"account": f"counterparty:{counterparty}", "asset": "EUR", "amount": negated})
    body = {"kind": kind, "reason": "scenario", "value_date": DAY, "lines": lines}
    proposed = await api.post("/adjustments", json=body, role=OPS)
    assert proposed.status_code == 201, proposed.text
    approved = await api.post(f"/adjustments/{proposed.json()['id']}/approve", headers=ops2.headers)
    assert approved.status_code == 200, approved.text
    return approved.json()["id"], approved.json()["entry_id"]


async def receive_camt(api: Api, data: bytes) -> tuple[str, list[str]]:
    response = await api.post("/statements", content=data, role="gateway")
    assert response.status_code == 201, response.text
    [statement] = response.json()["items"]
    read = await api.get(f"/statements/{statement['id']}", role=OPS)
    return statement["id"], [item["id"] for item in read.json()["entries"]]


async def test_the_runs_find_every_seeded_break_and_nothing_else(
    api: Api, ops2: SecondKey, db: Database, reference: None
) -> None:
    a = await book(api, ops2, "1000.00")
    b = await book(api, ops2, "500.00")
    c = await book(api, ops2, "-200.00")
    d = [await book(api, ops2, amount, SOCGEN) for amount in ("100.00", "250.00", "50.00")]
    e = await book(api, ops2, "300.00")
    f = await book(api, ops2, "700.00")
    g = await book(api, ops2, "900.00", MORGAN)
    bund = {"kind": "opening", "reason": "bonds", "value_date": DAY,
            "lines": [{"account": "SEC-EB", "asset": BUND, "amount": "5000000"}]}  # fmt: skip
    held = await api.post("/adjustments", json=bund, role=OPS)
    assert (
        await api.post(f"/adjustments/{held.json()['id']}/approve", headers=ops2.headers)
    ).status_code == 200
    day_one = [
        camt_entry("1000.00", DAY, reference=a[0]),
        camt_entry("-200.00", DAY, reference=c[0]),
        camt_entry("-200.00", DAY, reference=c[0]),
        camt_entry("-15.00", DAY),
        camt_entry("400.00", DAY, debtor="Société Générale SA"),
        camt_entry("300.01", DAY, reference=e[0]),
        camt_entry("700.02", DAY, reference=f[0]),
    ]
    statement, lines = await receive_camt(api, camt053(1, DAY, "0", "1985.03", day_one))
    paid_a, c_once, c_twice, fee, net, cent_in, cent_out = lines
    custodian = [{"isin": BUND, "quantity": "4990000"}]
    holdings = {
        "statements": [
            {"account": "DEMO-EB-0001", "statement_id": "H-1", "statement_date": DAY,
             "holdings": custodian}
        ]
    }  # fmt: skip
    sent = await api.post("/holdings-statements", json=holdings, role="gateway")
    assert sent.status_code == 201, sent.text

    cash = await reconcile(api)
    securities = await reconcile(api, account="SEC-EB")

    assert cash["report"]["cash"]["matches"] == {
        "exact-reference": 2,
        "exact-reference-cent": 1,
        "one-to-many": 1,
    }
    assert cash["report"]["balance"]["difference"] == "-1614.97"
    assert securities["report"]["holdings"]["differences"] == 1
    found = {
        (row.kind, row.amount, tuple(row.statement_entry_ids), tuple(row.movement_ids), row.isin)
        for row in await stored_breaks(db)
    }
    assert found == {
        ("missing_at_bank", Decimal("500.00"), (), (b[1],), None),
        ("missing_in_book", Decimal("-200.00"), (max(c_once, c_twice),), (), None),
        ("missing_in_book", Decimal("-15.00"), (fee,), (), None),
        ("amount_difference", Decimal("0.02"), (cent_out,), (f[1],), None),
        ("missing_at_bank", Decimal("900.00"), (), (g[1],), None),
        ("balance", Decimal("-1614.97"), (), (), None),
        ("holdings", Decimal("-10000"), (), (), BUND),
    }
    matches = {
        (m.rule, tuple(m.statement_entry_ids), tuple(sorted(m.movement_ids)), m.amount_difference)
        for m in await stored_matches(db)
    }
    assert matches == {
        ("exact-reference", (paid_a,), (a[1],), Decimal(0)),
        ("exact-reference", (min(c_once, c_twice),), (c[1],), Decimal(0)),
        ("exact-reference-cent", (cent_in,), (e[1],), Decimal("0.01")),
        ("one-to-many", (net,), tuple(sorted(x[1] for x in d)), Decimal(0)),
    }
    assert statement

    _, [late] = await receive_camt(
        api,
        camt053(
            2,
            NEXT_DAY,
            "1985.03",
            "2885.03",
            [camt_entry("900.00", NEXT_DAY, debtor="Morgan Stanley & Co. LLC")],
        ),
    )
    next_day = await reconcile(api, day=NEXT_DAY)

    assert next_day["report"]["cash"]["matches"] == {"amount-date-counterparty": 1}
    [late_match] = [m for m in await stored_matches(db) if m.statement_entry_ids == [late]]
    assert (late_match.movement_ids, late_match.value_date_difference) == ([g[1]], 1)
    rows = {row.key: row for row in await stored_breaks(db)}
    [g_break] = [row for row in rows.values() if row.movement_ids == [g[1]]]
    assert (g_break.status, g_break.resolution, g_break.closed_by) == (
        "closed",
        "matched",
        late_match.id,
    )
    still_open = {
        (row.kind, row.amount, row.value_date.isoformat())
        for row in rows.values()
        if row.status == "open"
    }
    assert still_open == {
        ("missing_at_bank", Decimal("500.00"), DAY),
        ("missing_in_book", Decimal("-200.00"), DAY),
        ("missing_in_book", Decimal("-15.00"), DAY),
        ("amount_difference", Decimal("0.02"), DAY),
        ("balance", Decimal("-1614.97"), DAY),
        ("holdings", Decimal("-10000"), DAY),
        ("balance", Decimal("-714.97"), NEXT_DAY),
    }
