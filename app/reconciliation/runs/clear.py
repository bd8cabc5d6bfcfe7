"""The exact-reference pairs nothing contests, found set-based on PostgreSQL before the matching
engine sees the rest of the day.

When the first rule the engine applies (``engine.in_priority_order``) is an exact-reference
rule, ``by_reference.closest_first`` takes every pair that fits it and whose line and movement
are in no other pair, whatever the order. A line that shares a reference with one movement only,
which shares a reference with that line only, is such a pair when it fits; and taking it out
first changes nothing the engine decides about the rest: no other pair names either item, and a
reference either carries is carried by no other item of the other side, so no other line's
count of movements carrying a reference (the crowding limit) changes, nor what any later rule or
``classify`` sees. So SQL finds these pairs among the account's lines (every line the engine
would be given, with the engine's references: the bank's, and ids of ours in remittance text)
against the free movements the run loaded; the rule's own functions (``fit``) decide whether each
fits; the engine is given only what is left. A day's clean pairs, the great majority of its
lines, never become statement values in Python.

What SQL might read otherwise than Python is left to Python: a line whose remittance text is
not all ASCII (where a word begins depends on the script), or with a reference beginning or
ending with a space or control character, or holding anything but ASCII (Python strips
whitespace of any script), is "doubtful": never part of a pair found here, and its own
references, read by ``inputs``, are checked against every pair's movement before the pair is
taken. ``tests/reconciliation/runs/test_clear_pairs.py`` holds this to the
pure engine for random days."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.reconciliation.matching.fit import amounts_agree, dates_agree
from app.reconciliation.matching.values import BookMovement, Match, Rule, RuleKind

# The day's booked lines of the account's end-of-day statements and the lines of its open
# breaks: whether a match holds each, whether SQL reads it as Python would, and the one free
# movement it shares references with when that movement shares them with it alone.
_CLEAR_PAIRS = text(
    r"""
WITH movement_refs AS (
    SELECT * FROM unnest(CAST(:movement_ids AS text[]), CAST(:movement_refs AS text[]))
        AS m(id, ref)
), lines AS (
    SELECT s.id, b.currency, s.amount, s.value_date, s.booking_date, s."references" AS given,
           s.end_to_end_id, s.instruction_id, s.account_servicer_reference, s.uetr,
           s.remittance_information, i.match_id AS held_by
    FROM statement_entries s
    JOIN bank_statements b ON b.id = s.bank_statement_id
    LEFT JOIN matched_items i ON i.item_kind = 'line' AND i.item_id = s.id
    WHERE (s.account = :account AND s.entry_date = :day AND s.status = 'booked'
           AND b.kind = 'statement')
       OR s.id = ANY (CAST(:carried_line_ids AS text[]))
), free AS (
    SELECT * FROM lines WHERE held_by IS NULL
), raw_refs AS (  -- a scan per source of references: cheaper than a union per line
    SELECT l.id, j.value AS ref FROM free l CROSS JOIN json_each_text(l.given) AS j
    UNION ALL SELECT id, end_to_end_id FROM free
    UNION ALL SELECT id, instruction_id FROM free
    UNION ALL SELECT id, account_servicer_reference FROM free
    UNION ALL SELECT id, uetr FROM free
    UNION ALL
    SELECT l.id, found[1]
    FROM free l
    CROSS JOIN regexp_matches(l.remittance_information, '\m([a-z]{2,5}_[0-9a-z]{26})\M', 'g')
        AS found
    WHERE l.remittance_information LIKE '%\_%'
), given_refs AS (
    SELECT id, ref FROM raw_refs WHERE ref <> ''
), doubtful AS (  -- what Python might strip, or read as a word, otherwise than SQL
    SELECT id FROM given_refs
    WHERE ascii(ref) <= 32 OR ascii(right(ref, 1)) <= 32 OR octet_length(ref) <> length(ref)
    UNION SELECT id FROM free
    WHERE octet_length(remittance_information) <> length(remittance_information)
), pairs AS (
    SELECT DISTINCT r.id AS line_id, m.id AS movement_id
    FROM given_refs r JOIN movement_refs m ON m.ref = r.ref
), counted AS (
    SELECT line_id, movement_id, count(*) OVER (PARTITION BY line_id) AS per_line,
           count(*) OVER (PARTITION BY movement_id) AS per_movement
    FROM pairs
)
SELECT l.id, l.held_by, l.currency, l.amount, l.value_date, l.booking_date,
       c.movement_id AS partner, d.id IS NOT NULL AS doubtful
