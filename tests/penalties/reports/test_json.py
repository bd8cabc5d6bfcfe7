"""The penalty report as JSON reads into the same values as its semt.044."""

import json
from copy import deepcopy
from datetime import date
from decimal import Decimal

import pytest

from app.penalties.calculation import Party, PenaltyKind
from app.penalties.reports.model import PenaltyReportError, PenaltyUpdate
from app.penalties.reports.schemas import EXAMPLE, parse_json
from app.penalties.reports.semt044 import parse_semt044
from tests.penalties.reports.test_semt044 import golden


def test_the_example_reads_into_the_same_lines_as_the_semt044() -> None:
    from_json = parse_json(json.dumps(EXAMPLE))
    from_xml = parse_semt044(golden())

    assert (from_json.report_id, from_json.report_date, from_json.sender) == (
        from_xml.report_id,
        from_xml.report_date,
        from_xml.sender,
    )
    for json_line, xml_line in zip(from_json.lines, from_xml.lines[:2], strict=True):
        assert (
            json_line.penalty_id,
            json_line.kind,
            json_line.our_reference,
            json_line.days,
            json_line.amount,
            json_line.currency,
            json_line.payer,
        ) == (
            xml_line.penalty_id,
            xml_line.kind,
            xml_line.our_reference,
            xml_line.days,
            xml_line.amount,
            xml_line.currency,
            xml_line.payer,
        )


def test_a_json_line_keeps_every_value() -> None:
    line = parse_json(json.dumps(EXAMPLE)).lines[0]

    assert (line.isin, line.their_reference, line.status, line.update) == (
        "DE0005557508",
        "T2S-7700001",
        "ACTV",
        PenaltyUpdate.NEW,
    )
    assert (line.kind, line.payer, line.amount, line.days, line.counterparty_bic) == (
        PenaltyKind.SETTLEMENT_FAIL,
        Party.US,
        Decimal("12.34"),
        (date(2026, 11, 24),),
        "DEUTDEFFXXX",
    )
    assert line.location == "lines.0"


@pytest.mark.parametrize(
    ("field", "value", "location"),
    [
        ("amount", "-1.00", "lines.0.amount"),
        ("amount", 1.5, "lines.0.amount"),
        ("currency", "EURO", "lines.0.currency"),
        ("isin", "DE0005557509", "lines.0.isin"),
        ("payer", "them", "lines.0.payer"),
        ("days", ["2026-11-24", "2026-11-25"], "lines.0"),
        ("surprise", "x", "lines.0.surprise"),
    ],
)
def test_a_bad_field_is_refused_by_its_path(field: str, value: object, location: str) -> None:
    body = deepcopy(EXAMPLE)
    body["lines"][0][field] = value

    with pytest.raises(PenaltyReportError) as caught:
        parse_json(json.dumps(body))

    assert caught.value.location == location
