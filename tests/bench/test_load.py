"""The open-loop bench's pure helpers: the mix's cycle of request kinds and the arrival schedule."""

import itertools
import json
import math
import random
import statistics

from bench.ingest import Payloads
from bench.lib.loadgen import LOST, NOT_SENT, UNANSWERED, Outcome
from bench.lib.measure import arrivals
from bench.load import MIX, Phase, Workload, interleave
from bench.load import UNANSWERED as UNANSWERED_ERROR


def test_interleave_gives_each_kind_its_weight_per_cycle() -> None:
    cycle = interleave([("a", 3), ("b", 2), ("c", 1)])

    assert cycle == ["a", "b", "a", "c", "b", "a"]


def test_interleave_of_the_bench_mix_spreads_every_kind_evenly() -> None:
    cycle = interleave(MIX)

    assert len(cycle) == 100
    assert {kind: cycle.count(kind) for kind, _ in MIX} == dict(MIX)
    # Evenly: 30 captures in 100 slots never come more than two in a row.
    runs = "".join("c" if kind == "POST /trades" else "." for kind in cycle)
    assert "ccc" not in runs


def test_arrivals_are_increasing_inside_the_window_at_the_rate() -> None:
    times = arrivals(200.0, 50.0, random.Random(7))

    assert times == sorted(times)
    assert times[0] > 0
    assert times[-1] < 50.0
    # 10,000 expected; a Poisson count's standard deviation is 100.
    assert 9_700 < len(times) < 10_300
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert abs(statistics.fmean(gaps) - 1 / 200) < 0.0002
    # Exponential gaps: the standard deviation equals the mean (constant gaps would have 0).
    assert abs(statistics.stdev(gaps) - 1 / 200) < 0.0003


def test_arrivals_are_fixed_by_the_seed_alone() -> None:
    assert arrivals(5.0, 10.0, random.Random(1)) == arrivals(5.0, 10.0, random.Random(1))
    assert arrivals(5.0, 10.0, random.Random(1)) != arrivals(5.0, 10.0, random.Random(2))


def test_a_phase_keeps_latencies_of_2xx_and_counts_everything_else_by_name() -> None:
    phase = Phase("p", 10.0)

    phase.record("POST /trades", 201, 0.040, since_start=1.0)
    phase.record("POST /trades", 500, 0.900, since_start=1.5)
    phase.record("POST /confirmations", "201 unmatched", 0.030, since_start=2.0)
    phase.record("GET /trades", "ReadTimeout", 30.0, since_start=4.0)
    phase.record("GET /trades", 200, 0.010, since_start=0.5)

    assert phase.kinds["POST /trades"].latencies == [0.040]
    assert phase.kinds["POST /trades"].errors == {"500": 1}
    assert phase.kinds["POST /confirmations"].errors == {"201 unmatched": 1}
    assert phase.kinds["GET /trades"].count == 2
    assert (phase.ok, phase.errors) == (2, 3)
    assert phase.achieved == 2 / 4.0  # 2xx answers over the time to the last answer


def trade(n: int) -> dict[str, str]:
    return {
        "id": f"id-{n}",
        "external_id": f"E{n}",
        "status": "captured",
        "counterparty_lei": "LEI1",
        "isin": "DE0007164600",
        "side": "buy",
        "quantity": "100",
        "price": "50.25",
        "currency": "EUR",
        "trade_date": "2026-11-24",
        "settlement_date": "2026-11-26",
        "net_amount": "5026.50",
    }


def test_a_phase_built_beforehand_is_settled_from_the_generators_answers() -> None:
    instrument = {"type": "equity", "isin": "DE0007164600", "currency": "EUR", "mic": "XETR"}
    keys = {role: {"Authorization": f"Bearer {role}"} for role in ("trader", "gateway")}
    work = Workload({}, Payloads([instrument], ["LEI1"]), "T", keys)
    work.unconfirmed.extend([trade(1), trade(2), trade(3)])
    work.ids.append("id-1")

    batch = work.build(8)
    statuses = [201, 201, 200, 200, LOST, 200, UNANSWERED, NOT_SENT]
    bodies = [json.dumps(trade(9)).encode(), b'{"status":"unmatched"}', *[b""] * 6]
    latencies = [0.5, 0.25, 0.125, 0.125, 1.0, 0.25, 30.0, math.nan]
    ended = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, math.nan]
    outcome = Outcome(statuses, latencies, ended, [0] * 8, bodies, [], 0.0, 8.0, 32, 0, [])
    phase = Phase("p", None)
    work.settle(phase, batch, outcome)

    assert batch.kinds == [
        "POST /trades",
        "POST /confirmations",
        "GET /trades/{id}",
        "GET /trades",
        "POST /trades",
        "GET /positions",
        "GET /cash-balances",
        "POST /confirmations",
    ]
    assert batch.requests[1].startswith(b"POST /api/v1/confirmations HTTP/1.1\r\n")
    assert b"Authorization: Bearer gateway\r\nIdempotency-Key: lc-T-1\r\n" in batch.requests[1]
    assert b'"trade_reference":"E1","side":"sell"}' in batch.requests[1]
    assert batch.requests[2].startswith(b"GET /api/v1/trades/id-1 HTTP/1.1\r\n")
    assert batch.requests[3].startswith(b"GET /api/v1/trades?limit=50 HTTP/1.1\r\n")
    assert phase.kinds["POST /trades"].latencies == [0.5]
    assert phase.kinds["POST /trades"].errors == {"connection lost": 1}
    assert phase.kinds["POST /confirmations"].errors == {"201 unmatched": 1}
    assert phase.kinds["GET /cash-balances"].errors == {UNANSWERED_ERROR: 1}
    assert (phase.ok, phase.errors, phase.last_answer) == (4, 3, 7.0)
    # The trade of the confirmation never sent goes back first; the one captured joins last.
    assert [t["external_id"] for t in work.unconfirmed] == ["E2", "E3", "E9"]
    assert work.ids == ["id-1", "id-9"]
