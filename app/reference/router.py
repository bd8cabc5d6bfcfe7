"""Reference data routes: parse, authorise, call the service, shape the answer."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from app.core.deps import Now, Paging, Uow
from app.core.errors import FieldProblem, ValidationFailed, problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.identifiers import Currency, Isin, Lei, Mic
from app.core.pagination import Page
from app.core.versioning import etag, parse_if_match
from app.reference import service
from app.reference.auth import ReferenceRead, ReferenceWrite
from app.reference.schemas import (
    AccountIn,
    AccountKind,
    AccountOut,
    AccountPatch,
    BookIn,
    BookOut,
    BookPatch,
    BusinessDaysOut,
    ClosedDayIn,
    ClosedDayOut,
    CounterpartyIn,
    CounterpartyOut,
    CounterpartyPatch,
    InstrumentIn,
    InstrumentOut,
    InstrumentPatch,
    InstrumentType,
    MarketIn,
    MarketOut,
    MarketPatch,
    MatchingToleranceIn,
    MatchingToleranceOut,
    MatchingTolerancePatch,
    PenaltyRateIn,
    PenaltyRateOut,
    PriceIn,
    PriceOut,
    SsiIn,
    SsiOut,
    SsiPatch,
)

Version = Annotated[int, Depends(parse_if_match)]

PREFIX = "/api/v1"
router = APIRouter()


def _with_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


# Markets and calendars ---------------------------------------------------------------------

markets = APIRouter(prefix="/markets", tags=["Markets"])


@markets.post("", status_code=201, response_model=MarketOut, responses=problem_responses(409))
async def create_market(
    body: MarketIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add a market: its calendars, effective-dated settlement cycle, CCP and affirmation cutoff."""

    async def work(session: Any) -> MarketOut:
        market = await service.create_market(session, data=body, actor=actor, now=clock())
        return MarketOut.model_validate(market)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{PREFIX}/markets/{out['mic']}",
    )


@markets.get("", response_model=Page[MarketOut], responses=problem_responses())
async def list_markets(uow: Uow, _actor: ReferenceRead, page: Paging) -> Page[MarketOut]:
    rows, cursor = await service.list_markets(uow.session, page=page)
    return Page(items=[MarketOut.model_validate(r) for r in rows], next_cursor=cursor)


@markets.get("/{mic}", response_model=MarketOut, responses=problem_responses(404))
async def get_market(mic: str, response: Response, uow: Uow, _actor: ReferenceRead) -> MarketOut:
    market = await service.get_market(uow.session, mic=mic.upper())
    _with_etag(response, market.version)
    return MarketOut.model_validate(market)


