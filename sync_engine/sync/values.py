"""Values between Salesforce's typed JSON and HubSpot's strings, and mapping compatibility.

HubSpot stores every property value as a string; Salesforce sends and expects typed JSON. The
engine compares values in HubSpot's string form, so both sides are normalised here first: a
number is "5" whether HubSpot holds "5.0" or Salesforce 5.0, a checkbox is "true"/"false", a
date is "YYYY-MM-DD", a datetime is ISO 8601 in UTC with milliseconds and "Z".

A Salesforce date against a HubSpot date/time is a day in the HubSpot account's time zone
(``compared_type`` names it ``"date@<zone>"``): HubSpot shows a date/time in that zone, so a
day goes to HubSpot as its midnight there (``hubspot_datetime``) and a date/time is its day
there.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dateutil import parser as date_parser

DATA = Path(__file__).resolve().parent.parent / "data" / "mapping_defaults.json"

NUMBER_TYPES = {"double", "int", "currency", "percent", "long"}
MULTI_SELECT = "multipicklist"  # a Salesforce multi-select picklist: ";"-separated choices
ZONED_DATE = "date@"  # + the account's time zone: see ``compared_type``


class ValueConversionError(ValueError):
    """A value that can't be represented in the target field's type."""


def _number_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def _parse_datetime(text: str) -> datetime:
    if text.isdigit():  # HubSpot epoch milliseconds
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    parsed = date_parser.isoparse(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _datetime_text(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@cache
def zone_named(name: str | None) -> tzinfo:
    """The time zone of that IANA name; UTC when there is none or this server doesn't know
    it."""
    if not name:
        return UTC
    try:
        return ZoneInfo(str(name))
    except (KeyError, ValueError):
        return UTC


def _day_in(text: str, zone: str) -> str:
    """A HubSpot date/time's day in the account's time zone. Midnight UTC is its UTC day:
    what HubSpot makes of a date given without a time, and how days were written before."""
    moment = _parse_datetime(text).astimezone(UTC)
    if moment.time() == time(0):
        return moment.date().isoformat()
    return moment.astimezone(zone_named(zone)).date().isoformat()


def hubspot_datetime(day: str, zone: str) -> str:
    """A day (``YYYY-MM-DD``) for a HubSpot date/time property: its midnight in the account's
    time zone as epoch milliseconds, so HubSpot shows that day."""
    start = datetime.combine(date.fromisoformat(day), time(0), tzinfo=zone_named(zone))
    return str(round(start.timestamp() * 1000))


def is_day(value: object) -> bool:
    """Whether ``value`` is a bare day, ``YYYY-MM-DD``."""
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def normalize(value: object, sf_type: str) -> str:
    """Either side's value in the canonical string form for a field of ``sf_type``."""
    if value is None or value == "":
        return ""
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, bool)
        else str(value)
    )
    try:
        if sf_type == "boolean":
            return "true" if text.strip().lower() in {"true", "1", "yes"} else "false"
        if sf_type in NUMBER_TYPES:
            return _number_text(Decimal(text.strip()))
        if sf_type == "date":
            if text.isdigit():
                return _parse_datetime(text).date().isoformat()
            return date.fromisoformat(text[:10]).isoformat()
        if sf_type == "datetime":
            return _datetime_text(_parse_datetime(text))
        if sf_type.startswith(ZONED_DATE):
            return _day_in(text, sf_type.removeprefix(ZONED_DATE))
    except (InvalidOperation, ValueError) as error:
        shown = sf_type.partition("@")[0]  # (a day in a time zone is a date)
        raise ValueConversionError(f"{text!r} is not a valid {shown} value") from error
    return text


def choices_sorted(value: str | None) -> str | None:
    """A multi-select's value (``normalize``'s text) with its choices in one order, to compare:
    Salesforce keeps them in its picklist's order and HubSpot as written, so the same choices
    in another order are the same value. None (no snapshot yet) stays None."""
    if not value:
        return value
    return ";".join(sorted(value.split(";")))


RANGE_OPTION = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)|(\+))\s*$")  # "25-50", "1000+"


def number_ranges(options: list[dict]) -> tuple[tuple[int, int | None, str], ...] | None:
    """A HubSpot dropdown's options as number ranges ``(low, high, value)`` (``high`` None:
    and up), when every option is one ("1-5", "5-25", "1000+": HubSpot's Number of
    Employees); else None."""
    ranges = []
    for option in options:
        found = RANGE_OPTION.match(str(option.get("value") or ""))
        if not found:
            return None
        low, high, _plus = found.groups()
        ranges.append((int(low), int(high) if high else None, option["value"]))
    return tuple(ranges) or None


