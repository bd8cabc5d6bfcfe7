"""The service's HTTP API as the simulator uses it (a key of role ``gateway``): claim the
outbound messages, report them sent, post the answers. Nothing else of the service is known."""

from dataclasses import dataclass
from typing import Any

import httpx

from csd_sim.answers import Outgoing

API = "/api/v1"


@dataclass(frozen=True)
class OutboundMessage:
    id: str
    kind: str
    format: str
    reference: str
    related_reference: str | None
    content: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "OutboundMessage":
        return cls(
            id=str(data["id"]),
            kind=str(data["kind"]),
            format=str(data["format"]),
            reference=str(data["reference"]),
            related_reference=data.get("related_reference"),
            content=str(data["content"]),
        )


@dataclass(frozen=True)
class Posted:
    """One answer posted: the service's status code (201, or 200 for a replay) and, when it
    refused the answer, its problem text."""

    message_id: str
    status_code: int
    problem: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status_code in (200, 201)


def connect(
    url: str, api_key: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A client for the service at ``url`` (an ASGITransport runs it in process)."""
    return httpx.AsyncClient(
        base_url=url,
        transport=transport,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=httpx.Timeout(30.0, connect=5.0),
    )


class ServiceClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def claim(self, limit: int) -> list[OutboundMessage]:
        response = await self.http.post(f"{API}/outbound-messages/claim", params={"limit": limit})
        response.raise_for_status()
        return [OutboundMessage.from_json(item) for item in response.json()["items"]]

    async def mark_sent(self, message_id: str) -> None:
        response = await self.http.post(f"{API}/outbound-messages/{message_id}/sent")
        response.raise_for_status()

    async def post_advice(self, outgoing: Outgoing) -> Posted:
        response = await self.http.post(
            f"{API}/status-advices",
            content=outgoing.body,
            headers={"Content-Type": outgoing.content_type},
        )
        problem = None if response.status_code in (200, 201) else response.text[:2000]
        return Posted(outgoing.message_id, response.status_code, problem)