@markets.patch("/{mic}", response_model=MarketOut, responses=problem_responses(404, 412, 428))
async def update_market(
    mic: str,
    body: MarketPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> MarketOut:
    """Change a market. Send `If-Match` with the version you read; a stale one is 412."""
    async with uow:
        market = await service.update_market(
            uow.session, mic=mic.upper(), patch=body, version=version, actor=actor, now=clock()
        )
        out = MarketOut.model_validate(market)
    _with_etag(response, out.version)
    return out


@markets.post(
    "/{mic}/closed-days",
    status_code=201,
    response_model=ClosedDayOut,
    responses=problem_responses(404, 409),
)
async def add_closed_day(
    mic: str,
    body: ClosedDayIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Close the market on a day its holiday calendar does not know (e.g. a day of mourning)."""

    async def work(session: Any) -> ClosedDayOut:
        day = await service.add_closed_day(
            session, mic=mic.upper(), data=body, actor=actor, now=clock()
        )
        return ClosedDayOut.model_validate(day)

    return await idempotent_create(
        request, uow, principal=actor.key_id, key=key, body=body, now=clock(), work=work
    )


@markets.get(
    "/{mic}/closed-days", response_model=list[ClosedDayOut], responses=problem_responses(404)
)
async def list_closed_days(mic: str, uow: Uow, _actor: ReferenceRead) -> list[ClosedDayOut]:
    rows = await service.list_closed_days(uow.session, mic=mic.upper())
    return [ClosedDayOut.model_validate(r) for r in rows]


calendars = APIRouter(prefix="/calendars", tags=["Markets"])


@calendars.get(
    "/{mic}/business-days", response_model=BusinessDaysOut, responses=problem_responses(404)
)
async def business_days(
    mic: str,
    uow: Uow,
    _actor: ReferenceRead,
    from_: Annotated[date, Query(alias="from")],
    to: Annotated[date, Query()],
    kind: Annotated[str, Query(pattern="^(trading|settlement)$")] = "trading",
) -> BusinessDaysOut:
    """Business days in [from, to] of the market's trading or settlement calendar."""
    if to < from_ or (to - from_).days > 3660:
        raise ValidationFailed(
            "'to' must be on or after 'from', at most ten years later.",
            errors=[FieldProblem("to", "must be on or after 'from', within ten years")],
        )
    calendar = await service.market_calendar(uow.session, mic=mic.upper(), kind=kind)
    return BusinessDaysOut(
        mic=mic.upper(),
        calendars=list(calendar.codes),
        business_days=list(calendar.business_days(from_, to)),
    )


# Instruments -------------------------------------------------------------------------------

instruments = APIRouter(prefix="/instruments", tags=["Instruments"])


@instruments.post(
    "", status_code=201, response_model=InstrumentOut, responses=problem_responses(409)
)
async def create_instrument(
    body: InstrumentIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add an instrument. Bonds need price basis `percent`, coupon terms and dates."""

    async def work(session: Any) -> InstrumentOut:
        instrument = await service.create_instrument(session, data=body, actor=actor, now=clock())
        return InstrumentOut.model_validate(instrument)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{PREFIX}/instruments/{out['isin']}",
    )


@instruments.get("", response_model=Page[InstrumentOut], responses=problem_responses())
async def list_instruments(
    uow: Uow,
    _actor: ReferenceRead,
    page: Paging,
    mic: Annotated[Mic | None, Query()] = None,
    type: Annotated[InstrumentType | None, Query()] = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> Page[InstrumentOut]:
    rows, cursor = await service.list_instruments(
        uow.session, page=page, mic=mic, type_=type, currency=currency
    )
    return Page(items=[InstrumentOut.model_validate(r) for r in rows], next_cursor=cursor)


@instruments.get("/{isin}", response_model=InstrumentOut, responses=problem_responses(404))
async def get_instrument(
    isin: str, response: Response, uow: Uow, _actor: ReferenceRead
) -> InstrumentOut:
    instrument = await service.get_instrument(uow.session, isin=isin.upper())
    _with_etag(response, instrument.version)
    return InstrumentOut.model_validate(instrument)


@instruments.patch(
    "/{isin}", response_model=InstrumentOut, responses=problem_responses(404, 412, 428)
)
async def update_instrument(
    isin: str,
    body: InstrumentPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> InstrumentOut:
    async with uow:
        instrument = await service.update_instrument(
            uow.session, isin=isin.upper(), patch=body, version=version, actor=actor, now=clock()
        )
        out = InstrumentOut.model_validate(instrument)
    _with_etag(response, out.version)
    return out


# Counterparties ----------------------------------------------------------------------------

counterparties = APIRouter(prefix="/counterparties", tags=["Counterparties"])


@counterparties.post(
    "", status_code=201, response_model=CounterpartyOut, responses=problem_responses(409)
)
async def create_counterparty(
    body: CounterpartyIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    async def work(session: Any) -> CounterpartyOut:
        counterparty = await service.create_counterparty(
            session, data=body, actor=actor, now=clock()
        )
        return CounterpartyOut.model_validate(counterparty)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{PREFIX}/counterparties/{out['lei']}",
    )


@counterparties.get("", response_model=Page[CounterpartyOut], responses=problem_responses())
async def list_counterparties(
    uow: Uow, _actor: ReferenceRead, page: Paging
) -> Page[CounterpartyOut]:
    rows, cursor = await service.list_counterparties(uow.session, page=page)
    return Page(items=[CounterpartyOut.model_validate(r) for r in rows], next_cursor=cursor)


@counterparties.get("/{lei}", response_model=CounterpartyOut, responses=problem_responses(404))
async def get_counterparty(
    lei: str, response: Response, uow: Uow, _actor: ReferenceRead
) -> CounterpartyOut:
    counterparty = await service.get_counterparty(uow.session, lei=lei.upper())
    _with_etag(response, counterparty.version)
    return CounterpartyOut.model_validate(counterparty)


@counterparties.patch(
    "/{lei}", response_model=CounterpartyOut, responses=problem_responses(404, 412, 428)
)
async def update_counterparty(
    lei: str,
    body: CounterpartyPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> CounterpartyOut:
    async with uow:
        counterparty = await service.update_counterparty(
            uow.session, lei=lei.upper(), patch=body, version=version, actor=actor, now=clock()
        )
        out = CounterpartyOut.model_validate(counterparty)
    _with_etag(response, out.version)
    return out


# Books -------------------------------------------------------------------------------------

books = APIRouter(prefix="/books", tags=["Books"])


@books.post("", status_code=201, response_model=BookOut, responses=problem_responses(409))
async def create_book(
    body: BookIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    async def work(session: Any) -> BookOut:
        return BookOut.model_validate(
            await service.create_book(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{PREFIX}/books/{out['code']}",
    )


@books.get("", response_model=Page[BookOut], responses=problem_responses())
async def list_books(uow: Uow, _actor: ReferenceRead, page: Paging) -> Page[BookOut]:
    rows, cursor = await service.list_books(uow.session, page=page)
    return Page(items=[BookOut.model_validate(r) for r in rows], next_cursor=cursor)


@books.get("/{code}", response_model=BookOut, responses=problem_responses(404))
async def get_book(code: str, response: Response, uow: Uow, _actor: ReferenceRead) -> BookOut:
    book = await service.get_book(uow.session, code=code)
    _with_etag(response, book.version)
    return BookOut.model_validate(book)


@books.patch("/{code}", response_model=BookOut, responses=problem_responses(404, 412, 428))
async def update_book(
    code: str,
    body: BookPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> BookOut:
    async with uow:
        book = await service.update_book(
            uow.session, code=code, patch=body, version=version, actor=actor, now=clock()
        )
        out = BookOut.model_validate(book)
    _with_etag(response, out.version)
    return out


# Accounts ----------------------------------------------------------------------------------

accounts = APIRouter(prefix="/accounts", tags=["Accounts"])


@accounts.post("", status_code=201, response_model=AccountOut, responses=problem_responses(409))
async def create_account(
    body: AccountIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add one of our accounts: securities safekeeping, or cash in one currency."""

    async def work(session: Any) -> AccountOut:
        return AccountOut.model_validate(
            await service.create_account(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{PREFIX}/accounts/{out['code']}",
    )


@accounts.get("", response_model=Page[AccountOut], responses=problem_responses())
async def list_accounts(
    uow: Uow,
    _actor: ReferenceRead,
    page: Paging,
    kind: Annotated[AccountKind | None, Query()] = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> Page[AccountOut]:
    rows, cursor = await service.list_accounts(uow.session, page=page, kind=kind, currency=currency)
    return Page(items=[AccountOut.model_validate(r) for r in rows], next_cursor=cursor)


@accounts.get("/{code}", response_model=AccountOut, responses=problem_responses(404))
async def get_account(code: str, response: Response, uow: Uow, _actor: ReferenceRead) -> AccountOut:
    account = await service.get_account(uow.session, code=code)
    _with_etag(response, account.version)
    return AccountOut.model_validate(account)


@accounts.patch("/{code}", response_model=AccountOut, responses=problem_responses(404, 412, 428))
async def update_account(
    code: str,
    body: AccountPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> AccountOut:
    async with uow:
        account = await service.update_account(
            uow.session, code=code, patch=body, version=version, actor=actor, now=clock()
        )
        out = AccountOut.model_validate(account)
    _with_etag(response, out.version)
    return out


# Standing settlement instructions ----------------------------------------------------------

ssis = APIRouter(prefix="/ssis", tags=["Standing settlement instructions"])


@ssis.post("", status_code=201, response_model=SsiOut, responses=problem_responses(409))
async def create_ssi(
    body: SsiIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Record a counterparty's SSI for a market (`mic`), a currency, or a market in one
    currency (both). Enrichment takes the most specific that fits an instruction: market and
    currency, else market, else currency; two equally specific ones send it to repair."""

    async def work(session: Any) -> SsiOut:
        return SsiOut.model_validate(
            await service.create_ssi(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{PREFIX}/ssis/{out['id']}",
    )


@ssis.get("", response_model=Page[SsiOut], responses=problem_responses())
async def list_ssis(
    uow: Uow,
    _actor: ReferenceRead,
    page: Paging,
    counterparty_lei: Annotated[Lei | None, Query()] = None,
    mic: Annotated[Mic | None, Query()] = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> Page[SsiOut]:
    rows, cursor = await service.list_ssis(
        uow.session, page=page, counterparty_lei=counterparty_lei, mic=mic, currency=currency
    )
    return Page(items=[SsiOut.model_validate(r) for r in rows], next_cursor=cursor)


@ssis.get("/{ssi_id}", response_model=SsiOut, responses=problem_responses(404))
async def get_ssi(ssi_id: str, response: Response, uow: Uow, _actor: ReferenceRead) -> SsiOut:
    ssi = await service.get_ssi(uow.session, ssi_id=ssi_id)
    _with_etag(response, ssi.version)
    return SsiOut.model_validate(ssi)


@ssis.patch("/{ssi_id}", response_model=SsiOut, responses=problem_responses(404, 412, 428))
async def update_ssi(
    ssi_id: str,
    body: SsiPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> SsiOut:
    async with uow:
        ssi = await service.update_ssi(
            uow.session, ssi_id=ssi_id, patch=body, version=version, actor=actor, now=clock()
        )
        out = SsiOut.model_validate(ssi)
    _with_etag(response, out.version)
    return out


@ssis.delete(
    "/{ssi_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(404, 412, 428),
)
async def delete_ssi(
    ssi_id: str, uow: Uow, actor: ReferenceWrite, clock: Now, version: Version
) -> Response:
    """Remove an SSI, e.g. the one too many behind an `SSI_AMBIGUOUS` repair reason. Send
    `If-Match` with the version you read (missing: 428, stale: 412). Instructions already made
    keep the SSI they copied; enrich those in repair again afterwards. Audited as `deleted`."""
    async with uow:
        await service.delete_ssi(
            uow.session, ssi_id=ssi_id, version=version, actor=actor, now=clock()
        )
    return Response(status_code=204)


# Prices and penalty rates ------------------------------------------------------------------

prices = APIRouter(prefix="/prices", tags=["Prices"])


@prices.post("", status_code=201, response_model=PriceOut, responses=problem_responses(409))
async def create_price(
    body: PriceIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Record a closing price (used for penalties and exposure); one per ISIN and date."""

    async def work(session: Any) -> PriceOut:
        return PriceOut.model_validate(
            await service.create_price(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request, uow, principal=actor.key_id, key=key, body=body, now=clock(), work=work
    )


@prices.get("", response_model=Page[PriceOut], responses=problem_responses())
async def list_prices(
    uow: Uow,
    _actor: ReferenceRead,
    page: Paging,
    isin: Annotated[Isin | None, Query()] = None,
    date_: Annotated[date | None, Query(alias="date")] = None,
) -> Page[PriceOut]:
    """Prices of one ISIN by date, or of one date by ISIN."""
    rows, cursor = await service.list_prices(uow.session, page=page, isin=isin, on=date_)
    return Page(items=[PriceOut.model_validate(r) for r in rows], next_cursor=cursor)


penalty_rates = APIRouter(prefix="/penalty-rates", tags=["Penalty rates"])


@penalty_rates.post(
    "", status_code=201, response_model=PenaltyRateOut, responses=problem_responses(409)
)
async def create_penalty_rate(
    body: PenaltyRateIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add a rate effective from a date; earlier rates stay in force for earlier days."""

    async def work(session: Any) -> PenaltyRateOut:
        return PenaltyRateOut.model_validate(
            await service.create_penalty_rate(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request, uow, principal=actor.key_id, key=key, body=body, now=clock(), work=work
    )


@penalty_rates.get("", response_model=Page[PenaltyRateOut], responses=problem_responses())
async def list_penalty_rates(
    uow: Uow, _actor: ReferenceRead, page: Paging, csdr_class: Annotated[str | None, Query()] = None
) -> Page[PenaltyRateOut]:
    rows, cursor = await service.list_penalty_rates(uow.session, page=page, csdr_class=csdr_class)
    return Page(items=[PenaltyRateOut.model_validate(r) for r in rows], next_cursor=cursor)


matching_tolerances = APIRouter(prefix="/matching-tolerances", tags=["Matching tolerances"])


@matching_tolerances.post(
    "", status_code=201, response_model=MatchingToleranceOut, responses=problem_responses(409)
)
async def create_matching_tolerance(
    body: MatchingToleranceIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """How far confirmations in a currency may differ from our trades (none: exact)."""

    async def work(session: Any) -> MatchingToleranceOut:
        tolerance = await service.create_matching_tolerance(
            session, data=body, actor=actor, now=clock()
        )
        return MatchingToleranceOut.model_validate(tolerance)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{PREFIX}/matching-tolerances/{out['currency']}",
    )


@matching_tolerances.get(
    "", response_model=Page[MatchingToleranceOut], responses=problem_responses()
)
async def list_matching_tolerances(
    uow: Uow, _actor: ReferenceRead, page: Paging
) -> Page[MatchingToleranceOut]:
    rows, cursor = await service.list_matching_tolerances(uow.session, page=page)
    return Page(items=[MatchingToleranceOut.model_validate(r) for r in rows], next_cursor=cursor)


@matching_tolerances.get(
    "/{currency}", response_model=MatchingToleranceOut, responses=problem_responses(404)
)
async def get_matching_tolerance(
    currency: str, response: Response, uow: Uow, _actor: ReferenceRead
) -> MatchingToleranceOut:
    tolerance = await service.get_matching_tolerance(uow.session, currency=currency.upper())
    _with_etag(response, tolerance.version)
    return MatchingToleranceOut.model_validate(tolerance)


@matching_tolerances.patch(
    "/{currency}",
    response_model=MatchingToleranceOut,
    responses=problem_responses(404, 412, 428),
)
async def update_matching_tolerance(
    currency: str,
    body: MatchingTolerancePatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> MatchingToleranceOut:
    async with uow:
        tolerance = await service.update_matching_tolerance(
            uow.session,
            currency=currency.upper(),
            patch=body,
            version=version,
            actor=actor,
            now=clock(),
        )
        out = MatchingToleranceOut.model_validate(tolerance)
    _with_etag(response, out.version)
    return out


for sub in (
    markets,
    calendars,
    instruments,
    counterparties,
    books,
    accounts,
    ssis,
    prices,
    penalty_rates,
    matching_tolerances,
):
    router.include_router(sub)
