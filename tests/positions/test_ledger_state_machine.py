"""The ledger under random activity, on both databases.

Hypothesis draws a run of operations through the service layer (book, amend and cancel trades;
settle them fully or partially, directly or through pending entries that are later posted or
voided; operations that must be refused; the clock moving to the evening, when the European
venues' date is already tomorrow's, or on to the next day) and a plain model of what those
operations mean predicts the book after every step. Checked from the database each time, as of
today and as of tomorrow: every entry sums to zero per asset and the ledger check passes; the
trade-date position per book and ISIN is the sum of the live trades counted by that day (and
cost less realised P&L is their signed principal); the settlement-date position per safekeeping
account is the sum of what settled; settled cash per cash account is the sum of the settled
amounts and projected cash adds what is still expected; and every answer recorded as of an
earlier day is still the answer now.

The book is bitemporal. A trade counts from its trade date whenever it was booked, and reversing
it (cancel, amend) takes it out from that same date; cost and realised P&L are those of the live
trades replayed in execution order (a trade booked late is costed at its execution time and the
trades after it are restated). Trades dated tomorrow at a European venue in the evening (UTC)
count from tomorrow, and a trade booked after them for today moves balances on a day before
their latest daily row. Whenever the clock moves on, the answers as known at that moment are
recorded (``known_at``): every later check proves that no later booking changed them.

pytest-asyncio runs an async ``@given`` test in the session's event loop, so each example starts
from a fresh database (``Database.load_reference``: the baseline and the demo reference data)
instead of taking the function-scoped ``db`` fixture.
"""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import SYSTEM_ACTOR
from app.core.calendars import BusinessCalendar
from app.core.db import UnitOfWork
from app.core.errors import Conflict, InvalidTransition, PreconditionFailed
from app.core.pagination import PageRequest
from app.positions.balances import service as balances_service
from app.positions.bookings import service as positions
from app.positions.bookings.service import Direction, SettlementMovement
from app.positions.costing import Holding, trade_effect
from app.positions.journal.models import Posting
from app.positions.ledger_check.service import check_ledger
from app.trades.capture import service as trades
from app.trades.capture.models import Trade
from app.trades.capture.schemas import TradeIn, TradePatch
from tests.conftest import DEFAULT_NOW, Database
from tests.factories import BUND, DEUTSCHE, GOLDMAN, JPM, TOTAL, bund_trade_payload, trade_payload
from tests.support import FrozenClock

ZERO = Decimal(0)
CENT = Decimal("0.01")
# The profile's example count scaled down: each example is a whole run against the database.
EXAMPLES = max(20, settings().max_examples // 5)
# Steps a run: 30 (the default 50 of the profile scaled), 60 under `make test-deep`.
MAX_STEPS = settings().stateful_step_count * 3 // 5
ALL = PageRequest(limit=1000)
BOOKS = ("EQ-FLOW", "FI-RATES")
COUNTERPARTIES = (GOLDMAN, DEUTSCHE)
# Trading days at every demo venue, neither in the future at the first step.
TRADE_DATES = (date(2026, 11, 24), date(2026, 11, 25))
AFTERNOON = time(15, 0)
# 00:30 the next day in Paris and Brussels, 18:30 in New York.
EVENING = time(23, 30)


@dataclass(frozen=True)
class Listing:
    """An instrument as the test trades it, and where it settles."""

    isin: str
    currency: str
    timezone: str
    calendar: BusinessCalendar = field(repr=False)
    securities_account: str
    cash_account: str
    percent_of_nominal: bool
    payload: Callable[..., dict[str, Any]] = field(repr=False)
    quantity: st.SearchStrategy[Decimal] = field(repr=False)
    price: st.SearchStrategy[Decimal] = field(repr=False)
    charges: st.SearchStrategy[Decimal] = field(repr=False)


def _hundredths(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n) / 100)


