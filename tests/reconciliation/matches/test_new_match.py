"""A match to store is named by its items' key, made once however often a run asks for it."""

from decimal import Decimal

import pytest

from app.reconciliation.matches import service
from app.reconciliation.matches.service import NewMatch
from app.reconciliation.matching.values import item_key


def _match() -> NewMatch:
    return NewMatch("one-to-many", ("ste_b",), ("je_2", "je_1"), "EUR", Decimal("0.00"), 0)


def test_key_is_the_items_key_in_id_order() -> None:
    assert _match().key == '[["ste_b"],["je_1","je_2"]]'


def test_key_is_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, ...]] = []

    def counted(*args: object) -> str:
        calls.append(args)
        return item_key(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "item_key", counted)
    match = _match()

    assert [match.key, match.key, match.key] == ['[["ste_b"],["je_1","je_2"]]'] * 3
    assert len(calls) == 1
