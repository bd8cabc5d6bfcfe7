"""The pure parts: event type patterns, Standard Webhooks signatures, the retry back-off."""

import base64
import random
from datetime import timedelta

import pytest

from app.events import signing
from app.events.backoff import Backoff
from app.events.types import event_id, pattern_problem, select_types


@pytest.mark.parametrize(
    "pattern",
    ["*", "trade.amended", "trade.*", "settlement_instruction.partially_settled", "a", "x1.y_2.*"],
)
def test_valid_patterns(pattern: str) -> None:
    assert pattern_problem(pattern) is None


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "Trade.amended",
        "trade.",
        ".trade",
        "trade..amended",
        "trade.**",
        "*.amended",
        "trade.*.x",
        "1trade",
        "trade amended",
        "trade-amended",
        "trade.*,x",
        "a" * 81,
    ],
)
def test_invalid_patterns(pattern: str) -> None:
    assert pattern_problem(pattern) is not None


def test_a_selection_admits_exact_types_and_prefixes_only() -> None:
    selection = select_types(["trade.amended", "settlement_instruction.*", "trade.amended"])
    assert (selection.exact, selection.prefixes) == (
        ("trade.amended",),
        ("settlement_instruction.",),
    )
    assert selection.admits("trade.amended")
    assert selection.admits("settlement_instruction.settled")
    assert not selection.admits("trade.captured")
    assert not selection.admits("settlement_instruction")
    assert not selection.admits("settlement_instructions.settled")


def test_star_admits_everything() -> None:
    selection = select_types(["trade.amended", "*"])
    assert selection.exact is None
    assert selection.admits("anything.at_all")


def test_event_ids_derive_from_the_seq_and_sort_with_it() -> None:
    assert event_id(42) == "evt_00000000000000000000000042"
    assert sorted(event_id(n) for n in (10, 9, 100)) == [event_id(9), event_id(10), event_id(100)]


def test_the_signature_matches_the_standard_webhooks_test_vector() -> None:
    signature = signing.sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        message_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_headers_carry_id_timestamp_and_signature() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = signing.headers(secret, message_id="evt_1", timestamp=1700000000, body=b"{}")
    assert headers == {
        "webhook-id": "evt_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": signing.sign(
            secret, message_id="evt_1", timestamp=1700000000, body=b"{}"
        ),
    }


def test_new_secrets_are_whsec_and_32_random_bytes() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
    assert signing.secret_key(first) == base64.b64decode(first[6:])
    assert first != second


def test_the_window_doubles_from_the_base_up_to_the_cap() -> None:
    backoff = Backoff(base_seconds=5, cap_seconds=60)
    assert [backoff.window(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert backoff.window(10_000) == 60


def test_full_jitter_waits_anywhere_in_the_window() -> None:
    backoff = Backoff(base_seconds=5, cap_seconds=60)
    assert backoff.delay(3, lambda: 0.0) == timedelta(0)
    assert backoff.delay(3, lambda: 1.0) == timedelta(seconds=20)
    assert backoff.delay(3, lambda: 0.25) == timedelta(seconds=5)
    rng = random.Random(14)
    delays = [backoff.delay(4, rng.random).total_seconds() for _ in range(1000)]
    assert all(0 <= d <= 40 for d in delays)
    assert min(delays) < 4  # spread over the whole window
    assert max(delays) > 36
