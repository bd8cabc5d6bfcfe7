"""The depository's daily penalty report reconciled against ours: the Bund bought from Goldman
(tests/penalties/test_csd_penalties_api.py) matched late and failing CLAC, so penalised on
11-26 (late match), 11-27 and 11-30 (settlement fails), all owed to us. The depository's
report has 11-27 at another amount, leaves 11-30 out and has a penalty of a reference we never
sent."""

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest

from tests.clearing.support import OPS
from tests.conftest import Database
from tests.factories import BUND
from tests.penalties.support import penalties, run_penalties
from tests.penalties.test_csd_penalties_api import at, expected
from tests.settlement.advices.test_status_advices_api import (
    bund_receipt,
    created,
    post,
    status_advice,
)
from tests.settlement.support import audit_trail
from tests.support import Api, FrozenClock

pytestmark = pytest.mark.usefixtures("matched_by_advice")

GATEWAY = "gateway"
REPORTS = "/penalty-reports"
PRICES = {"2026-11-26": "71.345", "2026-11-27": "71.12", "2026-11-30": "70.98"}
OFF = Decimal("0.05")  # the depository's 11-27 amount is this much more than ours


def amount(day: str) -> Decimal:
    """nominal x price % x rate, half-even to cents."""
    if day in ("2026-11-26", "2026-11-27"):
        return expected(day)
    return (Decimal(1000000) * Decimal(PRICES[day]) / 100 * Decimal("0.000010")).quantize(
        Decimal("0.01"), ROUND_HALF_EVEN
    )


def detail(penalty_id: str, kind: str, seme: str, days: list[str], value: Decimal) -> str:
    data = "".join(f"<ClctnData><Dt>{day}</Dt></ClctnData>" for day in days)
    return (
        f"<PnltyDtls><Id><MktInfrstrctrId>{penalty_id}</MktInfrstrctrId></Id><Tp>{kind}</Tp>"
        f'<Sts><Sts><Cd>ACTV</Cd></Sts></Sts><CmptdAmt><Amt Ccy="EUR">{value}</Amt>'
        f"<CdtDbt>CRDT</CdtDbt></CmptdAmt>{data}"
        f"<RltdTx><Ref><AcctOwnrTxId>{seme}</AcctOwnrTxId></Ref></RltdTx></PnltyDtls>"
    )


def semt044(message_id: str, details: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><BizMsg>'
        '<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">'
        "<Fr><FIId><FinInstnId><BICFI>CSDXDEFF</BICFI></FinInstnId></FIId></Fr>"
        f"<BizMsgIdr>{message_id}</BizMsgIdr><MsgDefIdr>semt.044.001.01</MsgDefIdr></AppHdr>"
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:semt.044.001.01"><SctiesTxPnltiesRpt>'
        "<RptGnlDtls><RptId>DPL-20261130</RptId><RptDt><Dt>2026-12-01</Dt></RptDt>"
        "<PnltyListTp><Cd>FWIS</Cd></PnltyListTp></RptGnlDtls>"
        "<Pnlty><Ccy>EUR</Ccy><Dt><Dt>2026-11-30</Dt></Dt>"
        "<PtyId><Id><Id><AnyBIC>DEMOFRPPXXX</AnyBIC></Id></Id></PtyId>"
        "<PnltyPerCtrPty><PtyId><Id><Id><AnyBIC>GOLDDEFFXXX</AnyBIC></Id></Id></PtyId>"
        + "".join(details)
        + "</PnltyPerCtrPty></Pnlty></SctiesTxPnltiesRpt></Document></BizMsg>"
    ).encode()


async def penalised(api: Api, clock: FrozenClock) -> tuple[str, str, list[dict[str, Any]]]:
    """The instruction, its SEME and its three penalties."""
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    for day, price in PRICES.items():
        response = await api.post(
            "/prices", json={"isin": BUND, "date": day, "price": price}, role=OPS
        )
        assert response.status_code == 201, response.text
    clock.set(at("2026-11-27"))
    created(await post(api, status_advice(si, "matched")))
    created(await post(api, status_advice(si, "failing", reasons=[{"code": "CLAC"}])))
    assert (await run_penalties(api, "2026-11-27"))["booked"] == 2
    clock.set(at("2026-12-01"))
    assert (await run_penalties(api, "2026-11-30"))["booked"] == 1
    messages = await api.get(f"/settlement-instructions/{si}/messages", role=OPS)
    assert messages.status_code == 200, messages.text
    # Off venue under this fixture nothing is sent: our reference is then the instruction id.
    news = [m["reference"] for m in messages.json() if m["kind"] == "new"]
    return si, news[-1] if news else si, await penalties(api, instruction_id=si)


def side(value: Decimal, days: list[str], ids: list[str]) -> dict[str, Any]:
    return {
        "amount": str(value),
        "currency": "EUR",
        "payer": "counterparty",
        "days": days,
        "penalty_ids": ids,
    }


