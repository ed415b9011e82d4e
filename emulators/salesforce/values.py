"""Date and datetime parsing and the REST wire format.

Datetimes are stored already rendered as ``2024-01-01T12:34:56.000+0000`` (always UTC, always
milliseconds): that string sorts chronologically, so SOQL comparisons and ORDER BY work on the
stored values directly, which keeps queries over 100k records fast.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

_DT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2}|[+-]\d{2})?$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def format_datetime(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def stamp(now: datetime) -> str:
    """System timestamps have whole-second precision, like Salesforce's."""
    return format_datetime(now.replace(microsecond=0))


def parse_datetime(text: str) -> datetime | None:
    m = _DT.match(text.strip())
    if not m:
        return None
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    tz = m.group(8)
    if tz in (None, "Z", "z"):
        tzinfo = UTC
    else:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        tzinfo = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tzinfo)
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    m = _DATE.match(text.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
