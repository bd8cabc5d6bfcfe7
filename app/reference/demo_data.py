"""Reference data that seeds a demo database through the service layer.

Every list below holds dicts in the exact shape of the API's create payloads (decimals as strings,
dates as ISO strings), so a seeding command can pass each one to the matching service unchanged,
in this order: MARKETS, INSTRUMENTS, COUNTERPARTIES, BOOKS, ACCOUNTS, SSIS, PRICES.

What is real and what is not:

- ISINs, LEIs and BICs are the real identifiers of the named securities, firms, CSDs, CCPs and
  banks. The one BIC not confirmed against a published source is NSCC's (``NSCCUS33``); it is
  flagged where it is used. The LEIs of LCH SA and Eurex Clearing AG are theirs; NSCC's LEI
  (``NSCCDEMO000000000060``) is a made-up, checksum-valid stand-in, flagged where it is used.
- Bond terms (coupon, frequency, day count, interest commencement and maturity dates, smallest
  tradeable amount) are taken from the real issues; the sources are named next to each bond.
  ``issue_date`` is the date interest starts to run (the dated date), which is what accrued
  interest needs; both bonds have a regular annual coupon schedule from that date, so there is no
  odd first coupon.
- Account numbers, safekeeping and SSI accounts are fictitious (they all start with ``DEMO-``).
  The EUR IBAN is the German banking industry's documentation example (also the example in
  ``app.core.identifiers``), not a live account. SSI settlement agents are plausible choices, not
  the firms' published SSIs.
- Prices are illustrative, not market data.
- Affirmation cut-offs for the EU markets and the off-venue market are a house choice, not a
  market rule.
- Which venues are locked in is a house choice too. Xetra's on-book trades are handed by the
  exchange to Eurex Clearing, which confirms them: Xetra is locked in, its trades are confirmed
  at capture. The desk's NYSE and Euronext Paris trades are booked as institutional trades with
  a client or broker, confirmed (affirmed) bilaterally before their cut-off, so those venues
  stay bilateral although they have a CCP; the off-venue market has none.
"""

from typing import Any

# --- Markets ----------------------------------------------------------------------------------
# Calendar codes are those of holidays.list_supported_financial(). US settlement at DTC is closed
# on NYSE holidays and on Federal Reserve holidays (Columbus Day, Veterans Day), hence the union.
# Euro settlement in T2S follows the TARGET2 closing days (XECB).
# Cycles: US T+2 from 5 Sep 2017, T+1 from 28 May 2024 (SEC rule 15c6-1). EU T+2 from
# 6 Oct 2014 (the common migration date ahead of CSDR article 5), T+1 from 11 Oct 2027 (CSDR
# article 5(2) as amended in 2025).

# Partial settlement windows of the demo's T2S markets, local time: a house choice modelled on
# T2S's daytime partial settlement windows. XNYS (DTC) and the off-venue market settle all or
# nothing (NPAR, the default).
T2S_PARTIAL_WINDOWS = [
    {"from": "08:00", "to": "08:15"},
    {"from": "10:00", "to": "10:15"},
    {"from": "12:00", "to": "12:15"},
    {"from": "14:00", "to": "14:15"},
    {"from": "15:45", "to": "16:00"},
]

