"""Our SEME references: always 16 characters of the SWIFT X set without '/', sorting by time;
and the rule that judges any reference."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.settlement.outbound.references import REFERENCE_LENGTH, new_reference, reference_problem

MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
X_SET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ "


@given(MOMENTS)
def test_a_new_reference_is_a_valid_swift_reference(now: datetime) -> None:
    reference = new_reference(now)
    assert len(reference) == REFERENCE_LENGTH
    assert reference_problem(reference) is None
    assert "/" not in reference


@given(MOMENTS, st.integers(min_value=1, max_value=10**9))
def test_later_references_sort_after_earlier_ones(now: datetime, millis: int) -> None:
    later = now + timedelta(milliseconds=millis)
    assert new_reference(now)[:10] < new_reference(later)[:10]


@given(st.text(alphabet=X_SET, min_size=1, max_size=16))
def test_x_text_is_a_reference_unless_slashes_misplace_it(text: str) -> None:
    misplaced = text.startswith("/") or text.endswith("/") or "//" in text
    assert (reference_problem(text) is None) is not misplaced


@given(st.text(alphabet=X_SET, min_size=17, max_size=40))
def test_more_than_16_characters_is_refused(text: str) -> None:
    assert reference_problem(text) == "must be 1 to 16 characters"


@given(st.text(min_size=1, max_size=16).filter(lambda t: any(c not in X_SET for c in t)))
def test_a_character_outside_the_x_set_is_refused(text: str) -> None:
    assert reference_problem(text) == "must use the SWIFT X character set"


def test_an_empty_reference_is_refused() -> None:
    assert reference_problem("") == "must be 1 to 16 characters"


def test_a_trailing_line_break_is_not_an_x_character() -> None:
    # A regex anchored with '$' lets "AB\n" through: the whole text must match.
    assert reference_problem("AB\n") == "must use the SWIFT X character set"