def _total_payload(**overrides: Any) -> dict[str, Any]:
    return trade_payload(**{"isin": TOTAL, "currency": "EUR", "venue": "XPAR", **overrides})


LISTINGS = (
    Listing(
        JPM,
        "USD",
        "America/New_York",
        BusinessCalendar(["XNYS"]),
        "SEC-DTC",
        "CASH-USD",
        False,
        trade_payload,
        st.integers(1, 500).map(Decimal),
        _hundredths(1000, 50000),
        _hundredths(0, 500),
    ),
    Listing(
        TOTAL,
        "EUR",
        "Europe/Paris",
        BusinessCalendar(["XPAR"]),
        "SEC-EOCF",
        "CASH-EUR",
        False,
        _total_payload,
        st.integers(1, 500).map(Decimal),
        _hundredths(1000, 9000),
        _hundredths(0, 500),
    ),
    Listing(
        BUND,
        "EUR",
        "Europe/Brussels",
        BusinessCalendar(["XECB"]),
        "SEC-EB",
        "CASH-EUR",
        True,
        bund_trade_payload,
        st.integers(1, 5000).map(lambda n: Decimal(n * 1000)),
        st.integers(700_000, 1_200_000).map(lambda n: Decimal(n) / 10_000),
        st.just(ZERO),
    ),
)
BY_ISIN = {listing.isin: listing for listing in LISTINGS}
ISINS = list(BY_ISIN)


# The model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookEntry:
    """What a trade entry (or its reversal) does to a book's position, from its accounting
    date: quantity, and signed principal (the change of cost less realised P&L)."""

    on: date
    book: str
    isin: str
    quantity: Decimal
    principal: Decimal


@dataclass
class TradeState:
    id: str
    listing: Listing
    book: str
    lei: str
    side: str
    quantity: Decimal
    gross: Decimal
    net: Decimal
    trade_date: date
    trade_time: datetime
    settlement_date: date
    version: int
    entry: BookEntry | None = None  # the live trade entry
    # When its live entry was booked, among all bookings: ties of execution time keep this order.
    booked: int = 0
    # Settlement activity (settled, or expected): the trade is no longer amended or cancelled.
    touched: bool = False
    settled_quantity: Decimal = ZERO
    settled_amount: Decimal = ZERO

    @property
    def live(self) -> bool:
        return self.entry is not None

    @property
    def sign(self) -> int:
        return 1 if self.side == "buy" else -1

    @property
    def direction(self) -> Direction:
        return Direction.RECEIVE if self.side == "buy" else Direction.DELIVER


@dataclass
class PendingState:
    id: str
    trade: TradeState
    quantity: Decimal
    amount: Decimal


Snapshot = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]
Expected = dict[tuple[str, str], tuple[Decimal, Decimal]]
Costed = dict[tuple[str, str], tuple[Decimal, Decimal, Decimal]]


def _zeros() -> Expected:
    return defaultdict(lambda: (ZERO, ZERO))


