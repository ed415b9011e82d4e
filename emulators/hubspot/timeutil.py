"""Millisecond timestamps: HubSpot's native precision, rendered as ``...T12:00:00.123Z``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_MS = 86_400_000
_ONE_MS = timedelta(milliseconds=1)
_DIGITS = re.compile(r"-?\d+")


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _ONE_MS


@lru_cache(maxsize=8192)
def iso(ms: int) -> str:
    """Epoch milliseconds as HubSpot renders datetimes (UTC, millisecond precision, ``Z``)."""
    moment = EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_date(ms: int) -> str:
    return (EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%d")


@lru_cache(maxsize=65536)
def parse_ms(value: str) -> int | None:
    """Epoch milliseconds from an epoch-ms string or an ISO 8601 date/datetime; None if neither."""
    text = value.strip()
    if not text:
        return None
    if _DIGITS.fullmatch(text):
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return to_ms(moment)
