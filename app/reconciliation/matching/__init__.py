"""Reconciliation matching: statement lines against book movements by rules taken in priority
order, what is left classified into breaks, breaks aged in business days. Pure: no database;
the runs load the lines, the movements and the rules, call these functions and store the result.
"""

from app.reconciliation.matching.ageing import AgeingBucket, ageing
from app.reconciliation.matching.breaks import BreakCandidate, BreakKind, classify
from app.reconciliation.matching.engine import match
from app.reconciliation.matching.values import (
    BookMovement,
    GaveUp,
    Match,
    Outcome,
    Rule,
    RuleKind,
    StatementLine,
    item_key,
)

__all__ = [
    "AgeingBucket",
    "BookMovement",
    "BreakCandidate",
    "BreakKind",
    "GaveUp",
    "Match",
    "Outcome",
    "Rule",
    "RuleKind",
    "StatementLine",
    "ageing",
    "classify",
    "item_key",
    "match",
]
