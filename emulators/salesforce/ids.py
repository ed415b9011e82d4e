"""Salesforce record ids: 15-character case-sensitive cores plus the 3-character case-safe suffix.

An id is ``prefix(3) + pod(2) + "0" + base-62 counter(9)``; the suffix encodes, per 5-character
chunk, which characters are upper-case letters. That suffix lets Salesforce accept an 18-character
id in any letter case: we restore the case from it, exactly like the real API does.
"""

from __future__ import annotations

import string

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = string.ascii_uppercase + "012345"
_ALNUM = frozenset(string.ascii_letters + string.digits)
POD = "5g"


def checksum(core: str) -> str:
    """The 3-character suffix of a 15-character id core."""
    out = []
    for start in (0, 5, 10):
        bits = 0
        for i, ch in enumerate(core[start : start + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def make_id(prefix: str, counter: int) -> str:
    digits = []
    for _ in range(9):
        counter, rem = divmod(counter, 62)
        digits.append(BASE62[rem])
    core = f"{prefix}{POD}0{''.join(reversed(digits))}"
    return core + checksum(core)


def normalize(value: object) -> str | None:
    """The canonical 18-character form of a 15/18-character id, or None when malformed."""
    if not isinstance(value, str):
        return None
    n = len(value)
    if n == 15:
        if not _ALNUM.issuperset(value):
            return None
        return value + checksum(value)
    if n != 18 or not _ALNUM.issuperset(value):
        return None
    core, suffix = value[:15], value[15:].upper()
    if core + checksum(core) == core + suffix:
        return core + suffix
    # Restore the letter case of the core from the suffix (ids are case-safe in 18 chars).
    chars = list(core)
    for chunk, sym in enumerate(suffix):
        pos = _SUFFIX.find(sym)
        if pos < 0:
            return None
        for i in range(5):
            j = chunk * 5 + i
            ch = chars[j]
            upper = bool(pos & (1 << i))
            if ch.isdigit():
                if upper:
                    return None
            else:
                chars[j] = ch.upper() if upper else ch.lower()
    fixed = "".join(chars)
    return fixed + checksum(fixed)


class IdGenerator:
    """Per-prefix counters; picklable with the rest of the org state."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}

    def next(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return make_id(prefix, n)
