"""The open-loop bench's pure helpers: the mix's cycle of request kinds and the arrival schedule."""

import itertools
import random
import statistics

from bench.lib.measure import arrivals
from bench.load import MIX, Phase, interleave


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
