"""The depository's daily penalty list as ISO 20022 semt.044.001.01
(``SctiesTxPnltiesRpt``), in an envelope with its business application header
(head.001.001.02). Pure: the penalties come in as values (the simulator keeps no prices, so it
computes none), one ``Pnlty`` block per currency, one ``PnltyPerCtrPty`` per counterparty, in
the order given."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from csd_sim.messages.advice import Header, plain
from csd_sim.messages.iso20022_out import ISO, application_header
from csd_sim.messages.xml_writing import Node, document_text, node, path

SEMT_044 = "semt.044.001.01"
PenaltyType = Literal["SEFP", "LMFP"]


@dataclass(frozen=True)
class PenaltyEntry:
    """One penalty of the participant's list, from its side (``debit``: it pays)."""

    penalty_id: str
    kind: PenaltyType
    reference: str  # the participant's own reference (its SEME)
    csd_reference: str
    isin: str
    days: tuple[date, ...]  # one for a settlement fail; from the ISD for a late match
    amount: Decimal
    currency: str
    debit: bool
    counterparty_bic: str
    intended_settlement_date: date
    status: str = "ACTV"  # or REMO, REIC, SWIC...


@dataclass(frozen=True)
class PenaltyList:
    report_id: str
    business_day: date  # the day computed
    account_owner: str  # the participant's BIC
    account_servicer: str  # the depository's BIC
    safekeeping_account: str
    entries: Sequence[PenaltyEntry]
    list_type: str = "FWIS"


def _amount(tag: str, amount: Decimal, currency: str, debit: bool) -> Node:
    return node(
        tag,
        node("Amt", text=plain(amount), Ccy=currency),
        node("CdtDbt", text="DBIT" if debit else "CRDT"),
    )


def _net(entries: Sequence[PenaltyEntry], currency: str) -> Node:
    net = sum(
        (-e.amount if e.debit else e.amount for e in entries if e.status != "REMO"), Decimal(0)
    )
    return _amount("AggtdNetAmt", abs(net), currency, net < 0)


def _details(entry: PenaltyEntry) -> Node:
    return node(
        "PnltyDtls",
        path("Id/MktInfrstrctrId", entry.penalty_id),
        node("Tp", text=entry.kind),
        path("Sts/Sts/Cd", entry.status),
        _amount("CmptdAmt", entry.amount, entry.currency, entry.debit),
        *(
            node(
                "ClctnData",
                node("Dt", text=day.isoformat()),
                path("FinInstrmAttrbts/Id/ISIN", entry.isin),
            )
            for day in entry.days
        ),
        node(
            "RltdTx",
            node(
                "Ref",
                node("AcctOwnrTxId", text=entry.reference),
                node("AcctSvcrTxId", text=entry.csd_reference),
            ),
            path("TxDtls/SttlmDt/Dt/Dt", entry.intended_settlement_date.isoformat()),
        ),
    )


def _block(listing: PenaltyList, currency: str) -> Node:
    entries = [e for e in listing.entries if e.currency == currency]
    counterparties = list(dict.fromkeys(e.counterparty_bic for e in entries))
    return node(
        "Pnlty",
        node("Ccy", text=currency),
        path("Dt/Dt", listing.business_day.isoformat()),
        path("PtyId/Id/Id/AnyBIC", listing.account_owner),
        *(
            node(
                "PnltyPerCtrPty",
                path("PtyId/Id/Id/AnyBIC", bic),
                _net([e for e in entries if e.counterparty_bic == bic], currency),
                *(_details(e) for e in entries if e.counterparty_bic == bic),
            )
            for bic in counterparties
        ),
    )


def penalty_list(header: Header, listing: PenaltyList) -> bytes:
    """The semt.044 of a participant's penalties of one business day."""
    currencies = list(dict.fromkeys(e.currency for e in listing.entries))
    report = node(
        "SctiesTxPnltiesRpt",
        node("RptPgntn", node("PgNb", text="1"), node("LastPgInd", text="true")),
        node(
            "RptGnlDtls",
            node("RptId", text=listing.report_id),
            path("RptDt/Dt", listing.business_day.isoformat()),
            path("PnltyListTp/Cd", listing.list_type),
            node("ActvtyInd", text="true" if listing.entries else "false"),
        ),
        path("AcctOwnr/Id/AnyBIC", listing.account_owner),
        path("AcctSvcr/Id/AnyBIC", listing.account_servicer),
        path("SfkpgAcct/Id", listing.safekeeping_account),
        *(_block(listing, currency) for currency in currencies),
    )
    document = node("Document", report, xmlns=f"{ISO}{SEMT_044}")
    return document_text(node("Envelope", application_header(header, SEMT_044), document))
