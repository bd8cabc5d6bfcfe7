"""The pairs nothing contests, matched set-based (``runs.clear``, PostgreSQL), then the engine on
what is left: the same matches, notes and breaks as the pure engine given the whole day, for
random days full of shared references, references with spaces of other scripts at their ends,
our ids in remittance text, lines of other days carried in, lines a match holds already, and
rules of every kind after an exact-reference one. Hypothesis cannot drive an async test
directly: the examples are drawn first, then written (and rolled back)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.reconciliation.matches.models import MatchedItem, ReconciliationMatch
from app.reconciliation.matching import (
    BookMovement,
    Match,
    Outcome,
    Rule,
    RuleKind,
    classify,
    match,
)
from app.reconciliation.runs import clear, inputs
from app.reconciliation.statements import service as statements
from app.reconciliation.statements.models import BankStatement, StatementEntry, StatementFile
from app.reference.accounts.models import Account
from tests.conftest import Database

# A few seconds in `make test`; the deep profile's count under `make test-deep`.
EXAMPLES = 25 if settings().max_examples <= 100 else settings().max_examples
DAY = date(2026, 12, 4)
NOW = datetime(2026, 12, 4, 20, tzinfo=UTC)
ACCOUNT = "PROP-CASH"


def our_id(n: int) -> str:
    return f"je_{n:026d}"


# References as banks send them: plain, padded with ASCII or other spaces, a control character,
# our movement ids; movements carry their own id and maybe one of these.
REFERENCES = ["R1", "R2", "R3", " R1", "R2\u00a0", "R3\x1f", our_id(0), our_id(1), "si_A"]
UNIQUE = [f"U{n}" for n in range(40)]  # most of a day: a reference one line and one movement carry
SOURCES = [None, "R1", "R2", "R3", "si_A", " R1", "R2\u00a0"]
REMITTANCE = [
    None,
    "Net settlement of 3 instructions",
    f"paid {our_id(1)} thanks",
    f"\u00e9{our_id(2)} and {our_id(3)}",
    f"x{our_id(0)}",
    "paid R1",
    f"JE_{our_id(1)[3:]} or je_{our_id(1)[3:].upper()}",
    f"tab\t{our_id(0)}",
]
AMOUNTS = ["10.00", "10.01", "20.00", "-10.00", "30.00", "0.00"]


@dataclass(frozen=True)
class Day:
    lines: list[dict[str, Any]]
    movements: list[BookMovement]
    rules: list[Rule]
    carried: list[str]
    held: list[str]


@st.composite
def lines(draw: st.DrawFn, count: int) -> list[dict[str, Any]]:
    made = []
    for n in range(count):
        given = draw(
            st.dictionaries(
                st.sampled_from(["end_to_end_id", "account_servicer_reference", "other"]),
                st.sampled_from(REFERENCES) | st.sampled_from(UNIQUE),
                max_size=2,
            )
        )
        value_date = draw(st.sampled_from([DAY, DAY, DAY, DAY + timedelta(1), None]))
        made.append(
            {
                "id": f"ste_{n:02d}",
                "currency": draw(st.sampled_from(["EUR", "EUR", "USD"])),
                "amount": Decimal(draw(st.sampled_from(AMOUNTS))),
                "value_date": value_date,
                "booking_date": DAY,
                "status": draw(st.sampled_from(["booked", "booked", "booked", "pending"])),
                "references": given,
                "remittance_information": draw(st.sampled_from(REMITTANCE)),
                "counterparty_name": draw(st.sampled_from([None, "Acme", "ACME."])),
            }
        )
    return made


@st.composite
def movements(draw: st.DrawFn, count: int) -> list[BookMovement]:
    made = []
    for n in range(count):
        source = draw(st.sampled_from(SOURCES))
        made.append(
            BookMovement(
                id=our_id(n),
                currency=draw(st.sampled_from(["EUR", "EUR", "USD"])),
                amount=Decimal(draw(st.sampled_from(AMOUNTS))),
                value_date=draw(st.sampled_from([DAY, DAY, DAY + timedelta(1)])),
                references=frozenset({our_id(n), *([source] if source else [])}),
                counterparty=draw(st.sampled_from([None, "Acme", "acme"])),
            )
        )
    return made


@st.composite
def rules(draw: st.DrawFn) -> list[Rule]:
    tolerances = [Decimal(0), Decimal("0.01")]
    first = Rule(
        name="a-first",
        priority=0,
        kind=RuleKind.EXACT_REFERENCE,
        amount_tolerance={"USD": draw(st.sampled_from(tolerances))},
        default_amount_tolerance=draw(st.sampled_from(tolerances)),
        value_date_days=draw(st.integers(0, 1)),
        max_candidates=draw(st.integers(2, 4)),
    )
    later = [
        Rule(
            name=f"rule-{n}",
            priority=draw(st.integers(1, 3)),
            kind=draw(st.sampled_from(list(RuleKind))),
            enabled=draw(st.booleans()),
            default_amount_tolerance=draw(st.sampled_from(tolerances)),
            value_date_days=draw(st.integers(0, 1)),
            counterparty_must_agree=draw(st.booleans()),
            max_group_size=draw(st.integers(2, 3)),
            max_candidates=draw(st.integers(2, 5)),
        )
        for n in range(draw(st.integers(0, 3)))
    ]
    return [first, *later]


def echo(line: dict[str, Any], n: int) -> BookMovement | None:
    """The movement a line's first unique reference names, as the line says (a clean pair
    unless something else contests it)."""
    unique = sorted(ref for ref in line["references"].values() if ref in UNIQUE)
    if not unique:
        return None
    value_date = line["value_date"] or line["booking_date"]
    references = frozenset({our_id(n), unique[0]})
    return BookMovement(our_id(n), line["currency"], line["amount"], value_date, references)


@st.composite
def days(draw: st.DrawFn) -> Day:
    made = draw(lines(draw(st.integers(0, 9))))
    ids = [line["id"] for line in made]
    some = st.lists(st.sampled_from(ids), unique=True) if ids else st.just([])
    echoes = [echo(line, 50 + n) for n, line in enumerate(made)]
    return Day(
        lines=made,
        movements=draw(movements(draw(st.integers(0, 6))))
        + [m for m in echoes if m is not None and draw(st.booleans())],
        rules=draw(rules()),
        carried=draw(some),
        held=draw(some),
    )


def stored_rows(day: Day) -> list[Any]:
    """The account, a statement per currency, the lines; a match holding the held lines."""
    rows: list[Any] = [
        Account(
            code=ACCOUNT,
            name="Property cash",
            kind="cash",
            currency=None,
            servicer_bic="DEUTDEFFXXX",
            created_at=NOW,
            updated_at=NOW,
        ),
        StatementFile(
            id="stf_prop",
            content=b"{}",
            sha256="0" * 64,
            size=2,
            format="json",
            statements=2,
            received_at=NOW,
            received_by="test",
        ),
    ]
    for currency in ("EUR", "USD"):
        rows.append(
            BankStatement(
                id=f"stm_{currency}",
                file_id="stf_prop",
                account=ACCOUNT,
                account_identifier=currency,
                kind="statement",
                format="json",
                statement_id=f"S-{currency}",
                sequence_key="-/-/-",
                currency=currency,
                entry_count=0,
                content_hash="0" * 64,
                integrity="ok",
                integrity_breaks=[],
                received_at=NOW,
                received_by="test",
            )
        )
    for n, line in enumerate(day.lines, start=1):
        given = line["references"]
        rows.append(
            StatementEntry(
                id=line["id"],
                bank_statement_id=f"stm_{line['currency']}",
                line=n,
                account=ACCOUNT,
                entry_date=line["value_date"] or line["booking_date"],
                amount=line["amount"],
                credit_debit="CRDT",
                booking_date=line["booking_date"],
                value_date=line["value_date"],
                status=line["status"],
                end_to_end_id=given.get("end_to_end_id"),
                account_servicer_reference=given.get("account_servicer_reference"),
                references=given,
                remittance_information=line["remittance_information"],
                counterparty_name=line["counterparty_name"],
                reversal=False,
            )
        )
    if day.held:
        rows.append(held_match(day.held))
        rows += [MatchedItem(item_kind="line", item_id=i, match_id="mch_held") for i in day.held]
    return rows


def held_match(line_ids: list[str]) -> ReconciliationMatch:
    return ReconciliationMatch(
        id="mch_held",
        account=ACCOUNT,
        value_date=DAY,
        rule="manual",
        status="active",
        key="held",
        statement_entry_ids=line_ids,
        movement_ids=[],
        currency="EUR",
        amount_difference=Decimal(0),
        value_date_difference=0,
        created_at=NOW,
        created_by="test",
        version=1,
    )


def decided(outcome: Outcome, lines: Any, movements: Any, rules: list[Rule]) -> Any:
    return (
        sorted(outcome.matches, key=lambda m: m.key),
        sorted(outcome.gave_up, key=lambda note: (note.rule, note.item_id)),
        classify(outcome, lines, movements, rules),
    )


def _drawn(*, derandomize: bool) -> list[Day]:
    drawn: list[Day] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=derandomize,
    )
    @given(days())
    def collect(example: Day) -> None:
        drawn.append(example)

    collect()
    return drawn


async def _both_ways(db: Database, day: Day) -> tuple[Any, Any, list[Match]]:
    """What the engine decides alone, and after the SQL split (the rows rolled back after);
    and the matches SQL made."""
    async with db.sessionmaker() as session:
        rows = stored_rows(day)
        for kind in (Account, StatementFile, BankStatement, StatementEntry, ReconciliationMatch):
            session.add_all([row for row in rows if isinstance(row, kind)])
            await session.flush()  # in the order their foreign keys need
        session.add_all([row for row in rows if isinstance(row, MatchedItem)])
        await session.flush()
        parties = inputs.Counterparties({})
        everything = await statements.entries_by_ids(session, [x["id"] for x in day.lines])
        wanted = {*day.carried} | {
            x["id"]
            for x in day.lines
            if (x["value_date"] or x["booking_date"]) == DAY and x["status"] == "booked"
        }
        whole = [inputs.as_line(x, parties) for x in everything if x.id in wanted - {*day.held}]
        found = await inputs.split_lines(
            session,
            day.rules[0],
            account=ACCOUNT,
            day=DAY,
            carried_line_ids=day.carried,
            movements=day.movements,
        )
        await session.rollback()
    assert set(found.held) == wanted & set(day.held)
    alone = match(whole, day.movements, day.rules)
    rest = [inputs.as_line(x, parties) for x in found.left]
    taken = {movement_id for m in found.clear for movement_id in m.movement_ids}
    left = [m for m in day.movements if m.id not in taken]
    after = match(rest, left, day.rules)
    combined = Outcome(
        (*found.clear, *after.matches),
        after.unmatched_line_ids,
        after.unmatched_movement_ids,
        after.gave_up,
    )
    expected = decided(alone, whole, day.movements, day.rules)
    return expected, decided(combined, rest, left, day.rules), found.clear


@pytest.fixture
def postgresql(db: Database) -> Database:
    if db.backend != "postgres":
        pytest.skip("set-based matching is PostgreSQL's (SQLite runs the engine alone)")
    return db


async def test_sql_then_the_engine_decide_as_the_engine_alone(postgresql: Database) -> None:
    # New examples every run, and a fixed set that is known to reach the SQL path: a random
    # set of a few dozen days holds no pair clear enough for SQL about one run in three.
    clear_pairs = 0
    for day in _drawn(derandomize=False) + _drawn(derandomize=True):
        expected, split, by_sql = await _both_ways(postgresql, day)

        assert split == expected
        clear_pairs += len(by_sql)
    assert clear_pairs > 0  # the examples exercise the SQL path, not only the engine


async def test_a_clean_pair_is_matched_by_sql_and_a_doubtful_rival_leaves_it_to_the_engine(
    postgresql: Database,
) -> None:
    movement = BookMovement(our_id(0), "EUR", Decimal("10.00"), DAY, frozenset({our_id(0), "R1"}))
    rule = Rule("a-first", 0, RuleKind.EXACT_REFERENCE)
    clean = {
        "id": "ste_01",
        "currency": "EUR",
        "amount": Decimal("10.00"),
        "value_date": DAY,
        "booking_date": DAY,
        "status": "booked",
        "references": {"end_to_end_id": "R1"},
        "remittance_information": None,
        "counterparty_name": None,
    }
    rival = {**clean, "id": "ste_02", "references": {"end_to_end_id": "R1\u00a0"}}
    alone = Day([clean], [movement], [rule], [], [])
    contested = Day([clean, rival], [movement], [rule], [], [])

    by_sql = (await _both_ways(postgresql, alone))[2]
    left_to_the_engine = (await _both_ways(postgresql, contested))[2]

    assert [(m.rule, m.line_ids, m.movement_ids) for m in by_sql] == [
        ("a-first", ("ste_01",), (our_id(0),))
    ]
    assert left_to_the_engine == []


async def test_the_sql_path_needs_postgresql_and_a_first_rule_by_reference_alone(
    db: Database,
) -> None:
    by_reference = Rule("a", 0, RuleKind.EXACT_REFERENCE)
    with_party = Rule("a", 0, RuleKind.EXACT_REFERENCE, counterparty_must_agree=True)
    by_amount = Rule("a", 0, RuleKind.AMOUNT_DATE_COUNTERPARTY)
    off = Rule("0", 0, RuleKind.AMOUNT_DATE_COUNTERPARTY, enabled=False)
    postgresql = db.backend == "postgres"

    async with db.sessionmaker() as session:
        assert clear.applies(session, [off, by_reference, Rule("b", 1, RuleKind.ONE_TO_MANY)]) == (
            by_reference if postgresql else None
        )
        assert clear.applies(session, [with_party]) is None
        assert clear.applies(session, [by_amount, Rule("b", 1, RuleKind.EXACT_REFERENCE)]) is None
        assert clear.applies(session, []) is None
