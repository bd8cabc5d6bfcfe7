"""A real HTTP receiver on 127.0.0.1 (an ephemeral port): it records every request it gets and
answers what the test tells it to: a status, at once or after a while (a receiver that hangs)."""

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Receipt:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.monotonic()
    answered: int  # the status it answered (or would have, had the relay waited)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def verify_standard_webhook(secret: str, receipt: Receipt, *, tolerance: int = 300) -> bool:
    """What a receiver does, per the Standard Webhooks specification, written here apart from
    the app: HMAC-SHA256 keyed with the base64-decoded secret (after ``whsec_``) over
    ``{id}.{timestamp}.{body}``, compared with each ``v1,`` signature; a timestamp too far
    from now is refused (replays)."""
    msg_id = receipt.headers["webhook-id"]
    timestamp = receipt.headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{msg_id}.{timestamp}.".encode() + receipt.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in receipt.headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


@dataclass(frozen=True)
class Slow:
    """Answer ``status`` after ``seconds`` (past the relay's timeout: a receiver that hangs)."""

    seconds: float
    status: int = 200


Answer = Callable[["Receiver", str], "int | Slow"]


@dataclass
class Receiver:
    """``answer(receiver, path)`` says what to answer each request: a status, or ``Slow``."""

    answer: Answer = lambda _receiver, _path: 200
    receipts: list[Receipt] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Receipt]:
        return [r for r in self.receipts if r.path == path]

    def delivered(self, path: str) -> list[Receipt]:
        """Receipts at ``path`` it answered with a 2xx."""
        return [r for r in self.at(path) if 200 <= r.answered < 300]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _method, path, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            answer = self.answer(self, path)
            slow = answer if isinstance(answer, Slow) else Slow(0.0, answer)
            self.receipts.append(Receipt(path, headers, body, time.monotonic(), slow.status))
            await asyncio.sleep(slow.seconds)
            status = slow.status
            writer.write(
                f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def receiving(answer: Answer | None = None) -> AsyncIterator[Receiver]:
    receiver = Receiver() if answer is None else Receiver(answer)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        # Hanging handlers are cancelled with the test's tasks; do not wait for them.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 1)
