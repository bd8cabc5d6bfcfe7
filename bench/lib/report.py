"""What a bench hands back (measures and checks) and how it is printed: fixed-width tables, and
the one summary table ``make bench`` prints for every bench."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

SUMMARY_HEADERS = (
    "bench",
    "measure",
    "value",
    "baseline (same run)",
    "ratio",
    "goal",
    "p50",
    "p99",
    "peak RSS",
)
# What fmt_ratio writes: the summary shows the ratio and its goal in columns of their own.
_RATIO = re.compile(r"^(?P<ratio>\S+) \((?P<verdict>meets|under) goal (?P<goal>\S+)\)$")


@dataclass(frozen=True)
class Measure:
    """One row of the summary: a figure, what it is compared with, and how it spreads."""

    name: str
    value: str
    baseline: str = ""
    ratio: str = ""
    p50: str = ""
    p99: str = ""
    peak: str = ""

    @staticmethod
    def timed(name: str, value: str, latencies: Sequence[float], **more: str) -> Measure:
        """With the p50 and p99 of ``latencies`` (seconds)."""
        p50, p99 = (fmt_ms(percentile(latencies, q)) for q in (50, 99))
        return Measure(name, value, p50=p50, p99=p99, **more)


@dataclass(frozen=True)
class Check:
    name: str
    expected: object
    found: object

    @property
    def ok(self) -> bool:
        return self.expected == self.found


@dataclass
class Result:
    bench: str
    command: str
    measures: list[Measure] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str | None = None
) -> str:
    """The first column left-aligned, the others right-aligned."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [
        max([len(header), *(len(row[i]) for row in cells if i < len(row))])
        for i, header in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.ljust(width) if i == 0 else value.rjust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=False))
        ).rstrip()

    out = [title] if title else []
    out += [line(headers), "  ".join("-" * width for width in widths)]
    out += [line(row) for row in cells]
    return "\n".join(out)


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def fmt_ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    return f"{seconds:,.2f} s" if seconds >= 1 else f"{seconds * 1000:,.1f} ms"


def fmt_mib(mib: float | None) -> str:
    return "-" if mib is None else f"{mib:,.0f} MiB"


def fmt_ratio(value: float, goal: float) -> str:
    """The ratio and whether it meets ``goal`` (a lower bound)."""
    return f"{value:.4f} ({'meets' if value >= goal else 'under'} goal {goal:g})"


def ratio_and_goal(ratio: str) -> tuple[str, str]:
    """``fmt_ratio``'s text as the summary's two columns: "0.3100 UNDER", ">= 0.5"."""
    found = _RATIO.match(ratio)
    if found is None:
        return ratio, ""
    verdict = "meets" if found["verdict"] == "meets" else "UNDER"
    return f"{found['ratio']} {verdict}", f">= {found['goal']}"


def checks_table(result: Result) -> str:
    rows = [
        [c.name, _shown(c.expected), _shown(c.found), "yes" if c.ok else "NO"]
        for c in result.checks
    ]
    return render_table(["check", "expected", "found", "ok"], rows, title=f"{result.bench}: checks")


def _shown(value: object) -> str:
    return fmt_int(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)


def summary(results: Sequence[Result]) -> str:
    rows: list[list[str]] = []
    for result in results:
        for i, m in enumerate(result.measures):
            ratio, goal = ratio_and_goal(m.ratio)
            rows.append(
                [
                    result.bench if i == 0 else "",
                    m.name,
                    m.value,
                    m.baseline,
                    ratio,
                    goal,
                    m.p50,
                    m.p99,
                    m.peak,
                ]
            )
        held = len(result.checks) - len(result.failed)
        rows.append(["", "checks hold", f"{held}/{len(result.checks)}", *[""] * 6])
    return render_table(SUMMARY_HEADERS, rows)