FROM lines l
LEFT JOIN doubtful d ON d.id = l.id
LEFT JOIN counted c ON c.line_id = l.id AND c.per_line = 1 AND c.per_movement = 1
ORDER BY l.id
"""
)


@dataclass
class Split:
    """A day split between SQL and the engine: the first rule's matches of the pairs nothing
    contests (and the currency of each one's line), the lines left for the engine (with those
    ``doubtful`` among them, read by ``inputs``), and the lines a match holds already (by the
    match's id)."""

    matches: list[Match] = field(default_factory=list)
    currency: dict[str, str] = field(default_factory=dict)  # a match's line id -> currency
    left: list[str] = field(default_factory=list)
    doubtful: set[str] = field(default_factory=set)
    held: dict[str, str] = field(default_factory=dict)

    def take_back(self, movement_ids: Iterable[str]) -> None:
        """Leave to the engine the pairs of these movements (a doubtful line shares a
        reference with them: they may be contested)."""
        wanted = set(movement_ids)
        kept = []
        for m in self.matches:
            if m.movement_ids[0] in wanted:
                self.left.append(m.line_ids[0])
            else:
                kept.append(m)
        self.matches = kept


def applies(session: AsyncSession, rules: Sequence[Rule]) -> Rule | None:
    """The rule SQL matches by: the engine's first, when it is an exact-reference rule that
    needs no counterparty (counterparties are read in Python), on PostgreSQL."""
    enabled = sorted((r for r in rules if r.enabled), key=lambda r: (r.priority, r.name))
    if session.get_bind().dialect.name != "postgresql" or not enabled:
        return None
    first = enabled[0]
    if first.kind is not RuleKind.EXACT_REFERENCE or first.counterparty_must_agree:
        return None
    return first


def _clear_match(rule: Rule, row: Any, movement: BookMovement) -> Match | None:
    value_date: date = row.value_date or row.booking_date or date.min
    if row.currency != movement.currency:
        return None
    amount: Decimal = row.amount
    if not amounts_agree(rule, amount, movement.amount, row.currency):
        return None
    if not dates_agree(rule, value_date, movement.value_date):
        return None
    return Match(
        rule=rule.name,
        line_ids=(row.id,),
        movement_ids=(movement.id,),
        amount_difference=amount - movement.amount,
        value_date_difference=(value_date - movement.value_date).days,
    )


async def split(
    session: AsyncSession,
    rule: Rule,
    *,
    account: str,
    day: date,
    carried_line_ids: Sequence[str],
    movements: Sequence[BookMovement],
) -> Split:
    """See the module. ``movements``: the free movements the engine would be given."""
    by_id = {m.id: m for m in movements}
    owners, references = [], []
    for movement in movements:
        for reference in movement.references:
            owners.append(movement.id)
            references.append(reference)
    rows = await session.execute(
        _CLEAR_PAIRS,
        {
            "movement_ids": owners,
            "movement_refs": references,
            "account": account,
            "day": day,
            "carried_line_ids": list(carried_line_ids),
        },
    )
    found = Split()
    for row in rows:
        if row.held_by is not None:
            found.held[row.id] = row.held_by
            continue
        if row.doubtful:
            found.doubtful.add(row.id)
        elif row.partner is not None and (m := _clear_match(rule, row, by_id[row.partner])):
            found.matches.append(m)
            found.currency[row.id] = row.currency
            continue
        found.left.append(row.id)
    return found
