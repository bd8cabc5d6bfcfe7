"""ISO 15022 MT540 / MT541 / MT542 / MT543 (receive free, receive against payment, deliver
free, deliver against payment): the text of block 4, one field a line, CRLF, in the sequences
GENL, TRADDET, FIAC, SETDET (its SETPRTY parties and, against payment, AMT). A cancellation is
the same message with ``:23G:CANC`` and a LINK to the reference it cancels
(``:20C::PREV//``). Numbers take a decimal comma, no thousands separator, and always the comma
(``100,``). Only SWIFT X characters are written: ``facts.check`` refuses anything else. Pure."""

from decimal import Decimal

from app.settlement.outbound.formats.facts import (
    Header,
    InstructionFacts,
    PriceKind,
    check,
    plain_decimal,
)

NEWLINE = "\r\n"


def message_type(facts: InstructionFacts) -> str:
    if facts.receive:
        return "MT541" if facts.against_payment else "MT540"
    return "MT543" if facts.against_payment else "MT542"


def number(value: Decimal) -> str:
    """SWIFT decimal: comma, no separators, the comma always there (100 -> ``100,``)."""
    text = plain_decimal(value).replace(".", ",")
    return text if "," in text else text + ","


def _general(header: Header) -> list[str]:
    lines = [":16R:GENL", f":20C::SEME//{header.reference}"]
    if header.cancels is None:
        return [*lines, ":23G:NEWM", ":16S:GENL"]
    return [
        *lines,
        ":23G:CANC",
        ":16R:LINK",
        f":20C::PREV//{header.cancels}",
        ":16S:LINK",
        ":16S:GENL",
    ]


def _trade(facts: InstructionFacts) -> list[str]:
    lines = [":16R:TRADDET", f":98A::SETT//{facts.settlement_date:%Y%m%d}"]
    if facts.trade_date is not None:
        lines.append(f":98A::TRAD//{facts.trade_date:%Y%m%d}")
    price = facts.deal_price
    if price is not None and price.kind == PriceKind.PERCENT:
        lines.append(f":90A::DEAL//PRCT/{number(price.value)}")
    elif price is not None:
        lines.append(f":90B::DEAL//ACTU/{price.currency}{number(price.value)}")
    return [*lines, f":35B:ISIN {facts.isin}", ":16S:TRADDET"]


def _account(facts: InstructionFacts) -> list[str]:
    kind = "FAMT" if facts.face_amount else "UNIT"
    return [
        ":16R:FIAC",
        f":36B::SETT//{kind}/{number(facts.quantity)}",
        f":97A::SAFE//{facts.safekeeping_account}",
        ":16S:FIAC",
    ]


def _party(*lines: str) -> list[str]:
    return [":16R:SETPRTY", *lines, ":16S:SETPRTY"]


def _settlement(facts: InstructionFacts) -> list[str]:
    """The counterparty's agent (DEAG delivers to us, REAG receives from us) with its account,
    and the counterparty itself (SELL / BUYR) when it has a BIC."""
    agent, party = ("DEAG", "SELL") if facts.receive else ("REAG", "BUYR")
    lines = [
        ":16R:SETDET",
        ":22F::SETR//TRAD",
        f":22F::STCO//{facts.partial_indicator}",
        f":22F::PRIR//{facts.priority:04d}",
        *_party(f":95P::PSET//{facts.place_of_settlement}"),
        *_party(
            f":95P::{agent}//{facts.counterparty_agent_bic}",
            f":97A::SAFE//{facts.counterparty_account}",
        ),
    ]
    if facts.counterparty_bic is not None:
        lines += _party(f":95P::{party}//{facts.counterparty_bic}")
    if facts.against_payment and facts.settlement_amount is not None:
        lines += [
            ":16R:AMT",
            f":19A::SETT//{facts.currency}{number(facts.settlement_amount)}",
            ":16S:AMT",
        ]
    return [*lines, ":16S:SETDET"]


def render(facts: InstructionFacts, header: Header) -> str:
    check(facts)
    lines = [*_general(header), *_trade(facts), *_account(facts), *_settlement(facts)]
    return NEWLINE.join(lines) + NEWLINE
