"""schemathesis over the whole OpenAPI document, with a key of each role and every check.

No 5xx, no response outside its schema, no undocumented status code or header, the right
``Allow`` on 405, and schema-invalid input refused. Bounded in ``make test`` (a few examples per
operation, a fixed seed); ``make test-deep`` generates many more and runs the stateful phase.
What is still open is listed by operation below, so that anything new fails.
"""

import re

import pytest

from app.core.auth import Role
from tests.conftest import Database
from tests.contract.fuzzing import FULL_ROLE, run

# Known, not yet fixed (issue 17), each with its reason.
KNOWN_OPEN: dict[str, dict[str, str]] = {
    "request_parser_accepts_valid_input": {},
}
# DecimalStr takes a JSON integer as well as the string its schema states (by design: an integer
# is exact, and clients send quantities as 100); an integer branch in the schema would need
# bounds of 28 digits, which the OpenAPI document renders as floats (1e+28), so it is not stated.
_INTEGER_FOR_A_DECIMAL = re.compile(r"in body - .*?(\w+): Incorrect type \|.*'\1': -?\d+[,}]")


def _known(check: str, sample: str) -> bool:
    if check == "negative_data_rejection":
        return _INTEGER_FOR_A_DECIMAL.search(sample) is not None
    return sample.split(":")[0] in KNOWN_OPEN.get(check, {})


@pytest.mark.parametrize("role", list(Role))
def test_the_api_keeps_its_openapi_contract(db: Database, role: Role) -> None:
    # Every phase once, on the production database (the CI budget); SQLite, like the other
    # roles, gets a case per operation, and `make test-deep` fuzzes every phase on both.
    findings = run(db.url, db.keys[role], full=role == FULL_ROLE and db.backend == "postgres")
    assert findings.operations == findings.documented, "operations without a case"
    unexpected = {
        check: [sample for sample in samples if not _known(check, sample)]
        for check, samples in findings.samples.items()
    }
    unexpected = {check: samples for check, samples in unexpected.items() if samples}
    assert unexpected == {}, "\n".join(
        f"{check}: {sample}" for check, samples in unexpected.items() for sample in samples[:20]
    )
