"""The simulator's configuration: who it is, the books it opens with, and the rules a test or
the demo turns on (holds, late confirmations, counterparty shortfalls, partial settlement).
Built in code by tests, or read from a JSON or TOML file (``load_scenario``); amounts and
quantities are written as strings or integers, never as floats."""

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, cast

from csd_sim.messages.instruction import Instruction

AnswerFormat = Literal["auto", "xml", "mt"]
HOLD_REASONS = ("PREA", "PRCY", "CSDH", "CVAL")


class ScenarioError(ValueError):
    """The scenario file is not valid: the message names the key."""


@dataclass(frozen=True)
class Selector:
    """Which instructions a rule is for: by our reference, by ISIN, or both (None: any)."""

    reference: str | None = None
    isin: str | None = None

    def applies(self, instruction: Instruction) -> bool:
        return (self.reference is None or self.reference == instruction.reference) and (
            self.isin is None or self.isin == instruction.isin
        )


@dataclass(frozen=True)
class HoldRule:
    """Put on hold on arrival: PREA (party hold), PRCY (the counterparty's), CSDH (the CSD's)
    or CVAL; released on the settlement day ``until`` (None: until ``Engine.release``)."""

    selector: Selector
    reason: str
    until: date | None = None


@dataclass(frozen=True)
class LateConfirmation:
    """The confirmation of a settlement sent ``days`` business days after it settled."""

    selector: Selector
    days: int


@dataclass(frozen=True)
class Shortfall:
    """The counterparty holds only ``available`` of the securities it must deliver."""

    selector: Selector
    available: Decimal


@dataclass(frozen=True)
class Tolerance:
    """The T2S settlement amount matching tolerance: ``large`` above ``threshold``, else
    ``small``."""

    threshold: Decimal = Decimal(100000)
    small: Decimal = Decimal(2)
    large: Decimal = Decimal(25)

    def allows(self, ours: Decimal, theirs: Decimal) -> bool:
        limit = self.large if max(ours, theirs) > self.threshold else self.small
        return abs(ours - theirs) <= limit


@dataclass(frozen=True)
class Scenario:
    bic: str = "MGTCBEBEECL"
    participant_bic: str = "COBADEFFXXX"
    # Starts the simulator's message ids and transaction ids (at most 5 characters).
    message_prefix: str = "SIM"
    auto_match: bool = True
    answer_format: AnswerFormat = "auto"
    # Accounts not listed below hold without limit ("unlimited") or nothing ("empty").
    unlisted_balances: Literal["unlimited", "empty"] = "unlimited"
    # (securities account, ISIN) -> quantity; (participant BIC, currency) -> amount.
    securities: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)
    cash: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)
    # When given, an instruction on any other safekeeping account is rejected (SAFE).
    our_accounts: frozenset[str] = frozenset()
    settlement_units: Mapping[str, Decimal] = field(default_factory=dict)
    # PARQ: the least quantity a partial settles, per ISIN; PARC: the least cash, per currency.
    quantity_thresholds: Mapping[str, Decimal] = field(default_factory=dict)
    cash_thresholds: Mapping[str, Decimal] = field(default_factory=dict)
    # Times of day (UTC) when partial settlement is attempted; none: at every settlement.
    partial_windows: tuple[tuple[time, time], ...] = ()
    holds: tuple[HoldRule, ...] = ()
    late_confirmations: tuple[LateConfirmation, ...] = ()
    counterparty_shortfalls: tuple[Shortfall, ...] = ()
    tolerance: Tolerance = Tolerance()
    holidays: frozenset[date] = frozenset()

    def settlement_unit(self, isin: str) -> Decimal:
        return self.settlement_units.get(isin, Decimal(1))

    def partial_window_open(self, moment: time) -> bool:
        return not self.partial_windows or any(
            start <= moment < end for start, end in self.partial_windows
        )


