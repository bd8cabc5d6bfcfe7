"""``quick_init``: a frozen dataclass made by a quicker ``__init__`` is the same value."""

from dataclasses import FrozenInstanceError, dataclass, field, replace
from decimal import Decimal
from typing import Any

import pytest

from app.core.values import quick_init


@dataclass(frozen=True)
class Plain:
    account: str
    amount: Decimal
    cost: Decimal | None = None


@quick_init
@dataclass(frozen=True)
class Quick:
    account: str
    amount: Decimal
    cost: Decimal | None = None


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("cash", Decimal("1.50")), {}),
        (("cash", Decimal("1.50"), Decimal("2")), {}),
        (("cash",), {"amount": Decimal("1.50")}),
        ((), {"cost": Decimal("2"), "amount": Decimal("-1"), "account": "book"}),
    ],
)
def test_the_same_value_as_the_dataclass_makes(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    plain, quick = Plain(*args, **kwargs), Quick(*args, **kwargs)
    assert vars(quick) == vars(plain)
    assert repr(quick) == repr(plain).replace("Plain", "Quick")
    assert hash(quick) == hash(Quick(*args, **kwargs))
    assert quick == Quick(*args, **kwargs)
    assert replace(quick, account="fees") == Quick("fees", quick.amount, quick.cost)


def test_it_stays_frozen() -> None:
    quick = Quick("cash", Decimal(1))
    with pytest.raises(FrozenInstanceError):
        quick.amount = Decimal(2)  # type: ignore[misc]


def test_a_missing_or_unknown_argument_is_refused_as_before() -> None:
    with pytest.raises(TypeError):
        Quick("cash")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Quick("cash", Decimal(1), side="buy")  # type: ignore[call-arg]


def test_what_it_does_not_make_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="not a frozen dataclass"):

        @quick_init
        @dataclass
        class Mutable:
            amount: Decimal

    with pytest.raises(TypeError, match="not a plain field"):

        @quick_init
        @dataclass(frozen=True)
        class Listed:
            lines: list[str] = field(default_factory=list)

    with pytest.raises(TypeError, match="slots"):

        @quick_init
        @dataclass(frozen=True, slots=True)
        class Slotted:
            amount: Decimal
