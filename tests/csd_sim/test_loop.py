"""The loop against a small fake of the service's routes (claim, sent, status advices) over
httpx's ASGITransport: what it claims, reports sent and posts, with which Content-Type."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

from app.settlement.advices.iso20022 import read_advice
from csd_sim.client import ServiceClient, connect
from csd_sim.engine import Engine
from csd_sim.loop import Simulator, business_days
from csd_sim.scenario import Scenario
from tests.csd_sim.support import SETTLEMENT_DAY

MESSAGES = Path(__file__).parent / "messages"


class FakeService:
    """The contract's routes, in memory."""

    def __init__(self, messages: list[dict[str, Any]], refuse: int = 0) -> None:
        self.messages = {m["id"]: {**m, "status": "pending"} for m in messages}
        self.claims: list[int] = []
        self.sent: list[str] = []
        self.advices: list[tuple[str, bytes]] = []
        self.keys: set[str] = set()
        self.refuse = refuse  # refuse the first N advices (422)
        self.app = FastAPI()
        self.app.post("/api/v1/outbound-messages/claim")(self.claim)
        self.app.post("/api/v1/outbound-messages/{message_id}/sent")(self.mark_sent)
        self.app.post("/api/v1/status-advices")(self.advice)

    async def claim(self, request: Request, limit: int) -> dict[str, Any]:
        self.keys.add(request.headers["authorization"])
        self.claims.append(limit)
        pending = [m for m in self.messages.values() if m["status"] == "pending"][:limit]
        for message in pending:
            message["status"] = "claimed"
        return {"items": pending}

    async def mark_sent(self, message_id: str) -> dict[str, Any]:
        self.sent.append(message_id)
        self.messages[message_id]["status"] = "sent"
        return self.messages[message_id]

    async def advice(self, request: Request) -> Response:
        self.advices.append((request.headers["content-type"], await request.body()))
        if len(self.advices) <= self.refuse:
            return Response('{"title": "refused"}', status_code=422)
        return Response('{"id": "adv"}', status_code=201)


def _message(
    number: int, message_format: str, file: str | None, content: str = ""
) -> dict[str, Any]:
    return {
        "id": f"om_{number}",
        "instruction_id": f"si_{number}",
        "kind": "new",
        "format": message_format,
        "reference": f"SI2611240000{number}",
        "related_reference": None,
        "content": (MESSAGES / file).read_text() if file else content,
        "status": "pending",
        "created_at": "2026-11-24T17:00:00Z",
    }


def _simulator(service: FakeService, **settings: Any) -> tuple[Simulator, httpx.AsyncClient]:
    http = connect("http://service", "gw-key", transport=httpx.ASGITransport(app=service.app))
    engine = Engine(Scenario(**settings))
    return Simulator(engine, ServiceClient(http), claim_limit=2), http


async def test_a_step_claims_every_message_marks_it_sent_and_posts_the_answers():
    service = FakeService(
        [
            _message(1, "sese.023.001.11", "sese023_bond_rece.xml"),
            _message(3, "MT541", "mt541_shares.txt"),
            _message(4, "sese.023.001.11", None, "<Document>"),
        ]
    )
    simulator, http = _simulator(service)
    async with http:
        now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
        report = await simulator.step(SETTLEMENT_DAY, now)
        assert service.claims == [2, 2]  # a full batch, then the rest
        assert service.sent == ["om_1", "om_3", "om_4"]
        assert [m.id for m in report.claimed] == ["om_1", "om_3", "om_4"]
        assert report.malformed == ["SI26112400004"]
        assert [(p.message_id, p.status_code) for p in report.posted] == [
            ("SIMM000001", 201),
            ("SIMM000002", 201),
            ("SIMM000003", 201),
        ]
        assert [content_type for content_type, _ in service.advices] == [
            "application/xml",
            "text/plain",
            "application/xml",
        ]
        matched = read_advice(service.advices[0][1]).advice
        assert (matched.message_id, matched.reference, matched.headline().status) == (
            "SIMM000001",
            "SI26112400001",
            "matched",
        )
        mt548 = service.advices[1][1].decode()
        assert mt548.startswith("{1:F01COBADEFFAXXX0000000000}{2:O5480900261125MGTCBEBEAECL")
        assert ":20C::RELA//SI26112400003\r\n" in mt548
        assert ":25D::MTCH//MACH\r\n" in mt548
        rejected = service.advices[2][1].decode()
        assert "<AcctOwnrTxId>SI26112400004</AcctOwnrTxId>" in rejected
        assert "<Rjctd>" in rejected
        assert service.keys == {"Bearer gw-key"}

        report = await simulator.run_day(SETTLEMENT_DAY)
        assert (report.claimed, [p.message_id for p in report.posted]) == (
            [],
            ["SIMM000004", "SIMM000005"],
        )
        confirmation = read_advice(service.advices[3][1]).advice
        assert (confirmation.reference, confirmation.settled_quantity) == (
            "SI26112400001",
            Decimal(1000000),
        )
        assert service.advices[4][1].decode().startswith("{1:F01COBADEFFAXXX0000000000}{2:O545")


async def test_a_refused_answer_is_reported_and_the_loop_goes_on():
    service = FakeService(
        [
            _message(1, "sese.023.001.11", "sese023_bond_rece.xml"),
            _message(3, "MT541", "mt541_shares.txt"),
        ],
        refuse=1,
    )
    simulator, http = _simulator(service, answer_format="xml")
    async with http:
        report = await simulator.run_day(SETTLEMENT_DAY)
    assert [(p.status_code, p.problem) for p in report.posted] == [
        (422, '{"title": "refused"}'),
        (201, None),
        (201, None),
        (201, None),
    ]
    assert {content_type for content_type, _ in service.advices} == {"application/xml"}


async def test_run_polls_until_stopped():
    service = FakeService([_message(1, "sese.023.001.11", "sese023_bond_rece.xml")])
    simulator, http = _simulator(service)
    stop = asyncio.Event()
    lines: list[str] = []

    def echo(line: str) -> None:
        lines.append(line)
        if len(lines) == 2:
            stop.set()

    simulator.echo = echo
    async with http:
        clock = lambda: datetime(2026, 11, 26, 16, tzinfo=UTC)  # noqa: E731
        await asyncio.wait_for(simulator.run(clock=clock, poll_interval=0.01, stop=stop), 5)
    assert service.sent == ["om_1"]
    assert lines == [
        "posted SIMM000001 for SI26112400001",
        "posted SIMM000002 for SI26112400001",
    ]  # matched, then settled: nothing is posted twice


def test_business_days_skip_weekends_and_holidays():
    assert business_days(SETTLEMENT_DAY, 3, frozenset({SETTLEMENT_DAY.replace(day=30)})) == [
        SETTLEMENT_DAY,
        SETTLEMENT_DAY.replace(day=27),
        SETTLEMENT_DAY.replace(month=12, day=1),
    ]
