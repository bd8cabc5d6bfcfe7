"""Confirmation matching (pure): compare our trade with the counterparty's view of it.

Each difference is reported with its ISO 20022 unmatched-reason code (the code list that sese.024
status advices use) and both values, so the exception queue shows what to fix without a lookup.
One case has no ISO code and gets a proprietary one: ``MULT``, several of our trades fit.
No database access here: the caller loads the trade, the confirmation and the tolerance.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import (
    MAX_PREC,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum

from app.core.money import format_decimal

BASIS_POINT_EXPONENT = -4  # one basis point is 10^-4 of the amount

# Differences and allowances are computed without rounding: at the default 28 digits a large
# amount times a basis-point figure would be rounded, and rounding may flip a case at the edge.
# The trap turns any rounding we did not foresee into an error instead of a silent answer.
_EXACT = Context(prec=MAX_PREC, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])

_OPPOSITE = {"buy": "sell", "sell": "buy"}


class ReasonCode(StrEnum):
    """ISO 20022 unmatched-reason codes (UnmatchedReason code sets used by sese.024), and one
    proprietary code.

    ``DELN`` is ISO's code for a trade direction that does not match (a receipt instructed where a
    delivery is expected, or the reverse): here, both parties bought or both sold.
    ``CMIS`` and ``MULT`` are never produced by :func:`compare`: the caller reports them when
    it finds no single trade. ``CMIS`` is ISO's "no matching instruction": no trade of ours at
    all. ``MULT`` is ours (ISO has no code for it): several of our trades fit the confirmation
    equally, and which one it means is for operations to say, never guessed.
    """

    DQUA = "DQUA"  # quantity
    DDEA = "DDEA"  # deal price
    DMON = "DMON"  # settlement amount
    NCRR = "NCRR"  # settlement currency
    ACRU = "ACRU"  # accrued interest
    DSEC = "DSEC"  # security (ISIN)
    DTRD = "DTRD"  # trade date
    DDAT = "DDAT"  # settlement date
    DELN = "DELN"  # direction: delivery vs receipt (buy vs sell)
    CMIS = "CMIS"  # no matching instruction/trade
    MULT = "MULT"  # proprietary: several candidate trades fit the economics


@dataclass(frozen=True)
class Terms:
    """One party's view of the trade; ``side`` is that party's own side (``buy`` or ``sell``).
    ``accrued_interest`` is None where that party states none (equities; a confirmation that
    does not carry it)."""

    isin: str
    side: str
    quantity: Decimal
    price: Decimal
    currency: str
    trade_date: date
    settlement_date: date
    net_amount: Decimal
    accrued_interest: Decimal | None = None


@dataclass(frozen=True)
class Tolerance:
    """What a currency's matching lets differ; the defaults (and ``None``) mean exact.

    ``net_amount_bps`` is in basis points of OUR net amount. When both amount tolerances are set,
    a difference within EITHER of them is accepted (the more generous one wins).
    """

    price_abs: Decimal = Decimal(0)
    net_amount_abs: Decimal | None = None
    net_amount_bps: Decimal | None = None

    def __post_init__(self) -> None:
        _check_allowance("price_abs", self.price_abs)
        for name in ("net_amount_abs", "net_amount_bps"):
            value = getattr(self, name)
            if value is not None:
                _check_allowance(name, value)


def _check_allowance(name: str, value: object) -> None:
    # A negative allowance would refuse even equal values and a NaN would make every comparison
    # raise: refuse both where the tolerance is built, not in the middle of a match.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {format_decimal(value)}")


@dataclass(frozen=True)
class Reason:
    """One difference: its code, the field, and both values as plain decimal or ISO strings."""

    code: ReasonCode
    field: str
    ours: str
    theirs: str


@dataclass(frozen=True)
class Outcome:
    matched: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Selection:
    """The single economic candidate, or every candidate id (sorted) when there is more than one."""

    trade_id: str | None
    ambiguous: tuple[str, ...]


def _difference(a: Decimal, b: Decimal) -> Decimal:
    with localcontext(_EXACT):
        return abs(a - b)


def price_within(*, ours: Decimal, theirs: Decimal, tolerance: Tolerance) -> bool:
    """Whether the deal prices differ by no more than ``price_abs`` (the limit itself matches)."""
    return _difference(ours, theirs) <= tolerance.price_abs


def amount_within(
    *, ours: Decimal, theirs: Decimal, tolerance: Tolerance, relative_to: Decimal | None = None
) -> bool:
    """Whether two amounts differ by no more than the absolute OR the basis-point allowance
    (the limit itself matches); with neither set, they must be equal. The basis points are of
    ``relative_to``, by default of ``ours``."""
    difference = _difference(ours, theirs)
    if tolerance.net_amount_abs is None and tolerance.net_amount_bps is None:
        return difference == 0
    if tolerance.net_amount_abs is not None and difference <= tolerance.net_amount_abs:
        return True
    if tolerance.net_amount_bps is not None:
        base = ours if relative_to is None else relative_to
        with localcontext(_EXACT):
            # A relative allowance is a size, whatever the sign convention of the amount.
            allowance = (abs(base) * tolerance.net_amount_bps).scaleb(BASIS_POINT_EXPONENT)
        return difference <= allowance
    return False


def _accrued_interest_reason(ours: Terms, theirs: Terms, tolerance: Tolerance) -> Reason | None:
    """ACRU when both state accrued interest and it differs by more than the settlement amount
    may: the accrued interest is part of that amount, so the same allowance (absolute, or
    basis points of OUR settlement amount) applies to it, and a difference the amount
    tolerance accepts is not reported on its part either."""
    our_interest, their_interest = ours.accrued_interest, theirs.accrued_interest
    if our_interest is None or their_interest is None:
        return None
    if amount_within(
        ours=our_interest, theirs=their_interest, tolerance=tolerance, relative_to=ours.net_amount
    ):
        return None
    return Reason(
        ReasonCode.ACRU,
        "accrued_interest",
        format_decimal(our_interest),
        format_decimal(their_interest),
    )


def _sides_oppose(ours: str, theirs: str) -> bool:
    return _OPPOSITE.get(ours) == theirs


def compare(*, ours: Terms, theirs: Terms, tolerance: Tolerance) -> Outcome:
    """Every difference between our terms and theirs, in the order isin, side, quantity, price,
    currency, trade date, settlement date, accrued interest, net amount.

    A currency difference is one reason, NCRR: amounts in different currencies are not
    compared, so it brings no DMON (net amount) or ACRU (accrued interest) with it, which
    would only repeat it. Accrued interest is compared only when both sides state it."""
    reasons: list[Reason] = []

    def differ(code: ReasonCode, field: str, ours_value: str, theirs_value: str) -> None:
        reasons.append(Reason(code=code, field=field, ours=ours_value, theirs=theirs_value))

    def differ_in_amount(
        code: ReasonCode, field: str, ours_value: Decimal, theirs_value: Decimal
    ) -> None:
        differ(code, field, format_decimal(ours_value), format_decimal(theirs_value))

    if ours.isin != theirs.isin:
        differ(ReasonCode.DSEC, "isin", ours.isin, theirs.isin)
    if not _sides_oppose(ours.side, theirs.side):
        differ(ReasonCode.DELN, "side", ours.side, theirs.side)
    if ours.quantity != theirs.quantity:
        differ_in_amount(ReasonCode.DQUA, "quantity", ours.quantity, theirs.quantity)
    if not price_within(ours=ours.price, theirs=theirs.price, tolerance=tolerance):
        differ_in_amount(ReasonCode.DDEA, "price", ours.price, theirs.price)
    same_currency = ours.currency == theirs.currency
    if not same_currency:
        differ(ReasonCode.NCRR, "currency", ours.currency, theirs.currency)
    if ours.trade_date != theirs.trade_date:
        differ(
            ReasonCode.DTRD,
            "trade_date",
            ours.trade_date.isoformat(),
            theirs.trade_date.isoformat(),
        )
    if ours.settlement_date != theirs.settlement_date:
        differ(
            ReasonCode.DDAT,
            "settlement_date",
            ours.settlement_date.isoformat(),
            theirs.settlement_date.isoformat(),
        )
    accrued = _accrued_interest_reason(ours, theirs, tolerance) if same_currency else None
    if accrued is not None:
        reasons.append(accrued)
    if same_currency and not amount_within(
        ours=ours.net_amount, theirs=theirs.net_amount, tolerance=tolerance
    ):
        differ_in_amount(ReasonCode.DMON, "net_amount", ours.net_amount, theirs.net_amount)
    return Outcome(matched=not reasons, reasons=tuple(reasons))


def several_fit(candidates: Sequence[str], *, trade_reference: str | None) -> Reason:
    """The reason a confirmation that several of our trades fit is not matched: MULT
    (proprietary), not CMIS, which says there is no trade at all. Operations choose (force-match
    names the trade); the trades are listed, the reference (or its absence) is theirs."""
    return Reason(
        code=ReasonCode.MULT,
        field="trade_reference" if trade_reference else "economics",
        ours=f"{len(candidates)} trades fit: " + ", ".join(candidates),
        theirs=trade_reference or "no reference",
    )


def is_economic_candidate(*, ours: Terms, theirs: Terms, tolerance: Tolerance) -> bool:
    """Whether our trade could be the one a confirmation without a trade reference means: same
    ISIN, opposite side, same trade date, same quantity, price within tolerance. The settlement
    date and the amount are left to :func:`compare`, so a near miss is found and reported rather
    than left alleged; the counterparty is the caller's query."""
    return (
        ours.isin == theirs.isin
        and _sides_oppose(ours.side, theirs.side)
        and ours.trade_date == theirs.trade_date
        and ours.quantity == theirs.quantity
        and price_within(ours=ours.price, theirs=theirs.price, tolerance=tolerance)
    )


def select_candidate(
    *, theirs: Terms, candidates: Sequence[tuple[str, Terms]], tolerance: Tolerance
) -> Selection:
    """Our one trade that the confirmation can mean; with several, none is chosen (never guess)."""
    # A set: the same trade listed twice is still one candidate, not an ambiguity.
    ids = sorted(
        {
            trade_id
            for trade_id, ours in candidates
            if is_economic_candidate(ours=ours, theirs=theirs, tolerance=tolerance)
        }
    )
    if len(ids) == 1:
        return Selection(trade_id=ids[0], ambiguous=())
    return Selection(trade_id=None, ambiguous=tuple(ids))
