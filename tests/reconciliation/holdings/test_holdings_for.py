"""``holdings_for``: the lines of the latest statement of an account for a day, every page of
it, as frozen values for the reconciliation runs."""

from datetime import date
from decimal import Decimal

import pytest

from app.reconciliation.holdings.parsing.model import QuantityType, StatementBasis
from app.reconciliation.holdings.service import holdings_for
from app.reconciliation.holdings.values import HoldingLine, HoldingsSnapshot
from tests.conftest import Database
from tests.reconciliation.holdings.support import (
    APPLE,
    BNP,
    BUND,
    JPM,
    SAP,
    TOTAL,
    holdings_json,
    post_file,
    sample,
)
from tests.support import Api, FrozenClock

pytestmark = pytest.mark.usefixtures("reference")
DAY = date(2026, 11, 24)
UNIT, FAMT = QuantityType.UNIT, QuantityType.FAMT


async def snapshot(db: Database, account: str, day: date = DAY) -> HoldingsSnapshot | None:
    async with db.sessionmaker() as session:
        return await holdings_for(session, account=account, day=day)


async def ids_of(api: Api, data: bytes | str, **params: str) -> list[str]:
    response = await post_file(api, data, params=params or None)
    assert response.status_code == 201, response.text
    return [statement["id"] for statement in response.json()["statements"]]


def paged(page: int, of: str, *holdings: tuple[str, str]) -> str:
    """A JSON statement of SEC-DTC on DAY: page ``page``, ``of`` "last" or "more"."""
    lines = ", ".join(f'{{"isin": "{isin}", "quantity": "{q}"}}' for isin, q in holdings)
    last = "true" if of == "last" else "false"
    return (
        f'{{"statements": [{{"account": "SEC-DTC", "statement_id": "S-{page}-{of}", '
        f'"statement_date": "2026-11-24", "page": {page}, "last_page": {last}, '
        f'"holdings": [{lines}]}}]}}'
    )


async def test_nothing_received_is_none(api: Api, db: Database) -> None:
    await ids_of(api, holdings_json((JPM, "1")))
    assert await snapshot(db, "SEC-DTC", date(2026, 11, 23)) is None
    assert await snapshot(db, "SEC-EB") is None


async def test_a_statement_of_one_page(api: Api, db: Database) -> None:
    [statement_id] = await ids_of(api, sample("mt535_full_envelope_crlf.txt"))
    assert await snapshot(db, "SEC-DTC") == HoldingsSnapshot(
        account="SEC-DTC",
        statement_date=DAY,
        statement_ids=(statement_id,),
        basis=StatementBasis.SETTLED,
        complete=True,
        lines=(
            HoldingLine(JPM, Decimal("1500"), UNIT, Decimal("1200")),
            HoldingLine(APPLE, Decimal("200"), UNIT, None),
        ),
    )


async def test_every_page_of_a_statement_in_page_order(api: Api, db: Database) -> None:
    ids = await ids_of(api, sample("mt535_two_pages_lf_no_final_newline.txt"))
    found = await snapshot(db, "SEC-EB")
    assert found is not None
    assert (found.statement_ids, found.basis, found.complete) == (
        tuple(ids),
        StatementBasis.TRADED,
        True,
    )
    assert found.lines == (
        HoldingLine(BUND, Decimal("2500000"), FAMT, Decimal("2000000")),
        HoldingLine(TOTAL, Decimal("-300"), UNIT, None),
        HoldingLine(BNP, Decimal("0"), UNIT, None),
        HoldingLine(SAP, Decimal("12.5"), UNIT, None),
    )


async def test_a_statement_missing_its_last_page_is_not_complete(api: Api, db: Database) -> None:
    [page_one] = await ids_of(api, sample("semt002_v11_settled_page_1_of_2.xml"))
    found = await snapshot(db, "SEC-DTC")
    assert found is not None
    assert (found.statement_ids, found.complete, len(found.lines)) == ((page_one,), False, 2)


async def test_a_later_statement_replaces_an_earlier_one(
    api: Api, db: Database, clock: FrozenClock
) -> None:
    await ids_of(api, holdings_json((JPM, "1500"), account="SEC-DTC", statement_id="S-1"))
    clock.advance(hours=2)
    [corrected] = await ids_of(
        api, holdings_json((JPM, "1400"), account="SEC-DTC", statement_id="S-2")
    )
    found = await snapshot(db, "SEC-DTC")
    assert found is not None
    assert (found.statement_ids, found.lines) == (
        (corrected,),
        (HoldingLine(JPM, Decimal("1400"), UNIT, None),),
    )


async def test_a_shorter_later_statement_drops_the_pages_of_the_longer_one(
    api: Api, db: Database, clock: FrozenClock
) -> None:
    await ids_of(api, paged(1, "more", (JPM, "1")))
    clock.advance(minutes=1)
    await ids_of(api, paged(2, "last", (APPLE, "2")))
    clock.advance(hours=2)
    [only] = await ids_of(api, paged(1, "last", (JPM, "3")))
    found = await snapshot(db, "SEC-DTC")
    assert found is not None
    assert (found.statement_ids, found.complete, found.lines) == (
        (only,),
        True,
        (HoldingLine(JPM, Decimal("3"), UNIT, None),),
    )


async def test_a_page_missing_in_the_middle_is_not_complete(api: Api, db: Database) -> None:
    first = await ids_of(api, paged(1, "more", (JPM, "1")))
    third = await ids_of(api, paged(3, "last", (APPLE, "2")))
    found = await snapshot(db, "SEC-DTC")
    assert found is not None
    assert (found.statement_ids, found.complete) == ((*first, *third), False)
