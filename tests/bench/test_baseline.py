"""The set-based baselines' script reader and the summary's ratio and goal columns."""

from bench.lib.baseline import steps
from bench.lib.report import fmt_ratio, ratio_and_goal


def test_a_script_reads_as_its_steps_in_order_with_the_balances_inlined() -> None:
    clearing = steps("clearing")
    names = [name for name, _ in clearing]

    assert names[0] == "start the run"
    assert (
        names[-1] == "deferred constraints checked (entries balanced, with postings), as at COMMIT"
    )
    # Included twice: after the novation deltas, after the instructions' pending deltas.
    assert names.count("running balances moved") == 2
    assert all("-- include:" not in sql for _, sql in clearing)
    assert "UPDATE ledger_balances b" in dict(clearing)["running balances moved"]


def test_every_script_writes_audit_records_with_their_sealer_queue_rows() -> None:
    for name in ("clearing", "settlement", "reconciliation"):
        text = "".join(sql for _, sql in steps(name))

        assert text.count("INSERT INTO audit_records") == text.count("INSERT INTO audit_unsealed")
        assert "audit_seals" not in text


def test_the_summary_shows_a_ratio_and_its_goal_apart() -> None:
    assert ratio_and_goal(fmt_ratio(0.30004, 0.5)) == ("0.3000 UNDER", ">= 0.5")
    assert ratio_and_goal(fmt_ratio(0.9, 0.85)) == ("0.9000 meets", ">= 0.85")
    assert ratio_and_goal("") == ("", "")


def test_the_reconciliation_script_matches_by_the_rules_then_stores_and_completes_the_run() -> None:
    names = [name for name, _ in steps("reconciliation")]

    assert names == [
        "start the run",
        "the account locked; lines, movements and their references",
        "pairs sharing a reference, by each reference they share",
        "the rules, in priority order, each over what the earlier ones left",
        "matches stored, with their matched items",
        "breaks found: pairs sharing a reference that differ, lines and movements left alone",
        "breaks stored: new ones opened, closed ones found again reopened",
        "open breaks the run explains closed (matched, superseded, resolved)",
        "the run completed, with its counts and report",
    ]
