"""A cash account's day: statement lines against book movements by the active rules; matches
stored, what is left stored as breaks, and the open breaks the run explains closed (by the
match that explains them, or by the break their items now form). The pairs nothing contests
are matched set-based (``clear``) where the first rule allows; the engine decides the rest."""

from collections import ChainMap, Counter
from collections.abc import Mapping, Sequence, Set
from typing import Any

from app.core.money import format_decimal
from app.reconciliation.breaks import detection
from app.reconciliation.breaks.detection import Closing, FoundBreak, break_key
from app.reconciliation.breaks.models import ReconciliationBreak
from app.reconciliation.matches import service as matches
from app.reconciliation.matches.service import NewMatch
from app.reconciliation.matching import BreakCandidate, Match, Outcome, classify, match
from app.reconciliation.rules import service as rules
from app.reconciliation.runs import clear, inputs
from app.reconciliation.runs.context import RunContext

MAX_LISTED = 100
STORE_PART = 5_000  # matches stored and audited at a time


def _detail(candidate: BreakCandidate) -> str:
    items = ", ".join([*candidate.line_ids, *candidate.movement_ids])
    amount = f"{format_decimal(candidate.amount)} {candidate.currency}"
    return f"{candidate.kind.value.replace('_', ' ')}: {amount} ({items})"


def _found(candidate: BreakCandidate, statement_of: Mapping[str, str]) -> FoundBreak:
    return FoundBreak(
        kind=candidate.kind.value,
        key=break_key(candidate.kind.value, candidate.key),
        amount=candidate.amount,
        since=candidate.since,
        detail=_detail(candidate),
        currency=candidate.currency,
        statement_id=statement_of.get(candidate.line_ids[0]) if candidate.line_ids else None,
        line_ids=candidate.line_ids,
        movement_ids=candidate.movement_ids,
    )


def _closings(
    carried: Sequence[ReconciliationBreak],
    found: Sequence[FoundBreak],
    found_ids: Mapping[str, str | None],
    matched_by: Mapping[str, str | None],
) -> list[Closing]:
    """Open breaks not found again: closed by the match holding all their items, else by the
    break one of their items is in now; left alone when their items were not all seen."""
    found_keys = {item.key for item in found}
    in_break = {i: item.key for item in found for i in (*item.line_ids, *item.movement_ids)}
    closings = []
    for row in carried:
        items = [*row.statement_entry_ids, *row.movement_ids]
        if row.key in found_keys or not items:
            continue
        if all(item in matched_by for item in items):
            by = matched_by[items[0]] or "dry run"
            closings.append(Closing(row, "matched", by, f"Explained by match {by}."))
        elif key := next((in_break[i] for i in items if i in in_break), None):
            by = found_ids.get(key) or key
            closings.append(Closing(row, "superseded", by, f"Its items are in break {by} now."))
    return closings


def _report(loaded: inputs.Inputs, outcome: Outcome, matched: Sequence[Match]) -> dict[str, Any]:
    return {
        "lines": loaded.line_count,
        "movements": loaded.movement_count,
        "already_matched": len(loaded.held),
        "matches": dict(sorted(Counter(m.rule for m in matched).items())),
        "matched_lines": sum(len(m.line_ids) for m in matched),
        "matched_movements": sum(len(m.movement_ids) for m in matched),
        "gave_up_count": len(outcome.gave_up),
        "gave_up": [
            {"rule": note.rule, "item_id": note.item_id, "reason": note.reason}
            for note in outcome.gave_up[:MAX_LISTED]
        ],
    }


async def _store(
    run: RunContext, matched: Sequence[Match], currency: Mapping[str, str], wanted: Set[str]
) -> dict[str, str | None]:
    """Store the matches (unless a dry run), ``STORE_PART`` at a time: a part's rows, items
    and audit images are all a day's matches hold in memory at once. The match of each
    ``wanted`` item (None in a dry run)."""
    matched_by: dict[str, str | None] = {}
    for start in range(0, len(matched), STORE_PART):
        part = [
            NewMatch(
                m.rule,
                m.line_ids,
                m.movement_ids,
                currency[m.line_ids[0]],
                m.amount_difference,
                m.value_date_difference,
            )
            for m in matched[start : start + STORE_PART]
        ]
        ids: dict[str, str] = {}
        if run.write:
            ids = await matches.store(
                run.session, part, account=run.account, value_date=run.day, run_id=run.run_id,
                actor=run.actor, now=run.now,
            )  # fmt: skip
        for new in part:
            for item in (*new.line_ids, *new.movement_ids):
                if item in wanted:
                    matched_by[item] = ids.get(new.key)
    return matched_by


async def reconcile(run: RunContext) -> dict[str, Any]:
    """See the module; the cash part of the run's report."""
    session = run.session
    carried = await detection.carried(session, account=run.account, up_to=run.day)
    active = await rules.active_rules(session)
    loaded = await inputs.load(
        session,
        account=run.account,
        day=run.day,
        carried=carried,
        first=clear.applies(session, active),
    )
    outcome = match(loaded.lines, loaded.movements, active)
    currency = ChainMap(loaded.clear_currency, {line.id: line.currency for line in loaded.lines})
    matched = [*loaded.clear, *outcome.matches]
    # Only the items of carried breaks are asked after: which match explains them now.
    wanted = {item for row in carried for item in (*row.statement_entry_ids, *row.movement_ids)}
    matched_by: dict[str, str | None] = {**loaded.held}
    matched_by |= await _store(run, matched, currency, wanted)
    candidates = classify(outcome, loaded.lines, loaded.movements, active)
    found = [_found(candidate, loaded.statement_of) for candidate in candidates]
    found_ids = await run.record(found)
    await run.close(_closings(carried, found, found_ids, matched_by))
    return _report(loaded, outcome, matched)
