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
    for name in ("clearing", "settlement"):
        text = "".join(sql for _, sql in steps(name))

        assert text.count("INSERT INTO audit_records") == text.count("INSERT INTO audit_unsealed")
        assert "audit_seals" not in text


def test_the_summary_shows_a_ratio_and_its_goal_apart() -> None:
    assert ratio_and_goal(fmt_ratio(0.30004, 0.5)) == ("0.3000 UNDER", ">= 0.5")
    assert ratio_and_goal(fmt_ratio(0.9, 0.85)) == ("0.9000 meets", ">= 0.85")
    assert ratio_and_goal("") == ("", "")
