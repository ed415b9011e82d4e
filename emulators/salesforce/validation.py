"""Checking and converting one field value, and the org's declarative validation rules.

Messages follow ``error_messages`` in the schema JSON (field labels, not API names, in
STRING_TOO_LONG / INVALID_EMAIL_ADDRESS / restricted picklists; API names in
REQUIRED_FIELD_MISSING).
"""

from __future__ import annotations

import re
from typing import Any

from .errors import SfError
from .ids import normalize
from .schema import FieldDef
from .values import format_datetime, parse_date, parse_datetime

# Salesforce accepts Unicode letters in the local part (``chloé@...``), but not ``@@``.
EMAIL_RE = re.compile(
    r"^[\w.!#$%&'*+/=?^`{|}~-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+$"
)
_INT_RE = re.compile(r"^[+-]?\d+$")
_NUM_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def type_error(f: FieldDef, value: Any) -> SfError:
    return SfError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{f.label}: value not of required type: {value}",
        [f.name],
    )


def out_of_range(f: FieldDef, value: Any) -> SfError:
    return SfError(
        "NUMBER_OUTSIDE_VALID_RANGE",
        f"{f.label}: value outside of valid range on numeric field: {value}",
        [f.name],
    )


def _in_picklist_order(f: FieldDef, value: str) -> str:
    """A multi-select's values as Salesforce keeps them: in its picklist's order, whatever
    order they were written in (Knowledge article 000231088: the API returns them in the
    order the values were set up in). Values the list lacks (unrestricted) follow, as given."""
    order = {v["value"]: i for i, v in enumerate(f.raw.get("picklistValues") or [])}
    return ";".join(sorted(value.split(";"), key=lambda v: order.get(v, len(order))))


def coerce(f: FieldDef, value: Any) -> Any:
    """The stored form of ``value`` for field ``f``; raises SfError when it does not fit."""
    if value is None:
        return False if f.type == "boolean" else None
    if f.is_text:
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float):
            value = str(value)
        elif not isinstance(value, str):
            raise SfError(
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of string from {_json_kind(value)} value "
                f"{value!r} or request may be missing a required field",
                [f.name],
            )
        if value == "":
            return None  # Salesforce stores empty text as null
        if f.length and len(value) > f.length:
            raise SfError(
                "STRING_TOO_LONG",
                f"{f.label}: data value too large: {value} (max length={f.length})",
                [f.name],
            )
        if f.type == "email" and not EMAIL_RE.match(value):
            raise SfError(
                "INVALID_EMAIL_ADDRESS", f"{f.label}: invalid email address: {value}", [f.name]
            )
        if f.restricted:
            # A multi-select holds ";"-separated values: each must be one of the list's.
            chosen = value.split(";") if f.type == "multipicklist" else [value]
            bad = next((v for v in chosen if v and v not in f.picklist), None)
            if bad is not None or not any(chosen):
                raise SfError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{f.label}: bad value for restricted picklist field: {bad or value}",
                    [f.name],
                )
        if f.type == "multipicklist":
            return _in_picklist_order(f, value)
        return value
    t = f.type
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise type_error(f, value)
    if t == "int":
        if isinstance(value, bool):
            raise type_error(f, value)
        whole = (
            isinstance(value, int)
            or (isinstance(value, float) and value.is_integer())
            or (isinstance(value, str) and _INT_RE.match(value.strip()))
        )
        if not whole:
            raise type_error(f, value)
        number = int(value)
        # An int field holds at most ``digits`` digits (NumberOfEmployees: 8), and 32 bits.
        digits = f.raw.get("digits") or 0
        if (digits and len(str(abs(number))) > digits) or abs(number) > 2**31 - 1:
            raise out_of_range(f, value)
        return number
    if f.is_number:
        if isinstance(value, bool):
            raise type_error(f, value)
        if (
            isinstance(value, int | float)
            or isinstance(value, str)
            and _NUM_RE.match(value.strip())
        ):
            number = float(value)
        else:
            raise type_error(f, value)
        if f.precision:
            whole_digits = f.precision - f.scale
            if abs(number) >= 10**whole_digits:
                raise out_of_range(f, value)
        return round(number, f.scale) if f.scale else number
    if t == "date":
        if isinstance(value, str):
            parsed = parse_date(value)
            if parsed is None and "T" in value:
                dt = parse_datetime(value)  # a datetime for a date field keeps its date part
                parsed = dt.date() if dt else None
            if parsed is not None:
                return parsed.isoformat()
        raise type_error(f, value)
    if t == "datetime":
        if isinstance(value, str):
            dt = parse_datetime(value)
            if dt is None:
                day = parse_date(value)
                if day is not None:
                    return f"{day.isoformat()}T00:00:00.000+0000"
            if dt is not None:
                return format_datetime(dt)
        raise type_error(f, value)
    if f.is_id:
        norm = normalize(value) if isinstance(value, str) else None
        if norm is None:
            raise SfError(
                "MALFORMED_ID", f"{f.label}: id value of incorrect type: {value}", [f.name]
            )
        return norm
    # address / location / anyType: accept as-is
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return "VALUE"


# --- validation rules ------------------------------------------------------------------------

OPERATORS = (
    "equals",
    "not_equals",
    "is_blank",
    "not_blank",
    "contains",
    "not_contains",
    "starts_with",
    "matches",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "length_gt",
    "changed",
)


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def rule_fires(
    rule: dict[str, Any], merged: dict[str, Any], changes: dict[str, Any], creating: bool
) -> bool:
    """True when the record violates the rule (like a validation formula evaluating to TRUE)."""
    op = rule["operator"]
    field = rule["field"]
    actual = merged.get(field)
    expected = rule.get("value")
    if op == "is_blank":
        return actual is None
    if op == "not_blank":
        return actual is not None
    if op == "changed":
        return not creating and field in changes
    if op == "equals":
        return _norm(actual) == _norm(expected)
    if op == "not_equals":
        return _norm(actual) != _norm(expected)
    if op in ("in", "not_in"):
        inside = _norm(actual) in {_norm(v) for v in expected or []}
        return inside if op == "in" else not inside
    if actual is None:
        return False
    if op == "contains":
        return str(expected).lower() in str(actual).lower()
    if op == "not_contains":
        return str(expected).lower() not in str(actual).lower()
    if op == "starts_with":
        return str(actual).lower().startswith(str(expected).lower())
    if op == "matches":
        return re.fullmatch(str(expected), str(actual)) is not None
    if op == "length_gt":
        return len(str(actual)) > int(expected)
    try:
        if op == "gt":
            return actual > expected
        if op == "gte":
            return actual >= expected
        if op == "lt":
            return actual < expected
        if op == "lte":
            return actual <= expected
    except TypeError:
        return False
    raise ValueError(f"unknown operator {op!r}")