def range_of(number: str, ranges: tuple[tuple[int, int | None, str], ...]) -> str:
    """The option a number (``normalize``'s text) falls in: the first whose bounds hold it,
    so a bound two options share ("5" of "1-5" and "5-25") goes to the first; "" for none."""
    if not number:
        return ""
    value = Decimal(number)
    for low, high, option in ranges:
        if low <= value and (high is None or value <= high):
            return option
    return ""


def domain_of(value: object) -> str:
    """A company domain as HubSpot keeps it ("web.example"), from a domain or a website URL
    ("https://www.web.example/about"): the host, lower-case, without "www." or a port."""
    text = str(value or "").strip()
    if not text:
        return ""
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def compared_type(sf_type: str, hs_type: str | None, zone: str = "") -> str:
    """The type a Salesforce field of ``sf_type`` and the HubSpot property (of ``hs_type``)
    mapped to it compare as: the field's, except that a date/time mapped to a HubSpot date
    picker compares as its day (UTC), all HubSpot keeps of it (HubSpot refuses a date that
    isn't midnight UTC), and a date mapped to a HubSpot date/time as a day in the account's
    time zone ``zone`` (``"date@America/New_York"``), the day HubSpot shows."""
    if sf_type == "datetime" and hs_type == "date":
        return "date"
    if sf_type == "date" and hs_type == "datetime":
        return f"{ZONED_DATE}{zone or 'UTC'}"
    return sf_type


def to_salesforce(value: str | None, sf_type: str, kind: str | None = None) -> object:
    """A HubSpot string as Salesforce JSON for a field of ``sf_type`` ("" clears: None), the
    value compared as ``kind`` (``compared_type``) when that isn't ``sf_type`` (a date/time
    for a date: its day in the account's time zone)."""
    text = normalize(value, kind or sf_type)
    if text == "":
        return None
    if sf_type == "datetime" and kind == "date":
        return f"{text}T00:00:00.000Z"  # a HubSpot day: midnight UTC
    if sf_type == "boolean":
        return text == "true"
    if sf_type == "int":  # a whole number: a HubSpot decimal rounds, as a person would
        return int(Decimal(text).to_integral_value(rounding=ROUND_HALF_UP))
    if sf_type in NUMBER_TYPES:
        number = Decimal(text)
        return int(number) if number == number.to_integral_value() else float(number)
    return text


@cache
def _compatibility() -> dict[str, set[str]]:
    data = json.loads(DATA.read_text())
    table = {key: set(types) for key, types in data["type_compatibility"].items()}
    for key, types in data["type_compatibility_inferred_additions"].items():
        if isinstance(types, list):
            table.setdefault(key, set()).update(types)
    return table


def read_only_field(field: dict) -> bool:
    """A Salesforce field (its describe) that takes no writes: a formula, or not updateable.
    Its mappings may only use Salesforce's value (spec §8.2)."""
    return bool(field.get("calculated")) or not field.get("updateable", True)


def is_compatible(*, hs_type: str, hs_field_type: str, sf_type: str) -> bool:
    """Whether a HubSpot property of (type, fieldType) may map to a Salesforce field type."""
    if hs_field_type == "hubspot_user":
        return False  # user-type properties can't be mapped (spec §8.1)
    return sf_type in _compatibility().get(f"{hs_type}/{hs_field_type}", set())


@cache
def default_mappings(object_name: str) -> list[dict]:
    """HubSpot's default Salesforce mappings for ``contacts``, ``companies``, ``deals``..."""
    return json.loads(DATA.read_text())["default_salesforce_mappings"].get(object_name, [])


# A multi-currency org's record currency, and the deal property it maps to: HubSpot's defaults
# have no such mapping (a single-currency org lacks the field), and amounts go with it.
CURRENCY_FIELD = "CurrencyIsoCode"
HUBSPOT_CURRENCY = "deal_currency_code"


def option_lookup(options: list[dict]) -> dict[str, str]:
    """A dropdown's options by value and by casefolded label -> the value HubSpot takes."""
    found = {o["value"]: o["value"] for o in options}
    found.update({o["label"].casefold(): o["value"] for o in options})
    return found
