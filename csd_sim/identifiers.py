"""The simulator's own identifiers: message ids (unique per sender, as the service requires)
and transaction ids, at most 16 characters of the SWIFT X set so both fit ``:20C:``."""

import string
from datetime import datetime

_DIGITS = string.digits + string.ascii_uppercase


def stamp(moment: datetime) -> str:
    """Six base-36 characters of the second a simulator started: a restarted simulator does
    not reuse the message ids of an earlier run (the service answers a known id as a replay)."""
    value = int(moment.timestamp())
    text = ""
    while value:
        value, digit = divmod(value, 36)
        text = _DIGITS[digit] + text
    return text[-6:].rjust(6, "0")


class Identifiers:
    def __init__(self, prefix: str, run_stamp: str = "") -> None:
        if len(prefix) + len(run_stamp) > 9 or not (prefix + run_stamp).isalnum():
            raise ValueError("the prefix and stamp are at most 9 letters or digits together")
        self.prefix = prefix + run_stamp
        self._messages = 0
        self._transactions = 0

    def next_message(self) -> str:
        self._messages += 1
        return f"{self.prefix}M{self._messages:06d}"

    def next_transaction(self) -> str:
        self._transactions += 1
        return f"{self.prefix}T{self._transactions:06d}"
