"""Our ids: the text python-ulid gives for the same 128 bits, and increasing within a process."""

import random

from ulid import ULID

from app.core.ids import new_id, ulid_text


def test_ulid_text_is_the_librarys_text_in_lower_case() -> None:
    rng = random.Random(17)
    values = [0, 1, (1 << 128) - 1, *(rng.getrandbits(128) for _ in range(200))]
    for value in values:
        assert ulid_text(value) == str(ULID.from_int(value)).lower()


def test_new_ids_increase_and_carry_their_time() -> None:
    ids = [new_id("trd") for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5000
    assert {i[:4] for i in ids} == {"trd_"}
    assert {len(i) for i in ids} == {30}
    # The first 10 digits are milliseconds since 1970, as the library reads them.
    seconds = ULID.from_str(ids[0][4:].upper()).timestamp
    assert 1_700_000_000 < seconds < 4_000_000_000
