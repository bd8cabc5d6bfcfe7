"""Run schemathesis's engine over the app's OpenAPI document and collect what its checks find."""

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from fastapi.exceptions import RequestValidationError
from schemathesis.engine import events, from_schema
from schemathesis.python import asgi

from app.core.config import Settings
from app.main import create_app

# Bounded in `make test`; `make test-deep` (HYPOTHESIS_PROFILE=deep) generates many more.
DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "100" if DEEP else "3"))
SEED = 17
# Operations: every phase; the other roles (mostly 403) one case per operation.
FULL_ROLE = "operations"
ACCEPTED_REFUSALS = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "422", "429", "5xx"]


@dataclass
class Findings:
    documented: set[str] = field(default_factory=set)
    cases: int = 0
    operations: set[str] = field(default_factory=set)
    by_check: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, check: str, label: str, message: str) -> None:
        self.by_check[check] += 1
        samples = self.samples.setdefault(check, [])
        if len(samples) < 400:
            samples.append(f"{label}: {message}")


def fuzz_config(key: str, *, full: bool = True) -> Any:
    return schemathesis.Config.from_dict(config_dict(key, full=full))


def config_dict(key: str, *, full: bool = True) -> dict[str, Any]:
    return {
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {key}"},
        "workers": 1,
        "max-failures": 100000,
        "checks": {
            "enabled": True,
            # Narrowed: schema-valid input may still break a rule of the data: an unknown
            # ISIN or account (422), a stale If-Match (412), control characters, which no
            # identifier holds and every route refuses (400). What the schema must say is
            # what the request parser refuses: `request_parser_accepts_valid_input` below.
            "positive_data_acceptance": {"expected-statuses": ACCEPTED_REFUSALS},
            # A missing required If-Match is RFC 6585's 428 Precondition Required.
            "missing_required_header": {
                "expected-statuses": ["400", "401", "403", "406", "415", "422", "428"]
            },
        },
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES if full or DEEP else 1,
            "deterministic": True,
            "database": "none",
            "no-shrink": True,
        },
        # The other roles (mostly a 403 each): one case per operation, its example or one
        # generated where it has none (fill-missing), every check applied; the fuzzed cases
        # added only the same 403 again, at twice the time (make test-deep keeps them).
        "phases": {
            "examples": {"fill-missing": True},
            "coverage": {"enabled": full or DEEP},
            "fuzzing": {"enabled": full or DEEP},
            "stateful": {"enabled": DEEP},
        },
    }


def run(database_url: str, key: str, *, full: bool = True) -> Findings:
    app = create_app(
        Settings(
            database_url=database_url,
            log_json=True,
            log_level="CRITICAL",
            background_workers=False,
        )
    )
    _mark_parser_refusals(app)
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=fuzz_config(key, full=full)
    )
    findings = Findings(documented=_operations(app.openapi()))
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                _collect(findings, event)
            elif isinstance(event, events.NonFatalError | events.FatalError):
                findings.add("engine_error", getattr(event, "label", "-"), repr(event))
    finally:
        asgi.shutdown_lifespans()
    return findings


def _operations(document: dict[str, Any]) -> set[str]:
    """Every operation of the document, labelled as schemathesis labels them."""
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in methods
    }


PARSER_REFUSAL = "x-test-request-validation"


def _mark_parser_refusals(app: Any) -> None:
    """Tell the parser's 422 (FastAPI's request validation) from a service's 422."""
    original = app.exception_handlers[RequestValidationError]

    async def marked(request: Any, exc: Exception) -> Any:
        response = await original(request, exc)
        response.headers[PARSER_REFUSAL] = "1"
        return response

    app.exception_handlers[RequestValidationError] = marked


@schemathesis.check
def request_parser_accepts_valid_input(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance where the schema is to blame: the parser refused valid input."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code == 422 and response.headers.get(PARSER_REFUSAL):
        raise AssertionError(f"Schema-valid input refused by the request parser: {response.text}")
    return None


def _collect(findings: Findings, event: Any) -> None:
    recorder = event.recorder
    findings.cases += len(recorder.cases)
    if recorder.cases:
        findings.operations.add(recorder.label)
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            if node.failure_info is not None:
                failure = node.failure_info.failure
                findings.add(node.name, recorder.label, _describe(recorder, case_id, failure))


def _describe(recorder: Any, case_id: str, failure: Any) -> str:
    """The failure, the request that caused it and the answer: enough to act on."""
    node = recorder.cases.get(case_id)
    response = recorder.find_response(case_id=case_id)
    request = ""
    if node is not None:
        case = node.value
        request = (
            f"path={case.path_parameters} query={case.query} "
            f"headers={ {k: v for k, v in (case.headers or {}).items() if k != 'Authorization'} } "
            f"body={str(case.body)[:300]}"
        )
    answer = "" if response is None else f"{response.status_code} {response.text[:300]}"
    return f"{failure.title} | {failure.message[:600]} | {request} | -> {answer}"


def _check_digit_strategies() -> None:
    """Formats the OpenAPI document names whose check digits no pattern can express."""
    from hypothesis import strategies as st

    schemathesis.openapi.format(
        "isin", st.sampled_from(["US0378331005", "US46625H1005", "DE0001102614", "GB0002634946"])
    )
    schemathesis.openapi.format(
        "lei", st.sampled_from(["W22LROWP2IHZNBB6K528", "5493001KJTIIGC8Y1R12"])
    )
    schemathesis.openapi.format("bic", st.sampled_from(["DEUTDEFF", "BNPAFRPP", "COBADEFFXXX"]))
    schemathesis.openapi.format(
        "iban", st.sampled_from(["DE89370400440532013000", "GB29NWBK60161331926819"])
    )
    schemathesis.openapi.format("iso4217", st.sampled_from(["USD", "EUR", "GBP", "JPY", "CHF"]))


_check_digit_strategies()