def _decimal(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ScenarioError(f"{key}: write the number as a string or an integer, not {value!r}")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ScenarioError(f"{key}: '{value}' is not a decimal") from None


def _selector(row: Mapping[str, Any], key: str) -> Selector:
    selector = Selector(reference=row.get("reference"), isin=row.get("isin"))
    if selector.reference is None and selector.isin is None:
        raise ScenarioError(f"{key}: give a reference or an isin")
    return selector


def _day(value: Any, key: str) -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise ScenarioError(f"{key}: '{value}' is not an ISO date") from None


def _hold(row: Mapping[str, Any], key: str) -> HoldRule:
    reason = str(row.get("reason", ""))
    if reason not in HOLD_REASONS:
        raise ScenarioError(f"{key}.reason: '{reason}' is not one of {', '.join(HOLD_REASONS)}")
    until = row.get("until")
    return HoldRule(_selector(row, key), reason, None if until is None else _day(until, key))


def _windows(rows: list[Any]) -> tuple[tuple[time, time], ...]:
    try:
        return tuple((time.fromisoformat(start), time.fromisoformat(end)) for start, end in rows)
    except (ValueError, TypeError):
        raise ScenarioError('partial_windows: write [["14:00", "14:15"], ...]') from None


def _balances(
    rows: list[Mapping[str, Any]], key: str, names: tuple[str, str, str]
) -> dict[tuple[str, str], Decimal]:
    first, second, amount = names
    try:
        return {
            (str(row[first]), str(row[second])): _decimal(row[amount], f"{key}[{i}].{amount}")
            for i, row in enumerate(rows)
        }
    except KeyError as missing:
        raise ScenarioError(
            f"{key}: every row needs {first}, {second} and {amount} ({missing} is missing)"
        ) from None


def scenario_from_dict(data: Mapping[str, Any]) -> Scenario:
    """A scenario from plain data (a parsed JSON or TOML file); every key optional."""
    simple = {
        key: data[key]
        for key in ("bic", "participant_bic", "message_prefix", "auto_match")
        if key in data
    }
    answer_format = data.get("answer_format", "auto")
    if answer_format not in ("auto", "xml", "mt"):
        raise ScenarioError(f"answer_format: '{answer_format}' is not auto, xml or mt")
    unlisted = data.get("unlisted_balances", "unlimited")
    if unlisted not in ("unlimited", "empty"):
        raise ScenarioError(f"unlisted_balances: '{unlisted}' is not unlimited or empty")
    return Scenario(
        **simple,
        answer_format=cast(AnswerFormat, answer_format),
        unlisted_balances=unlisted,
        securities=_balances(
            data.get("securities", []), "securities", ("account", "isin", "quantity")
        ),
        cash=_balances(data.get("cash", []), "cash", ("participant", "currency", "amount")),
        our_accounts=frozenset(data.get("our_accounts", [])),
        settlement_units={
            k: _decimal(v, f"settlement_units.{k}")
            for k, v in data.get("settlement_units", {}).items()
        },
        quantity_thresholds={
            k: _decimal(v, f"quantity_thresholds.{k}")
            for k, v in data.get("quantity_thresholds", {}).items()
        },
        cash_thresholds={
            k: _decimal(v, f"cash_thresholds.{k}")
            for k, v in data.get("cash_thresholds", {}).items()
        },
        partial_windows=_windows(data.get("partial_windows", [])),
        holds=tuple(_hold(row, f"holds[{i}]") for i, row in enumerate(data.get("holds", []))),
        late_confirmations=tuple(
            LateConfirmation(_selector(row, f"late_confirmations[{i}]"), int(row.get("days", 1)))
            for i, row in enumerate(data.get("late_confirmations", []))
        ),
        counterparty_shortfalls=tuple(
            Shortfall(_selector(row, key), _decimal(row.get("available"), f"{key}.available"))
            for i, row in enumerate(data.get("counterparty_shortfalls", []))
            for key in (f"counterparty_shortfalls[{i}]",)
        ),
        holidays=frozenset(_day(day, "holidays") for day in data.get("holidays", [])),
    )


def load_scenario(path: Path) -> Scenario:
    """A scenario file: ``.toml``, or JSON otherwise."""
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text, parse_float=str)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ScenarioError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: the scenario is an object of settings")
    return scenario_from_dict(data)