async def test_a_semt044_with_an_amount_off_a_line_missing_and_one_extra_lists_each(
    api: Api, clock: FrozenClock, db: Database, reference: None
) -> None:
    si, seme, booked = await penalised(api, clock)
    assert [(p["day"], p["kind"]) for p in booked] == [
        ("2026-11-26", "late_matching_fail"),
        ("2026-11-27", "settlement_fail"),
        ("2026-11-30", "settlement_fail"),
    ]
    theirs_27 = amount("2026-11-27") + OFF
    body = semt044(
        "PNL-1",
        [
            detail("P1", "LMFP", seme, ["2026-11-26"], amount("2026-11-26")),
            detail("P2", "SEFP", seme, ["2026-11-27"], theirs_27),
            detail("P9", "SEFP", "NOTOURS0000001", ["2026-11-30"], Decimal("3.21")),
        ],
    )
    headers = {"Content-Type": "application/xml"}
    response = await api.post(REPORTS, content=body, headers=headers, role=GATEWAY)
    assert response.status_code == 201, response.text
    out = response.json()
    assert response.headers["location"] == f"/api/v1/penalty-reports/{out['id']}"
    assert (out["sender"], out["message_id"], out["report_id"], out["source"]) == (
        "CSDXDEFFXXX",
        "PNL-1",
        "DPL-20261130",
        "semt.044.001.01",
    )
    assert (out["days"], out["lines"], out["matched"], out["differing"]) == (
        ["2026-11-26", "2026-11-27", "2026-11-30"],
        3,
        1,
        3,
    )
    assert out["differences"] == [
        {
            "kind": "missing_in_ours",
            "reference": "NOTOURS0000001",
            "instruction_id": None,
            "day": "2026-11-30",
            "penalty_kind": "settlement_fail",
            "ours": None,
            "theirs": side(Decimal("3.21"), ["2026-11-30"], ["P9"]),
            "difference": None,
        },
        {
            "kind": "amount_differs",
            "reference": seme,
            "instruction_id": si,
            "day": "2026-11-27",
            "penalty_kind": "settlement_fail",
            "ours": side(amount("2026-11-27"), ["2026-11-27"], [booked[1]["id"]]),
            "theirs": side(theirs_27, ["2026-11-27"], ["P2"]),
            "difference": str(OFF),
        },
        {
            "kind": "missing_at_depository",
            "reference": seme,
            "instruction_id": si,
            "day": "2026-11-30",
            "penalty_kind": "settlement_fail",
            "ours": side(amount("2026-11-30"), ["2026-11-30"], [booked[2]["id"]]),
            "theirs": None,
            "difference": None,
        },
    ]
    # The same message again: the first answer; other content under its id: refused.
    again = await api.post(REPORTS, content=body, headers=headers, role=OPS)
    assert (again.status_code, again.json()) == (200, out)
    other = body.replace(str(theirs_27).encode(), str(amount("2026-11-27")).encode())
    refused = await api.post(REPORTS, content=other, headers=headers, role=GATEWAY)
    assert refused.status_code == 409, refused.text
    listed = await api.get(REPORTS, role="compliance")
    assert [item["id"] for item in listed.json()["items"]] == [out["id"]]
    one = await api.get(f"{REPORTS}/{out['id']}", role=OPS)
    assert one.json() == out
    # Received once, recorded once: neither the replay nor the refusal adds to the trail.
    trail = await audit_trail(db, out["id"])
    assert [(r.entity_type, r.action, r.actor_role) for r in trail] == [
        ("penalty_report", "received", "gateway")
    ]


async def test_the_json_form_reconciles_the_same(
    api: Api, clock: FrozenClock, reference: None
) -> None:
    si, seme, booked = await penalised(api, clock)
    lines = [
        (booked[0], "late_matching_fail"),
        (booked[1], "settlement_fail"),
        (booked[2], "settlement_fail"),
    ]
    body = {
        "report_id": "DPL-JSON-1",
        "report_date": "2026-12-01",
        "sender": "CSDXDEFFXXX",
        "lines": [
            {
                "penalty_id": f"J{n}",
                "kind": kind,
                "our_reference": seme,
                "days": [penalty["day"]],
                "amount": penalty["amount"],
                "currency": "EUR",
                "payer": "counterparty" if n else "us",
            }
            for n, (penalty, kind) in enumerate(lines)
        ],
    }
    response = await api.post(REPORTS, json=body, role=OPS)
    assert response.status_code == 201, response.text
    out = response.json()
    assert (out["message_id"], out["source"], out["matched"], out["differing"]) == (
        "DPL-JSON-1",
        "json",
        2,
        1,
    )
    (difference,) = out["differences"]
    assert (difference["kind"], difference["instruction_id"], difference["day"]) == (
        "payer_differs",
        si,
        "2026-11-26",
    )
    assert (difference["ours"]["payer"], difference["theirs"]["payer"]) == ("counterparty", "us")


async def test_unreadable_reports_are_refused_naming_where(api: Api) -> None:
    xml = semt044("PNL-BAD", [detail("P1", "XXXX", "S1", ["2026-11-27"], Decimal(1))])
    response = await api.post(
        REPORTS, content=xml, headers={"Content-Type": "application/xml"}, role=GATEWAY
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    (problem,) = response.json()["errors"]
    assert problem["field"] == (
        "Document/SctiesTxPnltiesRpt/Pnlty[1]/PnltyPerCtrPty[1]/PnltyDtls[1]/Tp"
    )
    bad_json = await api.post(REPORTS, json={"report_id": "X", "lines": [{}]}, role=OPS)
    assert bad_json.status_code == 422
    assert bad_json.json()["errors"][0]["field"].startswith("lines.0.")
    text = await api.post(REPORTS, content=b"x", headers={"Content-Type": "text/plain"}, role=OPS)
    assert text.status_code == 415


@pytest.mark.parametrize("role", ["trader", "admin"])
async def test_traders_and_admins_may_not_post_or_read_reports(api: Api, role: str) -> None:
    posted = await api.post(REPORTS, json={"report_id": "X", "lines": []}, role=role)
    assert posted.status_code == 403
    assert (await api.get(REPORTS, role=role)).status_code == 403
    assert (await api.get(f"{REPORTS}/prp_x", role=role)).status_code == 403
