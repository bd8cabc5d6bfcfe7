"""Reference data: create, read, update and delete (audited), and bulk loading for the trade
path."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_change
from app.core.auth import Actor
from app.core.calendars import BusinessCalendar
from app.core.db import Base
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.ids import new_id
from app.core.pagination import PageRequest, fetch_page
from app.core.snapshots import jsonable, row_snapshot
from app.core.versioning import check_version
from app.reference.models import (
    Account,
    Book,
    Counterparty,
    Instrument,
    Market,
    MarketClosedDay,
    MatchingTolerance,
    PenaltyRate,
    Price,
    Ssi,
    Versioned,
)
from app.reference.schemas import (
    AccountIn,
    AccountPatch,
    BookIn,
    BookPatch,
    ClosedDayIn,
    CounterpartyIn,
    CounterpartyPatch,
    InstrumentIn,
    InstrumentPatch,
    MarketIn,
    MarketPatch,
    MatchingToleranceIn,
    MatchingTolerancePatch,
    PenaltyRateIn,
    PriceIn,
    SsiIn,
    SsiPatch,
    TermsError,
    check_account_terms,
    check_instrument_terms,
)

M = TypeVar("M", bound=Base)
V = TypeVar("V", bound=Versioned)

_ENTITY_TYPES: dict[type[Base], str] = {
    Market: "market",
    Instrument: "instrument",
    Counterparty: "counterparty",
    Book: "book",
    Account: "account",
    Ssi: "ssi",
    Price: "price",
    PenaltyRate: "penalty_rate",
    MarketClosedDay: "market_closed_day",
    MatchingTolerance: "matching_tolerance",
}


def _key_of(obj: Base) -> str:
    identity = type(obj).__mapper__.primary_key_from_instance(obj)
    return "/".join(jsonable(part) for part in identity)


async def _get(session: AsyncSession, model: type[M], key: Any, *, lock: bool = False) -> M:
    obj = await session.get(model, key, with_for_update=lock or None)
    if obj is None:
        label = _ENTITY_TYPES[model].replace("_", " ")
        shown = "/".join(str(part) for part in key) if isinstance(key, tuple) else key
        raise NotFound(f"No {label} '{shown}'.")
    return obj


async def _require(session: AsyncSession, model: type[Base], key: Any, field_name: str) -> None:
    if await session.get(model, key) is None:
        raise ValidationFailed(
            f"{field_name} '{key}' is not known.",
            errors=[FieldProblem(field_name, f"'{key}' is not known")],
        )


async def _create(session: AsyncSession, obj: M, *, actor: Actor, now: datetime) -> M:
    model = type(obj)
    identity = model.__mapper__.primary_key_from_instance(obj)
    if await session.get(model, tuple(identity)) is not None:
        label = _ENTITY_TYPES[model].replace("_", " ")
        raise Conflict(f"The {label} '{_key_of(obj)}' already exists.")
    if isinstance(obj, Versioned):
        obj.version, obj.created_at, obj.updated_at = 1, now, now
    else:
        setattr(obj, "created_at", now)  # noqa: B010  (prices, rates, closed days: no version)
    session.add(obj)
    await session.flush()  # column defaults are applied: the after image is the stored row
    await record_change(
        session,
        actor=actor,
        entity_type=_ENTITY_TYPES[model],
        entity_id=_key_of(obj),
        action="created",
        before=None,
        after=row_snapshot(obj),
        now=now,
    )
    return obj


async def _update(
    session: AsyncSession,
    model: type[V],
    key: Any,
    changes: dict[str, Any],
    *,
    expected_version: int,
    actor: Actor,
    now: datetime,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> V:
    obj = await _get(session, model, key, lock=True)
    check_version(
        current=obj.version,
        expected=expected_version,
        what=f"{_ENTITY_TYPES[model]} '{_key_of(obj)}'",
    )
    before = row_snapshot(obj)
    if check is not None:
        try:
            check({**{k: getattr(obj, k) for k in before}, **changes})
        except TermsError as exc:
            raise ValidationFailed(
                exc.message, errors=[FieldProblem(name, exc.message) for name in exc.fields]
            ) from None
    for name, value in changes.items():
        setattr(obj, name, value)
    if row_snapshot(obj) == before:
        return obj
    obj.version += 1
    obj.updated_at = now
    await record_change(
        session,
        actor=actor,
        entity_type=_ENTITY_TYPES[model],
        entity_id=_key_of(obj),
        action="updated",
        before=before,
        after=row_snapshot(obj),
        now=now,
    )
    return obj


def _storage(data: Any, *, only_sent: bool = False) -> dict[str, Any]:
    """The model's fields in storage form: cycles become JSON (``{"from": "...", "days": n}``)."""
    values: dict[str, Any] = data.model_dump(by_alias=True, exclude_unset=only_sent)
    if values.get("settlement_cycle_days") is not None:
        values["settlement_cycle_days"] = jsonable(values["settlement_cycle_days"])
    return values