MARKETS: list[dict[str, Any]] = [
    {
        "mic": "XNYS",
        "name": "New York Stock Exchange",
        "country": "US",
        "timezone": "America/New_York",
        "calendar": "XNYS",
        "settlement_calendars": ["XNYS", "FED"],
        "settlement_cycle_days": [
            {"from": "2017-09-05", "days": 2},
            {"from": "2024-05-28", "days": 1},
        ],
        # National Securities Clearing Corporation. Its BIC is not confirmed against a published
        # source: check before relying on it outside the demo.
        "ccp": "NSCCUS33",
        # DTC's institutional affirmation deadline under T+1: 9 p.m. New York time on trade date.
        "affirmation_cutoff": "21:00",
    },
    {
        "mic": "XPAR",
        "name": "Euronext Paris",
        "country": "FR",
        "timezone": "Europe/Paris",
        "calendar": "XPAR",
        "settlement_calendars": ["XECB"],
        "settlement_cycle_days": [
            {"from": "2014-10-06", "days": 2},
            {"from": "2027-10-11", "days": 1},
        ],
        "ccp": "BACPFRPP",  # LCH SA (Banque Centrale de Compensation)
        "affirmation_cutoff": "19:00",  # house choice
        # Settles at Euroclear France (T2S): the depository decides, instructed by sese.023.
        "settlement_mode": "csd",
        "message_format": "iso20022",
        # Partial settlement as in T2S: allowed by default, in short daytime windows (Paris
        # time); PARC instructions settle in part from EUR 10,000. A house choice modelled on
        # T2S, not its published parameters.
        "partial_settlement": "PART",
        "partial_cash_thresholds": {"EUR": "10000"},
        "partial_settlement_windows": T2S_PARTIAL_WINDOWS,
    },
    {
        "mic": "XETR",
        "name": "Xetra",
        "country": "DE",
        "timezone": "Europe/Berlin",
        "calendar": "XETR",
        "settlement_calendars": ["XECB"],
        "settlement_cycle_days": [
            {"from": "2014-10-06", "days": 2},
            {"from": "2027-10-11", "days": 1},
        ],
        "ccp": "EUXCDEFF",  # Eurex Clearing AG
        # Locked in: Eurex Clearing confirms Xetra's trades; no bilateral confirmation.
        "locked_in": True,
        "affirmation_cutoff": "19:00",  # house choice
        # Settles at Clearstream Banking Frankfurt (T2S), instructed here by MT540-543.
        "settlement_mode": "csd",
        "message_format": "iso15022",
        # Partial settlement as in T2S: allowed by default, in short daytime windows (local
        # time); PARC instructions settle in part from EUR 10,000. A house choice modelled on
        # T2S, not its published parameters.
        "partial_settlement": "PART",
        "partial_cash_thresholds": {"EUR": "10000"},
        "partial_settlement_windows": T2S_PARTIAL_WINDOWS,
    },
    {
        "mic": "XOFF",
        "name": "Off-exchange (bilateral OTC)",
        # An off-venue market has no home country: it is anchored to Brussels, where the desk's
        # bond trades settle (Euroclear Bank). A house choice, like the cut-off.
        "country": "BE",
        "timezone": "Europe/Brussels",
        "calendar": "XECB",
        "settlement_calendars": ["XECB"],
        "settlement_cycle_days": [
            {"from": "2014-10-06", "days": 2},
            {"from": "2027-10-11", "days": 1},
        ],
        "ccp": None,
        # The desk's bonds settle between participants of one ICSD (Euroclear Bank), which
        # matches both sides itself: a house simplification so that the demo settles end to end.
        "internal_settlement": True,
        "affirmation_cutoff": "19:00",  # house choice
    },
]

# --- Instruments ------------------------------------------------------------------------------
# The six US names are NYSE-listed. CSDR classes matter only for settlement in an EU CSD; the US
# shares carry "liquid_share" for uniformity. Non-bonds carry the five bond fields as null.

