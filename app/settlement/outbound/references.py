"""Our message references (``:20C::SEME//``, sese.023 ``TxId``): at most 16 characters of the
SWIFT X character set, no leading or trailing ``/`` and no ``//``. Pure.

A reference is 16 characters of Crockford's base-32 alphabet (digits and capital letters, all in
the X set, never a ``/``): 48 bits of milliseconds since the epoch then 32 random bits, so
references sort by creation and two made in the same millisecond collide with odds of 2**-32 (the
unique constraint on the table turns even that into a refused transaction, never a duplicate).
Our own ids (``si_...``, 29 characters) are too long for it.
"""

import re
import secrets
from datetime import datetime

REFERENCE_LENGTH = 16
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# SWIFT X character set: a-z A-Z 0-9 / - ? : ( ) . , ' + space (CrLf not in a reference).
_X_CHARACTERS = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]+")


def _base32(value: int, length: int) -> str:
    digits = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def new_reference(now: datetime) -> str:
    millis = int(now.timestamp() * 1000)
    return _base32(millis, 10) + _base32(secrets.randbits(30), 6)


def reference_problem(reference: str) -> str | None:
    """Why ``reference`` cannot be a SWIFT reference, or None if it can."""
    if not reference or len(reference) > REFERENCE_LENGTH:
        return f"must be 1 to {REFERENCE_LENGTH} characters"
    if not _X_CHARACTERS.fullmatch(reference):
        return "must use the SWIFT X character set"
    if reference.startswith("/") or reference.endswith("/") or "//" in reference:
        return "must not start or end with '/' nor contain '//'"
    return None