def _changes(model: type[Base], patch: Any) -> dict[str, Any]:
    """What a PATCH sent; ``null`` only where the column may be empty."""
    changes = _storage(patch, only_sent=True)
    columns = model.__table__.columns
    refused = [
        name for name, value in changes.items() if value is None and not columns[name].nullable
    ]
    if refused:
        raise ValidationFailed(
            "These fields cannot be emptied.",
            errors=[FieldProblem(name, "may not be null") for name in refused],
        )
    return changes


# Markets and calendars ---------------------------------------------------------------------


async def create_market(
    session: AsyncSession, *, data: MarketIn, actor: Actor, now: datetime
) -> Market:
    values = _storage(data)
    values["settlement_calendars"] = values["settlement_calendars"] or [data.calendar]
    return await _create(session, Market(**values), actor=actor, now=now)


async def update_market(
    session: AsyncSession,
    *,
    mic: str,
    patch: MarketPatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Market:
    return await _update(
        session,
        Market,
        mic,
        _changes(Market, patch),
        expected_version=version,
        actor=actor,
        now=now,
    )


async def get_market(session: AsyncSession, *, mic: str) -> Market:
    return await _get(session, Market, mic)


async def list_markets(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[Market], str | None]:
    return await fetch_page(session, select(Market), Market.mic, page)


async def add_closed_day(
    session: AsyncSession, *, mic: str, data: ClosedDayIn, actor: Actor, now: datetime
) -> MarketClosedDay:
    await _get(session, Market, mic)
    return await _create(
        session, MarketClosedDay(mic=mic, day=data.day, reason=data.reason), actor=actor, now=now
    )


async def list_closed_days(session: AsyncSession, *, mic: str) -> Sequence[MarketClosedDay]:
    await _get(session, Market, mic)
    statement = (
        select(MarketClosedDay).where(MarketClosedDay.mic == mic).order_by(MarketClosedDay.day)
    )
    return (await session.scalars(statement)).all()


async def _closed_days(session: AsyncSession, mics: Iterable[str]) -> dict[str, list[date]]:
    statement = select(MarketClosedDay.mic, MarketClosedDay.day).where(
        MarketClosedDay.mic.in_(list(mics))
    )
    closed: dict[str, list[date]] = {}
    for mic, day in (await session.execute(statement)).all():
        closed.setdefault(mic, []).append(day)
    return closed


def trading_calendar(market: Market, closed_days: Iterable[date]) -> BusinessCalendar:
    return BusinessCalendar([market.calendar], closed_days)


def settlement_calendar(market: Market, closed_days: Iterable[date]) -> BusinessCalendar:
    return BusinessCalendar(market.settlement_calendars, closed_days)


async def market_calendar(session: AsyncSession, *, mic: str, kind: str) -> BusinessCalendar:
    market = await _get(session, Market, mic)
    closed = (await _closed_days(session, [mic])).get(mic, [])
    return (
        settlement_calendar(market, closed)
        if kind == "settlement"
        else trading_calendar(market, closed)
    )


# Instruments -------------------------------------------------------------------------------


async def create_instrument(
    session: AsyncSession, *, data: InstrumentIn, actor: Actor, now: datetime
) -> Instrument:
    await _require(session, Market, data.mic, "mic")
    return await _create(session, Instrument(**_storage(data)), actor=actor, now=now)


async def update_instrument(
    session: AsyncSession,
    *,
    isin: str,
    patch: InstrumentPatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Instrument:
    return await _update(
        session,
        Instrument,
        isin,
        _changes(Instrument, patch),
        expected_version=version,
        actor=actor,
        now=now,
        check=check_instrument_terms,
    )


async def get_instrument(session: AsyncSession, *, isin: str) -> Instrument:
    return await _get(session, Instrument, isin)


async def list_instruments(
    session: AsyncSession,
    *,
    page: PageRequest,
    mic: str | None,
    type_: str | None,
    currency: str | None,
) -> tuple[Sequence[Instrument], str | None]:
    statement = select(Instrument)
    if mic:
        statement = statement.where(Instrument.mic == mic)
    if type_:
        statement = statement.where(Instrument.type == type_)
    if currency:
        statement = statement.where(Instrument.currency == currency)
    return await fetch_page(session, statement, Instrument.isin, page)


# Counterparties, books, accounts, SSIs -----------------------------------------------------


async def create_counterparty(
    session: AsyncSession, *, data: CounterpartyIn, actor: Actor, now: datetime
) -> Counterparty:
    return await _create(session, Counterparty(**_storage(data)), actor=actor, now=now)


async def update_counterparty(
    session: AsyncSession,
    *,
    lei: str,
    patch: CounterpartyPatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Counterparty:
    return await _update(
        session,
        Counterparty,
        lei,
        _changes(Counterparty, patch),
        expected_version=version,
        actor=actor,
        now=now,
    )


async def get_counterparty(session: AsyncSession, *, lei: str) -> Counterparty:
    return await _get(session, Counterparty, lei)


async def list_counterparties(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[Counterparty], str | None]:
    return await fetch_page(session, select(Counterparty), Counterparty.lei, page)


async def create_book(session: AsyncSession, *, data: BookIn, actor: Actor, now: datetime) -> Book:
    return await _create(session, Book(**_storage(data)), actor=actor, now=now)


async def update_book(
    session: AsyncSession, *, code: str, patch: BookPatch, version: int, actor: Actor, now: datetime
) -> Book:
    return await _update(
        session, Book, code, _changes(Book, patch), expected_version=version, actor=actor, now=now
    )


async def get_book(session: AsyncSession, *, code: str) -> Book:
    return await _get(session, Book, code)


async def list_books(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[Book], str | None]:
    return await fetch_page(session, select(Book), Book.code, page)


async def create_account(
    session: AsyncSession, *, data: AccountIn, actor: Actor, now: datetime
) -> Account:
    return await _create(session, Account(**_storage(data)), actor=actor, now=now)


async def update_account(
    session: AsyncSession,
    *,
    code: str,
    patch: AccountPatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Account:
    return await _update(
        session,
        Account,
        code,
        _changes(Account, patch),
        expected_version=version,
        actor=actor,
        now=now,
        check=check_account_terms,
    )


async def get_account(session: AsyncSession, *, code: str) -> Account:
    return await _get(session, Account, code)


async def list_accounts(
    session: AsyncSession, *, page: PageRequest, kind: str | None, currency: str | None
) -> tuple[Sequence[Account], str | None]:
    statement = select(Account)
    if kind:
        statement = statement.where(Account.kind == kind)
    if currency:
        statement = statement.where(Account.currency == currency)
    return await fetch_page(session, statement, Account.code, page)


async def create_ssi(session: AsyncSession, *, data: SsiIn, actor: Actor, now: datetime) -> Ssi:
    await _require(session, Counterparty, data.counterparty_lei, "counterparty_lei")
    if data.mic is not None:
        await _require(session, Market, data.mic, "mic")
    return await _create(session, Ssi(id=new_id("ssi"), **_storage(data)), actor=actor, now=now)


async def update_ssi(
    session: AsyncSession,
    *,
    ssi_id: str,
    patch: SsiPatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Ssi:
    return await _update(
        session, Ssi, ssi_id, _changes(Ssi, patch), expected_version=version, actor=actor, now=now
    )


async def delete_ssi(
    session: AsyncSession, *, ssi_id: str, version: int, actor: Actor, now: datetime
) -> None:
    """Remove an SSI (e.g. the one too many behind an ``SSI_AMBIGUOUS`` repair reason).

    Instructions already made keep the SSI they copied; only enrichment from now on stops
    finding it. The audit record keeps its last state as the before image."""
    ssi = await _get(session, Ssi, ssi_id, lock=True)
    check_version(current=ssi.version, expected=version, what=f"ssi '{ssi_id}'")
    before = row_snapshot(ssi)
    await session.delete(ssi)
    await record_change(
        session,
        actor=actor,
        entity_type=_ENTITY_TYPES[Ssi],
        entity_id=ssi_id,
        action="deleted",
        before=before,
        after=None,
        now=now,
    )


async def get_ssi(session: AsyncSession, *, ssi_id: str) -> Ssi:
    return await _get(session, Ssi, ssi_id)


async def list_ssis(
    session: AsyncSession,
    *,
    page: PageRequest,
    counterparty_lei: str | None,
    mic: str | None,
    currency: str | None,
) -> tuple[Sequence[Ssi], str | None]:
    statement: Select[Any] = select(Ssi)
    if counterparty_lei:
        statement = statement.where(Ssi.counterparty_lei == counterparty_lei)
    if mic:
        statement = statement.where(Ssi.mic == mic)
    if currency:
        statement = statement.where(Ssi.currency == currency)
    return await fetch_page(session, statement, Ssi.id, page)


# Prices and penalty rates ------------------------------------------------------------------


async def create_price(
    session: AsyncSession, *, data: PriceIn, actor: Actor, now: datetime
) -> Price:
    await _require(session, Instrument, data.isin, "isin")
    return await _create(session, Price(**_storage(data)), actor=actor, now=now)


async def list_prices(
    session: AsyncSession, *, page: PageRequest, isin: str | None, on: date | None
) -> tuple[Sequence[Price], str | None]:
    # Keyset on a composite key is not needed here: filter to one date and page by ISIN, or to
    # one ISIN and page by date (both filters: at most one row).
    if on is not None:
        statement = select(Price).where(Price.date == on)
        if isin is not None:
            statement = statement.where(Price.isin == isin)
        return await fetch_page(session, statement, Price.isin, page)
    if isin is None:
        raise ValidationFailed(
            "Filter prices by isin or by date.",
            errors=[FieldProblem("isin", "isin or date is required")],
        )
    return await fetch_page(session, select(Price).where(Price.isin == isin), Price.date, page)


async def create_penalty_rate(
    session: AsyncSession, *, data: PenaltyRateIn, actor: Actor, now: datetime
) -> PenaltyRate:
    existing = await session.scalar(
        select(PenaltyRate).where(
            PenaltyRate.csdr_class == data.csdr_class,
            PenaltyRate.effective_from == data.effective_from,
        )
    )
    if existing is not None:
        raise Conflict(
            f"A {data.csdr_class} rate effective from {data.effective_from} exists already "
            f"({existing.id}).",
        )
    return await _create(
        session, PenaltyRate(id=new_id("pnr"), **_storage(data)), actor=actor, now=now
    )


async def list_penalty_rates(
    session: AsyncSession, *, page: PageRequest, csdr_class: str | None
) -> tuple[Sequence[PenaltyRate], str | None]:
    statement = select(PenaltyRate)
    if csdr_class:
        statement = statement.where(PenaltyRate.csdr_class == csdr_class)
    return await fetch_page(session, statement, PenaltyRate.id, page)


async def markets_by_mic(session: AsyncSession, *, mics: Iterable[str]) -> dict[str, Market]:
    statement = select(Market).where(Market.mic.in_(list(set(mics))))
    return {market.mic: market for market in (await session.scalars(statement)).all()}


# Matching tolerances ------------------------------------------------------------------------


async def create_matching_tolerance(
    session: AsyncSession, *, data: MatchingToleranceIn, actor: Actor, now: datetime
) -> MatchingTolerance:
    return await _create(session, MatchingTolerance(**_storage(data)), actor=actor, now=now)


async def update_matching_tolerance(
    session: AsyncSession,
    *,
    currency: str,
    patch: MatchingTolerancePatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> MatchingTolerance:
    changes = _changes(MatchingTolerance, patch)
    return await _update(
        session,
        MatchingTolerance,
        currency,
        changes,
        expected_version=version,
        actor=actor,
        now=now,
    )


async def get_matching_tolerance(session: AsyncSession, *, currency: str) -> MatchingTolerance:
    return await _get(session, MatchingTolerance, currency)


async def find_matching_tolerance(
    session: AsyncSession, *, currency: str
) -> MatchingTolerance | None:
    """The tolerance for a currency, or None: then matching is exact."""
    return await session.get(MatchingTolerance, currency)


async def list_matching_tolerances(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[MatchingTolerance], str | None]:
    return await fetch_page(session, select(MatchingTolerance), MatchingTolerance.currency, page)


# Bulk loading for the trade path -----------------------------------------------------------


@dataclass
class ReferenceSet:
    """The reference rows a set of trades names, loaded in a handful of queries."""

    instruments: dict[str, Instrument] = field(default_factory=dict)
    markets: dict[str, Market] = field(default_factory=dict)
    books: set[str] = field(default_factory=set)
    counterparties: set[str] = field(default_factory=set)
    closed_days: dict[str, list[date]] = field(default_factory=dict)
    _calendars: dict[tuple[str, str], BusinessCalendar] = field(default_factory=dict)

    def trading_calendar(self, mic: str) -> BusinessCalendar:
        return self._calendar(mic, "trading", trading_calendar)

    def settlement_calendar(self, mic: str) -> BusinessCalendar:
        return self._calendar(mic, "settlement", settlement_calendar)

    def _calendar(
        self, mic: str, kind: str, build: Callable[[Market, Iterable[date]], BusinessCalendar]
    ) -> BusinessCalendar:
        if (mic, kind) not in self._calendars:
            self._calendars[(mic, kind)] = build(self.markets[mic], self.closed_days.get(mic, []))
        return self._calendars[(mic, kind)]


async def load_reference(
    session: AsyncSession,
    *,
    isins: Iterable[str],
    mics: Iterable[str],
    books: Iterable[str],
    leis: Iterable[str],
) -> ReferenceSet:
    isin_list, book_list, lei_list = list(set(isins)), list(set(books)), list(set(leis))
    instruments = {
        i.isin: i
        for i in (
            await session.scalars(select(Instrument).where(Instrument.isin.in_(isin_list)))
        ).all()
    }
    mic_list = list(set(mics) | {i.mic for i in instruments.values()})
    markets = {
        m.mic: m
        for m in (await session.scalars(select(Market).where(Market.mic.in_(mic_list)))).all()
    }
    found_books = set(
        (await session.scalars(select(Book.code).where(Book.code.in_(book_list)))).all()
    )
    found_leis = set(
        (
            await session.scalars(select(Counterparty.lei).where(Counterparty.lei.in_(lei_list)))
        ).all()
    )
    return ReferenceSet(
        instruments=instruments,
        markets=markets,
        books=found_books,
        counterparties=found_leis,
        closed_days=await _closed_days(session, markets),
    )


async def instruments_by_isin(
    session: AsyncSession, *, isins: Iterable[str]
) -> dict[str, Instrument]:
    wanted = list(set(isins))
    if not wanted:
        return {}
    found = await session.scalars(select(Instrument).where(Instrument.isin.in_(wanted)))
    return {instrument.isin: instrument for instrument in found.all()}


async def accounts_by_code(session: AsyncSession, *, codes: Iterable[str]) -> dict[str, Account]:
    wanted = list(set(codes))
    if not wanted:
        return {}
    found = await session.scalars(select(Account).where(Account.code.in_(wanted)))
    return {account.code: account for account in found.all()}


async def ssis_of(session: AsyncSession, *, leis: Iterable[str]) -> dict[str, list[Ssi]]:
    """Each counterparty's standing settlement instructions."""
    wanted = list(set(leis))
    found: dict[str, list[Ssi]] = {lei: [] for lei in wanted}
    if wanted:
        ssis = await session.scalars(
            select(Ssi).where(Ssi.counterparty_lei.in_(wanted)).order_by(Ssi.id)
        )
        for ssi in ssis.all():
            found[ssi.counterparty_lei].append(ssi)
    return found


@dataclass(frozen=True)
class Parties:
    """Counterparties by LEI and by BIC (a market names its CCP by BIC), and our accounts."""

    counterparties: dict[str, Counterparty]
    by_bic: dict[str, Counterparty]
    accounts: dict[str, Account]


async def parties_and_accounts(session: AsyncSession) -> Parties:
    counterparties = {c.lei: c for c in (await session.scalars(select(Counterparty))).all()}
    by_bic = {c.bic: c for c in counterparties.values() if c.bic}
    accounts = {a.code: a for a in (await session.scalars(select(Account))).all()}
    return Parties(counterparties, by_bic, accounts)
