"""`make test-deep` runs the property tests and the ledger state machine far longer than
`make test`: the Makefile selects the deep profile, which draws twenty times the examples and
lets each state-machine run take twice the steps."""

import re

from hypothesis import settings

from app.core.config import PROJECT_ROOT


def test_make_test_deep_selects_the_deep_profile() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    recipe = re.search(r"^test-deep:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe is not None
    assert recipe.group(1).startswith("HYPOTHESIS_PROFILE=deep ")


def test_the_deep_profile_draws_far_more() -> None:
    ci, deep = settings.get_profile("ci"), settings.get_profile("deep")
    assert deep.max_examples == 20 * ci.max_examples
    assert deep.stateful_step_count == 2 * ci.stateful_step_count
    assert deep.deadline is None
