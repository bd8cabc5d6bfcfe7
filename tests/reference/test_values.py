"""What other domains get from reference data: frozen values, never ORM rows, loaded with one
query per table whatever the number of rows asked for."""

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.reference.accounts.service import accounts_by_code
from app.reference.generation import ReferenceGeneration
from app.reference.instruments.service import get_instrument_ref, instruments_by_isin
from app.reference.markets.service import markets_by_mic
from app.reference.service import load_reference, parties_and_accounts
from app.reference.ssis.service import ssis_of
from app.reference.tolerances.service import find_matching_tolerance
from app.reference.values import AccountRef, InstrumentRef, MarketRef, SsiRef
from tests.factories import BUND, GOLDMAN, JPM

NSCC = "NSCCDEMO000000000060"
APPLE = "US0378331005"  # a valid ISIN that is not reference data here


@contextmanager
def counted_statements(session: AsyncSession) -> Iterator[list[str]]:
    statements: list[str] = []
    assert isinstance(session.bind, AsyncEngine)
    engine = session.bind.sync_engine

    def count(*args: object) -> None:
        if str(args[2]).startswith("SELECT"):  # not SQLite's BEGIN IMMEDIATE
            statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_load_reference_answers_what_exists_of_what_was_named(
    session: AsyncSession, reference: None
) -> None:
    # Every test's database is restored with the same token, so an earlier test of this process
    # may have cached these rows under it (rightly: the same token, the same rows). A token no
    # process has seen makes this load the first under it.
    await session.execute(update(ReferenceGeneration).values(token=uuid.uuid4().hex))
    with counted_statements(session) as statements:
        found = await load_reference(
            session,
            isins=[JPM, BUND, APPLE],
            mics=["XPAR"],
            books=["EQ-FLOW", "NO-SUCH-BOOK"],
            leis=[GOLDMAN, NSCC, "529900T8BM49AURSDO55"],
        )

    # The generation token, then instruments, markets, books, counterparties, closed days: one
    # query each (the process has none of them yet under this token).
    assert len(statements) == 6

    assert sorted(found.instruments) == [BUND, JPM]
    assert sorted(found.markets) == ["XNYS", "XOFF", "XPAR"]  # named, and the instruments'
    assert found.books == {"EQ-FLOW"}
    assert found.counterparties == {GOLDMAN, NSCC}
    assert found.settlement_calendar("XNYS").codes == ("XNYS", "FED")
    assert found.trading_calendar("XNYS").codes == ("XNYS",)


async def test_instruments_and_markets_are_frozen_values(
    session: AsyncSession, reference: None
) -> None:
    instruments = await instruments_by_isin(session, isins=[JPM, BUND])
    markets = await markets_by_mic(session, mics=["XNYS"])
    bund = instruments[BUND]

    assert type(bund) is InstrumentRef
    assert (bund.mic, bund.price_basis, bund.day_count) == ("XOFF", "percent", "ACT/ACT-ICMA")
    assert bund.maturity_date == date(2053, 8, 15)
    assert type(markets["XNYS"]) is MarketRef
    assert markets["XNYS"].settlement_calendars == ("XNYS", "FED")
    assert markets["XNYS"].ccp == "NSCCUS33"
    with pytest.raises(dataclasses.FrozenInstanceError):
        bund.mic = "XPAR"  # type: ignore[misc]
    assert await get_instrument_ref(session, isin=JPM) == instruments[JPM]


async def test_nothing_asked_is_nothing_answered(session: AsyncSession, reference: None) -> None:
    assert await instruments_by_isin(session, isins=[]) == {}
    assert await accounts_by_code(session, codes=[]) == {}
    assert await ssis_of(session, leis=[]) == {}


async def test_parties_find_the_ccp_by_its_bic_and_our_accounts_by_market(
    session: AsyncSession, reference: None
) -> None:
    parties = await parties_and_accounts(session)

    assert parties.by_bic["NSCCUS33"].lei == NSCC
    assert parties.counterparties[GOLDMAN].bic == "GOLDUS33"
    dtc = parties.accounts["SEC-DTC"]
    assert type(dtc) is AccountRef
    assert (dtc.kind, dtc.currency, dtc.markets) == ("securities", None, ("XNYS",))


async def test_ssis_and_tolerances_are_values_too(session: AsyncSession, reference: None) -> None:
    ssis = await ssis_of(session, leis=[NSCC, "529900T8BM49AURSDO55"])

    assert ssis["529900T8BM49AURSDO55"] == []
    assert ssis[NSCC]
    assert all(type(ssi) is SsiRef for ssi in ssis[NSCC])
    assert any(ssi.account == "DEMO-NSCC-DTC-01" for ssi in ssis[NSCC])
    usd = await find_matching_tolerance(session, currency="USD")
    assert usd is not None
    assert (usd.price_abs, usd.net_amount_abs, usd.net_amount_bps) == (
        Decimal("0.0001"),
        Decimal("0.05"),
        None,
    )
    assert await find_matching_tolerance(session, currency="JPY") is None