@dataclass
class Model:
    trades: dict[str, TradeState] = field(default_factory=dict)
    book_entries: list[BookEntry] = field(default_factory=list)
    pending: dict[str, PendingState] = field(default_factory=dict)
    resolved_pending: list[str] = field(default_factory=list)
    settled_securities: dict[tuple[str, str], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    settled_cash: dict[tuple[str, str], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    # Answers as known at past moments (the day asked about, the moment): they never change.
    recorded: dict[tuple[date, datetime], Snapshot] = field(default_factory=dict)
    bookings: int = 0

    def live(self) -> list[TradeState]:
        return [t for t in self.trades.values() if t.live]

    def amendable(self) -> list[TradeState]:
        return [t for t in self.live() if not t.touched]

    def post_trade(self, trade: TradeState, *, rebooked: bool = True) -> None:
        if rebooked:
            self.bookings += 1
            trade.booked = self.bookings
        trade.entry = BookEntry(
            trade.trade_date,
            trade.book,
            trade.listing.isin,
            trade.sign * trade.quantity,
            trade.sign * trade.gross,
        )
        self.book_entries.append(trade.entry)

    def reverse_trade(self, trade: TradeState) -> None:
        live = trade.entry
        assert live is not None
        self.book_entries.append(
            BookEntry(live.on, live.book, live.isin, -live.quantity, -live.principal)
        )
        trade.entry = None

    def unsettled(self, trade: TradeState) -> tuple[Decimal, Decimal]:
        """What is neither settled nor expected yet: quantity and cash."""
        expected = [p for p in self.pending.values() if p.trade is trade]
        return (
            trade.quantity - trade.settled_quantity - sum((p.quantity for p in expected), ZERO),
            trade.net - trade.settled_amount - sum((p.amount for p in expected), ZERO),
        )

    def settleable(self) -> list[TradeState]:
        return [t for t in self.live() if self.unsettled(t)[0] > 0]

    def settle(self, trade: TradeState, quantity: Decimal, amount: Decimal) -> None:
        trade.touched = True
        trade.settled_quantity += quantity
        trade.settled_amount += amount
        listing = trade.listing
        self.settled_securities[(listing.securities_account, listing.isin)] += trade.sign * quantity
        self.settled_cash[(listing.cash_account, listing.currency)] -= trade.sign * amount

    def trade_date_positions(self, as_of: date) -> Expected:
        """Per (book, ISIN) as of a day: quantity, and cost less realised P&L."""
        expected = _zeros()
        for entry in self.book_entries:
            if entry.on <= as_of:
                quantity, principal = expected[(entry.book, entry.isin)]
                expected[(entry.book, entry.isin)] = (
                    quantity + entry.quantity,
                    principal + entry.principal,
                )
        return expected

    def costed_positions(self, as_of: date) -> Costed:
        """Per (book, ISIN) as of a day: quantity, cost and realised P&L, the live trades'
        effects computed in execution order and counted from their trade dates."""
        holdings: dict[tuple[str, str], Holding] = defaultdict(Holding)
        counted: dict[tuple[str, str], Holding] = defaultdict(Holding)
        for trade in sorted(self.live(), key=lambda t: (t.trade_time, t.booked)):
            key = (trade.book, trade.listing.isin)
            effect = trade_effect(
                holdings[key],
                quantity=trade.sign * trade.quantity,
                principal=trade.gross,
                currency=trade.listing.currency,
            )
            holdings[key] = holdings[key] + effect
            if trade.trade_date <= as_of:
                counted[key] = counted[key] + effect
        return {key: (h.quantity, h.cost, h.realized_pnl) for key, h in counted.items()}

    def settlement_positions(self) -> Expected:
        """Per (safekeeping account, ISIN): settled quantity and still expected quantity."""
        expected = _zeros()
        for key, quantity in self.settled_securities.items():
            expected[key] = (quantity, ZERO)
        for pending in self.pending.values():
            listing = pending.trade.listing
            key = (listing.securities_account, listing.isin)
            settled, expecting = expected[key]
            expected[key] = (settled, expecting + pending.trade.sign * pending.quantity)
        return expected

    def cash(self) -> Expected:
        """Per (cash account, currency): settled cash and cash still expected."""
        expected = _zeros()
        for key, amount in self.settled_cash.items():
            expected[key] = (amount, ZERO)
        for pending in self.pending.values():
            listing = pending.trade.listing
            key = (listing.cash_account, listing.currency)
            settled, expecting = expected[key]
            expected[key] = (settled, expecting - pending.trade.sign * pending.amount)
        return expected


def _gross(listing: Listing, quantity: Decimal, price: Decimal) -> Decimal:
    value = quantity * price / 100 if listing.percent_of_nominal else quantity * price
    return value.quantize(CENT, ROUND_HALF_EVEN)


# The run ---------------------------------------------------------------------------------------


class Run:
    def __init__(self, db: Database, data: st.DataObject) -> None:
        self.db = db
        self.data = data
        self.clock = FrozenClock(DEFAULT_NOW)
        self.model = Model()

    @property
    def today(self) -> date:
        return self.clock().date()

    def draw(self, strategy: st.SearchStrategy[Any], label: str) -> Any:
        return self.data.draw(strategy, label=label)

    # Trades and pending entries are drawn by id, so a failing example reads as a script.
    def pick_trade(self, among: list[TradeState], label: str = "trade") -> TradeState:
        return self.model.trades[self.draw(st.sampled_from([t.id for t in among]), label)]

    def pick_pending(self) -> PendingState:
        return self.model.pending[self.draw(st.sampled_from(list(self.model.pending)), "pending")]

    def log(self, text: str) -> None:
        """Shown with a failing example: what each step did, in the test's words."""
        note(f"{self.today} {text}")

    # Operations ---------------------------------------------------------------------------

    def _post(self, trade: TradeState, *, rebooked: bool = True) -> None:
        self.model.post_trade(trade, rebooked=rebooked)
        entry = trade.entry
        assert entry is not None
        if entry.on > self.today:
            event("a trade counts from tomorrow")
        elif any(
            (e.book, e.isin) == (entry.book, entry.isin) and e.on > entry.on
            for e in self.model.book_entries
        ):
            event("a trade counts from a day before the position's latest daily row")
        if any(
            (t.book, t.listing.isin) == (trade.book, trade.listing.isin)
            and t.trade_time > trade.trade_time
            for t in self.model.live()
        ):
            event("a trade executed before one already booked: its followers are restated")

    def trade_dates(self, listing: Listing) -> list[date]:
        """Trading days at the venue that are not in the future there."""
        local_today = self.clock().astimezone(ZoneInfo(listing.timezone)).date()
        candidates = {*TRADE_DATES, self.today, local_today}
        return sorted(
            day
            for day in candidates
            if day <= local_today and listing.calendar.is_business_day(day)
        )

    def _adopt(self, trade: TradeState, row: Trade) -> bool:
        """Take the amended row's terms; whether the journal sees a change."""
        before = (trade.trade_date, trade.trade_time, trade.side, trade.quantity, trade.gross)
        trade.trade_date = row.trade_date
        trade.trade_time = row.trade_time
        trade.side = row.side
        trade.quantity = row.quantity
        trade.gross = row.gross_amount
        trade.net = row.net_amount
        trade.settlement_date = row.settlement_date
        trade.version = row.version
        return before != (
            trade.trade_date,
            trade.trade_time,
            trade.side,
            trade.quantity,
            trade.gross,
        )

    def ahead(self) -> list[Listing]:
        """Venues where it is already a trading day later than today (UTC)."""
        return [listing for listing in LISTINGS if self.trade_dates(listing)[-1] > self.today]

    async def book(self) -> None:
        await self._book(LISTINGS, ahead=False)

    async def book_ahead(self) -> None:
        """A trade dated the venue's today, which is tomorrow in UTC: it counts from tomorrow."""
        await self._book(self.ahead(), ahead=True)

    async def _book(self, listings: Sequence[Listing], *, ahead: bool) -> None:
        live = [t for t in self.model.live() if t.listing in listings]
        # Often into a position that exists: adding to it, reducing it, closing it, turning it.
        like = self.pick_trade(live, "like") if live and self.draw(st.booleans(), "add") else None
        isins = [listing.isin for listing in listings]
        listing = like.listing if like else BY_ISIN[self.draw(st.sampled_from(isins), "isin")]
        side = self.draw(st.sampled_from(["buy", "sell"]), "side")
        quantity = self.draw(listing.quantity, "quantity")
        price = self.draw(listing.price, "price")
        commission = self.draw(listing.charges, "commission")
        fees = self.draw(listing.charges, "fees")
        trade_dates = self.trade_dates(listing)
        trade_date = (
            trade_dates[-1] if ahead else self.draw(st.sampled_from(trade_dates), "trade_date")
        )
        executed = datetime.combine(trade_date, time(14, 45), UTC)
        payload = listing.payload(
            book=like.book if like else self.draw(st.sampled_from(BOOKS), "book"),
            counterparty_lei=self.draw(st.sampled_from(COUNTERPARTIES), "counterparty"),
            side=side,
            quantity=str(quantity),
            price=str(price),
            commission=str(commission),
            fees=str(fees),
            trade_date=trade_date.isoformat(),
            trade_time=min(executed, self.clock() - timedelta(minutes=1)).isoformat(),
        )
        async with self.db.sessionmaker() as session, UnitOfWork(session):
            row = await trades.capture_trade(
                session, data=TradeIn.model_validate(payload), actor=SYSTEM_ACTOR, now=self.clock()
            )
        assert (row.side, row.quantity) == (side, quantity)
        assert row.gross_amount == _gross(listing, quantity, price)
        trade = TradeState(
            id=row.id,
            listing=listing,
            book=row.book,
            lei=row.counterparty_lei,
            side=row.side,
            quantity=row.quantity,
            gross=row.gross_amount,
            net=row.net_amount,
            trade_date=row.trade_date,
            trade_time=row.trade_time,
            settlement_date=row.settlement_date,
            version=row.version,
        )
        self.model.trades[trade.id] = trade
        self._post(trade)
        self.log(f"book {trade.id} {side} {quantity} {listing.isin} @ {price} in {trade.book}")

    async def amend(self) -> None:
        trade = self.pick_trade(self.model.amendable())
        listing = trade.listing
        changes: dict[str, str] = {}
        if self.draw(st.booleans(), "new quantity"):
            changes["quantity"] = str(self.draw(listing.quantity, "quantity"))
        if self.draw(st.booleans(), "new price"):
            changes["price"] = str(self.draw(listing.price, "price"))
        if self.draw(st.booleans(), "other side"):
            changes["side"] = "sell" if trade.side == "buy" else "buy"
        if self.draw(st.booleans(), "new trade date"):
            trade_date = self.draw(st.sampled_from(self.trade_dates(listing)), "trade_date")
            changes["trade_date"] = trade_date.isoformat()
        async with self.db.sessionmaker() as session, UnitOfWork(session):
            row = await trades.amend_trade(
                session,
                trade_id=trade.id,
                patch=TradePatch.model_validate(changes),
                version=trade.version,
                actor=SYSTEM_ACTOR,
                now=self.clock(),
            )
        if "price" in changes:
            assert row.gross_amount == _gross(listing, row.quantity, Decimal(changes["price"]))
        # Reversed and booked again (when nothing the journal shows changed, the service posts
        # nothing, which comes to the same positions on every day).
        self.model.reverse_trade(trade)
        changed = self._adopt(trade, row)
        self._post(trade, rebooked=changed)
        self.log(f"amend {trade.id} {changes} -> v{trade.version}")

    async def cancel(self) -> None:
        trade = self.pick_trade(self.model.amendable())
        async with self.db.sessionmaker() as session, UnitOfWork(session):
            await trades.cancel_trade(
                session,
                trade_id=trade.id,
                reason="Booked in error",
                actor=SYSTEM_ACTOR,
                now=self.clock(),
            )
        self.model.reverse_trade(trade)
        self.log(f"cancel {trade.id}")

    def _portion(self, quantity: Decimal, amount: Decimal) -> tuple[Decimal, Decimal]:
        """All of ``quantity`` and ``amount``, or a part of the quantity with its share of the
        cash, rounded down to the cent (so a part always leaves some of both)."""
        if quantity == 1 or self.draw(st.booleans(), "all of it"):
            return quantity, amount
        part = Decimal(self.draw(st.integers(1, int(quantity) - 1), "part"))
        return part, min(amount, (amount * part / quantity).quantize(CENT, ROUND_DOWN))

    def _movement(
        self, trade: TradeState, quantity: Decimal, amount: Decimal, on: date | None = None
    ) -> SettlementMovement:
        """The settlement of ``trade`` on ``on`` or, by default, a day from its trade date (or
        today, for a trade dated tomorrow) to today."""
        if on is None:
            first = min(trade.trade_date, self.today)
            on = first + timedelta(days=self.draw(st.integers(0, (self.today - first).days), "day"))
        listing = trade.listing
        return SettlementMovement(
            reference=trade.id,
            counterparty=trade.lei,
            direction=trade.direction,
            isin=listing.isin,
            quantity=quantity,
            currency=listing.currency,
            amount=amount,
            securities_account=listing.securities_account,
            cash_account=listing.cash_account,
            settlement_date=on,
        )

    async def settle(self) -> None:
        """A settlement nobody announced: posted straight to the journal."""
        trade = self.pick_trade(self.model.settleable())
        quantity, amount = self._portion(*self.model.unsettled(trade))
        movement = self._movement(trade, quantity, amount)
        async with self.db.sessionmaker() as session, UnitOfWork(session):
            posted = await positions.post_settlement(
                session, movement=movement, actor=SYSTEM_ACTOR, now=self.clock()
            )
        assert posted.remainder_pending_id is None
        event("settle: " + ("all" if quantity == self.model.unsettled(trade)[0] else "part"))
        self.model.settle(trade, quantity, amount)
        self.log(f"settle {trade.id} {quantity} for {amount}")

    async def expect(self) -> None:
        """What is left of a trade becomes due: a pending entry."""
        trade = self.pick_trade(self.model.settleable())
        quantity, amount = self.model.unsettled(trade)
        movement = self._movement(trade, quantity, amount, on=trade.settlement_date)
        async with self.db.sessionmaker() as session, UnitOfWork(session):
            pending_id = await positions.expect_settlement(
                session, movement=movement, actor=SYSTEM_ACTOR, now=self.clock()
            )
        trade.touched = True
        self.model.pending[pending_id] = PendingState(pending_id, trade, quantity, amount)
        self.log(f"expect {trade.id} {quantity} for {amount} as {pending_id}")

    async def settle_pending(self) -> None:
        pending = self.pick_pending()
        trade = pending.trade
        quantity, amount = self._portion(pending.quantity, pending.amount)
        movement = self._movement(trade, quantity, amount)
        async with self.db.sessionmaker() as session, UnitOfWork(session):
            posted = await positions.post_settlement(
                session,
                movement=movement,
                actor=SYSTEM_ACTOR,
                now=self.clock(),
                pending_id=pending.id,
            )
        del self.model.pending[pending.id]
        self.model.resolved_pending.append(pending.id)
        self.model.settle(trade, quantity, amount)
        rest = (pending.quantity - quantity, pending.amount - amount)
        event("settle pending: " + ("all" if rest == (ZERO, ZERO) else "part, rest expected"))
        if rest == (ZERO, ZERO):
            assert posted.remainder_pending_id is None
        else:
            assert posted.remainder_pending_id is not None
            self.model.pending[posted.remainder_pending_id] = PendingState(
                posted.remainder_pending_id, trade, *rest
            )
        self.log(f"settle {pending.id} {quantity} for {amount}, rest {posted.remainder_pending_id}")

    async def void(self) -> None:
        pending = self.pick_pending()
        async with self.db.sessionmaker() as session, UnitOfWork(session):
            await positions.void_pending(
                session,
                pending_id=pending.id,
                reason="Instruction cancelled",
                actor=SYSTEM_ACTOR,
                now=self.clock(),
            )
        del self.model.pending[pending.id]
        self.model.resolved_pending.append(pending.id)
        self.log(f"void {pending.id}")

    async def record(self) -> None:
        """What the book says now, of today and of the day before: it must never change."""
        moment = self.clock()
        for day in (self.today - timedelta(days=1), self.today):
            self.model.recorded[(day, moment)] = await self.snapshot(day, known_at=moment)

    async def evening(self) -> None:
        await self.record()
        self.clock.set(datetime.combine(self.today, EVENING, UTC))
        self.log("evening")

    async def advance(self) -> None:
        await self.record()
        self.clock.set(datetime.combine(self.today + timedelta(days=1), AFTERNOON, UTC))
        self.log("next day")

    async def refused(self) -> None:
        """Something the services must refuse, leaving nothing behind (the model is unchanged
        and the checks after the step prove the database is too)."""
        model = self.model
        cancelled = [t for t in model.trades.values() if not t.live]
        kinds = [
            kind
            for kind, possible in (
                ("cancel a cancelled trade", bool(cancelled)),
                ("amend at a stale version", bool(model.amendable())),
                ("void a resolved pending entry", bool(model.resolved_pending)),
                ("settle more than expected", bool(model.pending)),
            )
            if possible
        ]
        if not kinds:
            return
        kind = self.draw(st.sampled_from(kinds), "refusal")
        now = self.clock()
        error: type[Exception]
        call: Callable[[AsyncSession], Awaitable[object]]
        if kind == "cancel a cancelled trade":
            gone = self.pick_trade(cancelled)
            error, target = InvalidTransition, gone.id

            def call(session: AsyncSession) -> Awaitable[object]:
                return trades.cancel_trade(
                    session, trade_id=gone.id, reason="Again", actor=SYSTEM_ACTOR, now=now
                )

        elif kind == "amend at a stale version":
            stale = self.pick_trade(model.amendable())
            error, target = PreconditionFailed, stale.id
            patch = TradePatch.model_validate({"quantity": str(stale.quantity * 2)})

            def call(session: AsyncSession) -> Awaitable[object]:
                return trades.amend_trade(
                    session,
                    trade_id=stale.id,
                    patch=patch,
                    version=stale.version - 1,
                    actor=SYSTEM_ACTOR,
                    now=now,
                )

        elif kind == "void a resolved pending entry":
            done: str = self.draw(st.sampled_from(model.resolved_pending), "pending")
            error, target = InvalidTransition, done

            def call(session: AsyncSession) -> Awaitable[object]:
                return positions.void_pending(
                    session, pending_id=done, reason="Again", actor=SYSTEM_ACTOR, now=now
                )

        else:
            pending = self.pick_pending()
            error, target = Conflict, pending.id
            too_much = self._movement(pending.trade, pending.quantity + 1, pending.amount)

            def call(session: AsyncSession) -> Awaitable[object]:
                return positions.post_settlement(
                    session, movement=too_much, actor=SYSTEM_ACTOR, now=now, pending_id=pending.id
                )

        with pytest.raises(error) as refusal:
            async with self.db.sessionmaker() as session, UnitOfWork(session):
                await call(session)
        assert type(refusal.value) is error, refusal.value
        event(f"refused: {kind}")
        self.log(f"refused: {kind} ({target})")

    # Checks -------------------------------------------------------------------------------

    async def snapshot(self, as_of: date, *, known_at: datetime | None = None) -> Snapshot:
        async with self.db.sessionmaker() as session:
            by_book, more = await balances_service.positions(
                session, basis="trade_date", as_of=as_of, page=ALL, known_at=known_at
            )
            assert more is None
            by_account, more = await balances_service.positions(
                session, basis="settlement_date", as_of=as_of, page=ALL, known_at=known_at
            )
            assert more is None
            cash, more = await balances_service.cash_balances(
                session, as_of=as_of, page=ALL, known_at=known_at
            )
            assert more is None
        return (
            sorted(
                (p.book, p.isin, p.quantity, p.average_cost, p.cost, p.realized_pnl)
                for p in by_book
            ),
            sorted((p.account, p.isin, p.quantity, p.pending) for p in by_account),
            sorted((c.account, c.currency, c.settled, c.pending, c.projected) for c in cash),
        )

    async def check(self) -> None:
        model = self.model
        # Only in the evening can an entry count from tomorrow.
        tomorrow = [self.today + timedelta(days=1)] if self.clock().time() == EVENING else []
        for as_of in [self.today, *tomorrow]:
            by_book, by_account, cash = await self.snapshot(as_of)

            found = {(book, isin): (q, cost - pnl) for book, isin, q, _, cost, pnl in by_book}
            expected = model.trade_date_positions(as_of)
            for key in found.keys() | expected.keys():
                assert found.get(key, (ZERO, ZERO)) == expected[key], ("trade date", as_of, key)
            costed = {(book, isin): (q, cost, pnl) for book, isin, q, _, cost, pnl in by_book}
            should = model.costed_positions(as_of)
            for key in costed.keys() | should.keys():
                found_costs = costed.get(key, (ZERO, ZERO, ZERO))
                assert found_costs == should.get(key, (ZERO, ZERO, ZERO)), ("cost", as_of, key)

            held = {(account, isin): (q, pending) for account, isin, q, pending in by_account}
            expected = model.settlement_positions()
            for key in held.keys() | expected.keys():
                assert held.get(key, (ZERO, ZERO)) == expected[key], ("settled", as_of, key)

            balances = {}
            for account, currency, settled, pending, projected in cash:
                assert projected == settled + pending, (as_of, account, currency)
                balances[(account, currency)] = (settled, pending)
            expected = model.cash()
            for key in balances.keys() | expected.keys():
                assert balances.get(key, (ZERO, ZERO)) == expected[key], ("cash", as_of, key)

        async with self.db.sessionmaker() as session:
            report = await check_ledger(session)
            assert report.ok, report.problems
            sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
            for entry_id, asset, amount in await session.execute(
                select(Posting.entry_id, Posting.asset, Posting.amount)
            ):
                sums[(entry_id, asset)] += amount
        assert {key: total for key, total in sums.items() if total} == {}

        for (day, moment), answer in model.recorded.items():
            assert await self.snapshot(day, known_at=moment) == answer, ("known at", day, moment)


# (operation, when it is possible, weight): settling takes several steps, so it is drawn more.
OPERATIONS: list[tuple[str, Callable[[Run], bool], int]] = [
    ("book", lambda run: True, 3),
    ("book_ahead", lambda run: bool(run.ahead()), 2),
    ("settle", lambda run: bool(run.model.settleable()), 2),
    ("expect", lambda run: bool(run.model.settleable()), 2),
    ("settle_pending", lambda run: bool(run.model.pending), 3),
    ("advance", lambda run: True, 1),
    ("evening", lambda run: run.clock().time() == AFTERNOON, 1),
    ("amend", lambda run: bool(run.model.amendable()), 2),
    ("cancel", lambda run: bool(run.model.amendable()), 1),
    ("void", lambda run: bool(run.model.pending), 1),
    ("refused", lambda run: bool(run.model.trades), 1),
]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    # Explaining which draws matter replays a failing run hundreds of times: minutes here.
    phases=[phase for phase in Phase if phase is not Phase.explain],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
async def test_random_activity_keeps_positions_cash_and_past_answers_equal_to_the_model(
    database: Database, data: st.DataObject
) -> None:
    await database.load_reference()
    run = Run(database, data)
    # Nothing was booked before the first step: what the book knew then is empty and stays so,
    # whatever is booked later for those days.
    before = run.clock() - timedelta(seconds=1)
    for day in (run.today - timedelta(days=1), run.today):
        run.model.recorded[(day, before)] = ([], [], [])
    steps = run.draw(st.integers(1, MAX_STEPS), "steps")
    for _ in range(steps):
        enabled = [
            name for name, possible, weight in OPERATIONS if possible(run) for _ in range(weight)
        ]
        name = run.draw(st.sampled_from(enabled), "operation")
        event(f"operation: {name}")
        await getattr(run, name)()
        await run.check()