INSTRUMENTS: list[dict[str, Any]] = [
    # US equities, NYSE-listed, USD
    {
        "isin": "US46625H1005",
        "name": "JPMorgan Chase & Co.",
        "type": "equity",
        "currency": "USD",
        "mic": "XNYS",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    {
        "isin": "US1912161007",
        "name": "The Coca-Cola Company",
        "type": "equity",
        "currency": "USD",
        "mic": "XNYS",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    {
        "isin": "US4592001014",
        "name": "International Business Machines Corporation",
        "type": "equity",
        "currency": "USD",
        "mic": "XNYS",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    {
        "isin": "US92826C8394",
        "name": "Visa Inc. Class A",
        "type": "equity",
        "currency": "USD",
        "mic": "XNYS",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    {
        "isin": "US30231G1022",
        "name": "Exxon Mobil Corporation",
        "type": "equity",
        "currency": "USD",
        "mic": "XNYS",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    {
        "isin": "US4781601046",
        "name": "Johnson & Johnson",
        "type": "equity",
        "currency": "USD",
        "mic": "XNYS",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    # French equities, Euronext Paris, EUR
    {
        "isin": "FR0000120271",
        "name": "TotalEnergies SE",
        "type": "equity",
        "currency": "EUR",
        "mic": "XPAR",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    {
        "isin": "FR0000121014",
        "name": "LVMH Moët Hennessy Louis Vuitton SE",
        "type": "equity",
        "currency": "EUR",
        "mic": "XPAR",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    {
        "isin": "FR0000131104",
        "name": "BNP Paribas SA",
        "type": "equity",
        "currency": "EUR",
        "mic": "XPAR",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    # German equities, Xetra, EUR
    {
        "isin": "DE0007164600",
        "name": "SAP SE",
        "type": "equity",
        "currency": "EUR",
        "mic": "XETR",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    {
        "isin": "DE0007236101",
        "name": "Siemens AG",
        "type": "equity",
        "currency": "EUR",
        "mic": "XETR",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    {
        "isin": "DE0008404005",
        "name": "Allianz SE",
        "type": "equity",
        "currency": "EUR",
        "mic": "XETR",
        "csdr_class": "liquid_share",
        "settlement_unit": "1",
        "price_basis": "unit",
        "coupon_rate": None,
        "coupon_frequency": None,
        "day_count": None,
        "issue_date": None,
        "maturity_date": None,
    },
    # EUR government bonds, traded off-venue
    {
        # 1.80% Bund 15 Aug 2053. Source: Finanzagentur announcement (Sep 2022) of the new
        # 30-year Bund: ISIN DE0001102614, coupon 1.80%, maturity 15 Aug 2053, interest from
        # 15 Aug 2022, first coupon 15 Aug 2023 (a full, regular coupon); first issued by
        # syndicate in October 2022. Bunds pay annually, ACT/ACT (ICMA); the smallest tradeable
        # amount of a Bund is EUR 0.01.
        "isin": "DE0001102614",
        "name": "Bundesrepublik Deutschland 1.80% Bund 15/08/2053",
        "type": "bond",
        "currency": "EUR",
        "mic": "XOFF",
        "csdr_class": "sovereign_debt",
        "settlement_unit": "0.01",
        "price_basis": "percent",
        "coupon_rate": "0.018",
        "coupon_frequency": 1,
        "day_count": "ACT/ACT-ICMA",
        "issue_date": "2022-08-15",
        "maturity_date": "2053-08-15",
        "partial_quantity_threshold": "100000",  # PARQ: no part below 100,000 nominal
    },
    {
        # OAT 3.60% 25 May 2042. Sources: arrêté du 21 janvier 2025 (JORF of 26 Jan 2025):
        # nominal EUR 1, interest EUR 0.0360 per bond payable on 25 May each year and first on
        # 25 May 2025 (a full coupon), redeemed at par on 25 May 2042; Borsa Italiana's sheet for
        # FR001400WYO4 ("Oat Fx 3.6% May42"): interest from (date de jouissance) 25 May 2024,
        # annual, ACT/ACT (ICMA), minimum lot 1. First issued by syndicate in January 2025.
        "isin": "FR001400WYO4",
        "name": "République française OAT 3.60% 25/05/2042",
        "type": "bond",
        "currency": "EUR",
        "mic": "XOFF",
        "csdr_class": "sovereign_debt",
        "settlement_unit": "1",
        "price_basis": "percent",
        "coupon_rate": "0.036",
        "coupon_frequency": 1,
        "day_count": "ACT/ACT-ICMA",
        "issue_date": "2024-05-25",
        "maturity_date": "2042-05-25",
        "partial_quantity_threshold": "100000",  # PARQ: no part below 100,000 nominal
    },
]

# --- Counterparties ---------------------------------------------------------------------------
# Real LEIs (GLEIF) and the firms' head-office BICs. Partial settlement indicators are a house
# choice (null: the market's).

COUNTERPARTIES: list[dict[str, Any]] = [
    {
        "lei": "FOR8UP27PHTHYVLBNG30",
        "name": "Goldman Sachs & Co. LLC",
        "bic": "GOLDUS33",
        "netting": "none",
    },
    {
        "lei": "9R7GPTSO7KV3UQJZQ078",
        "name": "Morgan Stanley & Co. LLC",
        "bic": "MSNYUS33",
        "netting": "none",
    },
    {
        "lei": "R0MUWSFPU8MPRO8K5P83",
        "name": "BNP Paribas SA",
        "bic": "BNPAFRPP",
        "netting": "bilateral",
        "partial_settlement": "PART",
    },
    {
        "lei": "7LTWFZYICNSX8D621K86",
        "name": "Deutsche Bank AG",
        "bic": "DEUTDEFF",
        "netting": "bilateral",
        "partial_settlement": "PARQ",
    },
    {
        "lei": "O2RNE8IBXP4R0TD8PU41",
        "name": "Société Générale SA",
        "bic": "SOGEFRPP",
        "netting": "none",
        "partial_settlement": "PARC",
    },
    # Central counterparties: clearing novates trades on their markets to them, and their SSIs
    # say where the netted obligations settle.
    {
        "lei": "NSCCDEMO000000000060",  # made up (NSCC's published LEI was not at hand)
        "name": "National Securities Clearing Corporation",
        "bic": "NSCCUS33",
        "netting": "none",
    },
    {
        "lei": "R1IO4YJ0O79SMWVCHB58",
        "name": "LCH SA",
        "bic": "BACPFRPP",
        "netting": "none",
    },
    {
        "lei": "529900LN3S50JPU47S06",
        "name": "Eurex Clearing AG",
        "bic": "EUXCDEFF",
        "netting": "none",
    },
]

# --- Books ------------------------------------------------------------------------------------

BOOKS: list[dict[str, Any]] = [
    {"code": "EQ-FLOW", "name": "Equity flow trading"},
    {"code": "FI-RATES", "name": "Rates / government bonds"},
]

# --- Accounts ---------------------------------------------------------------------------------
# Servicers: The Depository Trust Company (DTCYUS33), Euroclear France (SICVFRPP), Clearstream
# Banking AG Frankfurt (DAKVDEFF), Euroclear Bank (MGTCBEBEECL), JPMorgan Chase Bank N.A.
# (CHASUS33), Commerzbank (COBADEFF, the bank behind the example IBAN's bank code 370 400 44).
# Account numbers are fictitious.

ACCOUNTS: list[dict[str, Any]] = [
    {
        "code": "SEC-DTC",
        "name": "US equities safekeeping at DTC",
        "kind": "securities",
        "currency": None,
        "servicer_bic": "DTCYUS33",
        "iban": None,
        "account_number": "DEMO-DTC-0001",
        "markets": ["XNYS"],
    },
    {
        "code": "SEC-EOCF",
        "name": "French equities safekeeping at Euroclear France",
        "kind": "securities",
        "currency": None,
        "servicer_bic": "SICVFRPP",
        "iban": None,
        "account_number": "DEMO-EOCF-0001",
        "markets": ["XPAR"],
    },
    {
        "code": "SEC-CBF",
        "name": "German equities safekeeping at Clearstream Banking Frankfurt",
        "kind": "securities",
        "currency": None,
        "servicer_bic": "DAKVDEFF",
        "iban": None,
        "account_number": "DEMO-CBF-0001",
        "markets": ["XETR"],
    },
    {
        "code": "SEC-EB",
        "name": "Government bonds safekeeping at Euroclear Bank",
        "kind": "securities",
        "currency": None,
        "servicer_bic": "MGTCBEBEECL",
        "iban": None,
        "account_number": "DEMO-EB-0001",
        "markets": ["XOFF"],
    },
    {
        "code": "CASH-USD",
        "name": "USD settlement cash at JPMorgan Chase Bank",
        "kind": "cash",
        "currency": "USD",
        "servicer_bic": "CHASUS33",
        "iban": None,
        "account_number": "DEMO-USD-000001",
    },
    {
        "code": "CASH-EUR",
        "name": "EUR settlement cash at Commerzbank",
        "kind": "cash",
        "currency": "EUR",
        "servicer_bic": "COBADEFF",
        "iban": "DE89370400440532013000",
        "account_number": None,
    },
]

# --- Standard settlement instructions ---------------------------------------------------------
# One SSI per counterparty and market, keyed by market (currency null). The place of settlement is
# the market's CSD: DTC (DTCYUS33), Euroclear France (SICVFRPP), Clearstream Banking Frankfurt
# (DAKVDEFF), Euroclear Bank for the off-venue bonds (MGTCBEBEECL). The agent is the counterparty
# itself where it is plausibly a direct participant, else a local agent bank: BNP Paribas in
# Paris, Deutsche Bank in Frankfurt, The Bank of New York Mellon (IRVTUS3N) at DTC. These are not
# the firms' published SSIs, and the accounts are fictitious.

SSIS: list[dict[str, Any]] = [
    # Goldman Sachs & Co. LLC
    {
        "counterparty_lei": "FOR8UP27PHTHYVLBNG30",
        "mic": "XNYS",
        "currency": None,
        "place_of_settlement": "DTCYUS33",
        "agent_bic": "GOLDUS33",
        "account": "DEMO-GS-DTC-01",
    },
    {
        "counterparty_lei": "FOR8UP27PHTHYVLBNG30",
        "mic": "XPAR",
        "currency": None,
        "place_of_settlement": "SICVFRPP",
        "agent_bic": "BNPAFRPP",
        "account": "DEMO-GS-EOCF-01",
    },
    {
        "counterparty_lei": "FOR8UP27PHTHYVLBNG30",
        "mic": "XETR",
        "currency": None,
        "place_of_settlement": "DAKVDEFF",
        "agent_bic": "DEUTDEFF",
        "account": "DEMO-GS-CBF-01",
    },
    {
        "counterparty_lei": "FOR8UP27PHTHYVLBNG30",
        "mic": "XOFF",
        "currency": None,
        "place_of_settlement": "MGTCBEBEECL",
        "agent_bic": "GOLDUS33",
        "account": "DEMO-GS-EB-01",
    },
    # Morgan Stanley & Co. LLC
    {
        "counterparty_lei": "9R7GPTSO7KV3UQJZQ078",
        "mic": "XNYS",
        "currency": None,
        "place_of_settlement": "DTCYUS33",
        "agent_bic": "MSNYUS33",
        "account": "DEMO-MS-DTC-01",
    },
    {
        "counterparty_lei": "9R7GPTSO7KV3UQJZQ078",
        "mic": "XPAR",
        "currency": None,
        "place_of_settlement": "SICVFRPP",
        "agent_bic": "BNPAFRPP",
        "account": "DEMO-MS-EOCF-01",
    },
    {
        "counterparty_lei": "9R7GPTSO7KV3UQJZQ078",
        "mic": "XETR",
        "currency": None,
        "place_of_settlement": "DAKVDEFF",
        "agent_bic": "DEUTDEFF",
        "account": "DEMO-MS-CBF-01",
    },
    {
        "counterparty_lei": "9R7GPTSO7KV3UQJZQ078",
        "mic": "XOFF",
        "currency": None,
        "place_of_settlement": "MGTCBEBEECL",
        "agent_bic": "MSNYUS33",
        "account": "DEMO-MS-EB-01",
    },
    # BNP Paribas SA
    {
        "counterparty_lei": "R0MUWSFPU8MPRO8K5P83",
        "mic": "XNYS",
        "currency": None,
        "place_of_settlement": "DTCYUS33",
        "agent_bic": "IRVTUS3N",
        "account": "DEMO-BNP-DTC-01",
    },
    {
        "counterparty_lei": "R0MUWSFPU8MPRO8K5P83",
        "mic": "XPAR",
        "currency": None,
        "place_of_settlement": "SICVFRPP",
        "agent_bic": "BNPAFRPP",
        "account": "DEMO-BNP-EOCF-01",
    },
    {
        "counterparty_lei": "R0MUWSFPU8MPRO8K5P83",
        "mic": "XETR",
        "currency": None,
        "place_of_settlement": "DAKVDEFF",
        "agent_bic": "DEUTDEFF",
        "account": "DEMO-BNP-CBF-01",
    },
    {
        "counterparty_lei": "R0MUWSFPU8MPRO8K5P83",
        "mic": "XOFF",
        "currency": None,
        "place_of_settlement": "MGTCBEBEECL",
        "agent_bic": "BNPAFRPP",
        "account": "DEMO-BNP-EB-01",
    },
    # Deutsche Bank AG
    {
        "counterparty_lei": "7LTWFZYICNSX8D621K86",
        "mic": "XNYS",
        "currency": None,
        "place_of_settlement": "DTCYUS33",
        "agent_bic": "IRVTUS3N",
        "account": "DEMO-DB-DTC-01",
    },
    {
        "counterparty_lei": "7LTWFZYICNSX8D621K86",
        "mic": "XPAR",
        "currency": None,
        "place_of_settlement": "SICVFRPP",
        "agent_bic": "BNPAFRPP",
        "account": "DEMO-DB-EOCF-01",
    },
    {
        "counterparty_lei": "7LTWFZYICNSX8D621K86",
        "mic": "XETR",
        "currency": None,
        "place_of_settlement": "DAKVDEFF",
        "agent_bic": "DEUTDEFF",
        "account": "DEMO-DB-CBF-01",
    },
    {
        "counterparty_lei": "7LTWFZYICNSX8D621K86",
        "mic": "XOFF",
        "currency": None,
        "place_of_settlement": "MGTCBEBEECL",
        "agent_bic": "DEUTDEFF",
        "account": "DEMO-DB-EB-01",
    },
    # Société Générale SA
    {
        "counterparty_lei": "O2RNE8IBXP4R0TD8PU41",
        "mic": "XNYS",
        "currency": None,
        "place_of_settlement": "DTCYUS33",
        "agent_bic": "IRVTUS3N",
        "account": "DEMO-SG-DTC-01",
    },
    {
        "counterparty_lei": "O2RNE8IBXP4R0TD8PU41",
        "mic": "XPAR",
        "currency": None,
        "place_of_settlement": "SICVFRPP",
        "agent_bic": "SOGEFRPP",
        "account": "DEMO-SG-EOCF-01",
    },
    {
        "counterparty_lei": "O2RNE8IBXP4R0TD8PU41",
        "mic": "XETR",
        "currency": None,
        "place_of_settlement": "DAKVDEFF",
        "agent_bic": "DEUTDEFF",
        "account": "DEMO-SG-CBF-01",
    },
    {
        "counterparty_lei": "O2RNE8IBXP4R0TD8PU41",
        "mic": "XOFF",
        "currency": None,
        "place_of_settlement": "MGTCBEBEECL",
        "agent_bic": "SOGEFRPP",
        "account": "DEMO-SG-EB-01",
    },
    # The CCPs, each at its market's CSD.
    {
        "counterparty_lei": "NSCCDEMO000000000060",
        "mic": "XNYS",
        "currency": None,
        "place_of_settlement": "DTCYUS33",
        "agent_bic": "NSCCUS33",
        "account": "DEMO-NSCC-DTC-01",
    },
    {
        "counterparty_lei": "R1IO4YJ0O79SMWVCHB58",
        "mic": "XPAR",
        "currency": None,
        "place_of_settlement": "SICVFRPP",
        "agent_bic": "BACPFRPP",
        "account": "DEMO-LCH-EOCF-01",
    },
    {
        "counterparty_lei": "529900LN3S50JPU47S06",
        "mic": "XETR",
        "currency": None,
        "place_of_settlement": "DAKVDEFF",
        "agent_bic": "EUXCDEFF",
        "account": "DEMO-ECAG-CBF-01",
    },
]

# --- Prices -----------------------------------------------------------------------------------
# Illustrative closing prices, not market data: plausible levels only. Shares in the instrument's
# currency per share; bonds in percent of nominal (clean).

PRICES: list[dict[str, Any]] = [
    {"isin": "US46625H1005", "date": "2026-11-24", "price": "312.40"},
    {"isin": "US1912161007", "date": "2026-11-24", "price": "71.85"},
    {"isin": "US4592001014", "date": "2026-11-24", "price": "298.10"},
    {"isin": "US92826C8394", "date": "2026-11-24", "price": "346.25"},
    {"isin": "US30231G1022", "date": "2026-11-24", "price": "118.60"},
    {"isin": "US4781601046", "date": "2026-11-24", "price": "204.30"},
    {"isin": "FR0000120271", "date": "2026-11-24", "price": "57.42"},
    {"isin": "FR0000121014", "date": "2026-11-24", "price": "618.70"},
    {"isin": "FR0000131104", "date": "2026-11-24", "price": "79.86"},
    {"isin": "DE0007164600", "date": "2026-11-24", "price": "212.35"},
    {"isin": "DE0007236101", "date": "2026-11-24", "price": "238.90"},
    {"isin": "DE0008404005", "date": "2026-11-24", "price": "371.20"},
    {"isin": "DE0001102614", "date": "2026-11-24", "price": "72.45"},
    {"isin": "FR001400WYO4", "date": "2026-11-24", "price": "95.10"},
]


# --- Matching tolerances --------------------------------------------------------------------
# A house choice for the demo: deal prices to 1/100 of a cent; settlement amounts to 5 cents, or
# 0.1 bp of the amount in euro (whichever allows more).

MATCHING_TOLERANCES: list[dict[str, Any]] = [
    {"currency": "USD", "price_abs": "0.0001", "net_amount_abs": "0.05", "net_amount_bps": None},
    {"currency": "EUR", "price_abs": "0.0001", "net_amount_abs": "0.05", "net_amount_bps": "0.1"},
]
