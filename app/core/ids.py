"""Our own identifiers: a type prefix and a ULID, so ids sort by creation time.

The ULID is made here rather than by ``ulid.ULID()``, with the same layout and text (48 bits of
milliseconds, 80 random bits, Crockford base32 in lower case) and the same rule within one
millisecond (the previous randomness plus one): a batch of trades draws thousands of ids, and
the library's object per id was a measurable share of it.
"""

import os
import time
from threading import Lock

_RANDOM_BITS = 80
_RANDOM_LIMIT = 1 << _RANDOM_BITS
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
# Two digits per 10 bits: 13 lookups make the 26 digits of 130 bits (the top two always zero).
_DIGIT_PAIRS = [high + low for high in _CROCKFORD for low in _CROCKFORD]
_SHIFTS = tuple(range(120, -1, -10))

_lock = Lock()
_last_ms = -1
_last_random = 0


def ulid_text(value: int) -> str:
    """A 128-bit ULID as its 26 characters."""
    pairs = _DIGIT_PAIRS
    return "".join([pairs[(value >> shift) & 0x3FF] for shift in _SHIFTS])


def _next_ulid() -> int:
    global _last_ms, _last_random
    now_ms = time.time_ns() // 1_000_000
    with _lock:
        if now_ms == _last_ms and _last_random + 1 < _RANDOM_LIMIT:
            _last_random += 1
        else:
            _last_random = int.from_bytes(os.urandom(_RANDOM_BITS // 8), "big")
        _last_ms = now_ms
        return (now_ms << _RANDOM_BITS) | _last_random


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid_text(_next_ulid())}"
