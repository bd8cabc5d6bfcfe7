"""Our penalties against the depository's report: every difference listed. Pure: plain values in,
plain values out.

Both sides are matched on (our reference (SEME), day, kind):

- a settlement-fail penalty is for the business day failed;
- a late-matching-fail penalty is for the business days from the intended settlement date to the
  matching: the depository sends it as one penalty naming its days (``ClctnData``), we keep one
  line per day; our lines of the same reference are taken together, by the first day, and the
  days are compared too.

Several lines under one key (a penalty reported again, an amended list) are netted: amounts
signed from our side (what we pay negative), so the payer is the net's. A line removed by the
depository (``REMO``) or ours in a status of ``INACTIVE`` is not due: a key with nothing due on
either side agrees, one due on one side only is a difference (``removed`` when the other side
has the line but removed it, ``missing_at_depository`` / ``missing_in_ours`` otherwise).

Where both sides have something due, each of these that disagrees is a difference: the currency,
the payer (who pays whom), the amount (in one currency: both values and theirs minus ours), and
for a late-matching fail the days. The comparisons come ordered by reference, day and kind, the
matched ones included.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.penalties.calculation import Party, PenaltyKind
from app.penalties.reports.model import PenaltyUpdate, ReportedPenalty

INACTIVE = frozenset({"removed", "cancelled", "waived"})


@dataclass(frozen=True)
class OurPenalty:
    """One of our penalty lines, as the service computed it."""

    penalty_id: str
    reference: str  # our instruction's reference, the SEME the depository reports back
    instruction_id: str
    day: date
    kind: PenaltyKind
    amount: Decimal  # never negative: the direction is ``payer``
    currency: str
    payer: Party
    status: str = "active"


class DifferenceKind(StrEnum):
    MISSING_AT_DEPOSITORY = "missing_at_depository"
    MISSING_IN_OURS = "missing_in_ours"
    REMOVED = "removed"  # due on one side, removed on the other
    CURRENCY = "currency"
    PAYER = "payer"
    AMOUNT = "amount"
    DAYS = "days"


@dataclass(frozen=True)
class Side:
    """What one side says is due under a key: the net of its lines still due."""

    amount: Decimal  # never negative
    currency: str  # one code, or the codes met joined by "," when lines disagree
    payer: Party | None  # None: nothing due (the lines net to zero)
    days: tuple[date, ...]


@dataclass(frozen=True)
class Comparison:
    reference: str
    day: date
    kind: PenaltyKind
    ours: tuple[OurPenalty, ...]
    theirs: tuple[ReportedPenalty, ...]
    our_side: Side | None  # None: nothing due on our side
    their_side: Side | None
    differences: tuple[DifferenceKind, ...]
    amount_difference: Decimal | None  # theirs minus ours (amounts; None: currencies differ)

    @property
    def matched(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class Reconciliation:
    comparisons: tuple[Comparison, ...]

    @property
    def matched(self) -> tuple[Comparison, ...]:
        return tuple(c for c in self.comparisons if c.matched)

    @property
    def differing(self) -> tuple[Comparison, ...]:
        return tuple(c for c in self.comparisons if not c.matched)


Key = tuple[str, date, PenaltyKind]


def reconcile(ours: Iterable[OurPenalty], theirs: Iterable[ReportedPenalty]) -> Reconciliation:
    """Every key on either side compared, in (reference, day, kind) order."""
    our_groups = _our_groups(ours)
    their_groups: dict[Key, list[ReportedPenalty]] = defaultdict(list)
    for line in theirs:
        their_groups[(line.our_reference, line.day, line.kind)].append(line)
    keys = sorted(set(our_groups) | set(their_groups), key=lambda k: (k[0], k[1], k[2].value))
    return Reconciliation(
        tuple(_compare(key, our_groups.get(key, []), their_groups.get(key, [])) for key in keys)
    )


def _our_groups(ours: Iterable[OurPenalty]) -> dict[Key, list[OurPenalty]]:
    """Settlement fails by their day; late-matching fails of a reference together, by their
    first day."""
    groups: dict[Key, list[OurPenalty]] = defaultdict(list)
    late: dict[str, list[OurPenalty]] = defaultdict(list)
    for line in ours:
        if line.kind == PenaltyKind.LATE_MATCHING_FAIL:
            late[line.reference].append(line)
        else:
            groups[(line.reference, line.day, line.kind)].append(line)
    for reference, lines in late.items():
        first = min(line.day for line in lines)
        groups[(reference, first, PenaltyKind.LATE_MATCHING_FAIL)].extend(lines)
    return groups


def _side(lines: Sequence[tuple[Decimal, str, Party, Iterable[date]]]) -> Side | None:
    if not lines:
        return None
    net = sum(
        (amount if payer == Party.COUNTERPARTY else -amount for amount, _, payer, _ in lines),
        Decimal(0),
    )
    currencies = sorted({currency for _, currency, _, _ in lines})
    days = sorted({day for *_, line_days in lines for day in line_days})
    payer = None if net == 0 else Party.COUNTERPARTY if net > 0 else Party.US
    return Side(abs(net), ",".join(currencies), payer, tuple(days))


def _compare(key: Key, ours: list[OurPenalty], theirs: list[ReportedPenalty]) -> Comparison:
    reference, day, kind = key
    ours = sorted(ours, key=lambda line: (line.day, line.penalty_id))
    theirs = sorted(theirs, key=lambda line: (line.days, line.penalty_id))
    our_side = _side(
        [(o.amount, o.currency, o.payer, (o.day,)) for o in ours if o.status not in INACTIVE]
    )
    their_side = _side(
        [
            (t.amount, t.currency, t.payer, t.days)
            for t in theirs
            if t.update != PenaltyUpdate.REMOVED
        ]
    )
    differences: list[DifferenceKind] = []
    amount_difference = None
    if our_side is None and their_side is not None:
        differences.append(DifferenceKind.REMOVED if ours else DifferenceKind.MISSING_IN_OURS)
    elif their_side is None and our_side is not None:
        differences.append(
            DifferenceKind.REMOVED if theirs else DifferenceKind.MISSING_AT_DEPOSITORY
        )
    elif our_side is not None and their_side is not None:
        differences, amount_difference = _differences(kind, our_side, their_side)
    return Comparison(
        reference=reference,
        day=day,
        kind=kind,
        ours=tuple(ours),
        theirs=tuple(theirs),
        our_side=our_side,
        their_side=their_side,
        differences=tuple(differences),
        amount_difference=amount_difference,
    )


def _differences(
    kind: PenaltyKind, ours: Side, theirs: Side
) -> tuple[list[DifferenceKind], Decimal | None]:
    differences: list[DifferenceKind] = []
    amount_difference = None
    if ours.currency != theirs.currency:
        differences.append(DifferenceKind.CURRENCY)
    if ours.payer != theirs.payer:
        differences.append(DifferenceKind.PAYER)
    if ours.currency == theirs.currency:
        amount_difference = theirs.amount - ours.amount
        if amount_difference:
            differences.append(DifferenceKind.AMOUNT)
    if kind == PenaltyKind.LATE_MATCHING_FAIL and ours.days != theirs.days:
        differences.append(DifferenceKind.DAYS)
    return differences, amount_difference
