"""Lists v3: MANUAL, SNAPSHOT and DYNAMIC ("active") lists and their memberships.

A DYNAMIC list is driven by its ``filterBranch``: its membership is recomputed for a record every
time that record is written, so it always reflects the current data. A SNAPSHOT list is
filled from its filters once, at creation, and is manual afterwards.

The supported filter subset: OR/AND/NOT_ALL/NOT_ANY branches holding PROPERTY filters whose
operation uses IS_KNOWN, IS_UNKNOWN, IS_EQUAL_TO, IS_NOT_EQUAL_TO, CONTAINS, DOES_NOT_CONTAIN,
STARTS_WITH, ENDS_WITH, IS_ANY_OF, IS_NONE_OF, the numeric comparisons and IS_BETWEEN (plus the
short forms EQ, NEQ, HAS_PROPERTY, NOT_HAS_PROPERTY, GT, GTE, LT, LTE). Anything else is
rejected with 400 when the list is created, never silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .schema import ObjectType
from .store import Record
from .timeutil import iso, parse_ms

Predicate = Callable[[Record], bool]

PROCESSING_TYPES = ("MANUAL", "SNAPSHOT", "DYNAMIC")
_ALIASES = {
    "EQ": "IS_EQUAL_TO",
    "IS": "IS_EQUAL_TO",
    "NEQ": "IS_NOT_EQUAL_TO",
    "IS_NOT": "IS_NOT_EQUAL_TO",
    "HAS_PROPERTY": "IS_KNOWN",
    "NOT_HAS_PROPERTY": "IS_UNKNOWN",
    "IS_NOT_KNOWN": "IS_UNKNOWN",
    "GT": "IS_GREATER_THAN",
    "GTE": "IS_GREATER_THAN_OR_EQUAL_TO",
    "LT": "IS_LESS_THAN",
    "LTE": "IS_LESS_THAN_OR_EQUAL_TO",
    "IS_AFTER": "IS_GREATER_THAN",
    "IS_BEFORE": "IS_LESS_THAN",
    "NOT_CONTAINS": "DOES_NOT_CONTAIN",
    "IS_EXACTLY": "IS_ANY_OF",
    "IS_NOT_EXACTLY": "IS_NONE_OF",
}
_NUMERIC = {
    "IS_GREATER_THAN",
    "IS_GREATER_THAN_OR_EQUAL_TO",
    "IS_LESS_THAN",
    "IS_LESS_THAN_OR_EQUAL_TO",
    "IS_BETWEEN",
    "IS_NOT_BETWEEN",
}


@dataclass
class HList:
    id: int
    name: str
    object_type_id: str
    processing_type: str
    filter_branch: dict | None
    created: int
    updated: int
    created_by: str | None = None
    members: dict[int, int] = field(default_factory=dict)  # record id -> join time, join order
    version: int = 1
    filters_updated: int | None = None
    deleted_at: int | None = None

    def public(self, *, include_filters: bool = False) -> dict:
        out: dict[str, Any] = {
            "listId": str(self.id),
            "name": self.name,
            "objectTypeId": self.object_type_id,
            "processingType": self.processing_type,
            "processingStatus": "COMPLETE",
            "listVersion": self.version,
            "size": len(self.members),
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
        }
        if self.created_by:
            out["createdById"] = out["updatedById"] = self.created_by
        if self.filters_updated is not None:
            out["filtersUpdatedAt"] = iso(self.filters_updated)
        if self.deleted_at is not None:
            out["deletedAt"] = iso(self.deleted_at)
        # The strict client cannot decode real filter branches (its generated model only allows
        # ASSOCIATION branches), so like HubSpot we only send them when asked (includeFilters).
        if include_filters and self.filter_branch is not None:
            out["filterBranch"] = self.filter_branch
        return out

    def search_result(self) -> dict:
        out = self.public()
        out.pop("size")
        out["additionalProperties"] = {"hs_list_size": str(len(self.members))}
        if self.members:
            out["additionalProperties"]["hs_last_record_added_at"] = str(max(self.members.values()))
        return out


# --- filter compilation --------------------------------------------------------------------
def compile_branch(branch: Any, object_type: ObjectType) -> Predicate:
    """A predicate for a filterBranch; raises ValueError for anything outside the subset."""
    if not isinstance(branch, dict):
        raise ValueError("filterBranch must be an object")
    kind = str(branch.get("filterBranchType", "")).upper()
    if kind not in ("OR", "AND", "NOT_ALL", "NOT_ANY"):
        raise ValueError(f"Unsupported filterBranchType '{kind}'")
    parts = [compile_filter(f, object_type) for f in branch.get("filters") or []]
    parts += [compile_branch(b, object_type) for b in branch.get("filterBranches") or []]
    if kind == "OR":
        return lambda r: any(p(r) for p in parts)
    if kind == "AND":
        return lambda r: all(p(r) for p in parts)
    if kind == "NOT_ALL":
        return lambda r: not all(p(r) for p in parts)
    return lambda r: not any(p(r) for p in parts)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        ms = parse_ms(text)
        return float(ms) if ms is not None else None


def compile_filter(spec: Any, object_type: ObjectType) -> Predicate:
    if not isinstance(spec, dict):
        raise ValueError("filters must be objects")
    filter_type = str(spec.get("filterType", "PROPERTY")).upper()
    if filter_type != "PROPERTY":
        raise ValueError(f"Unsupported filterType '{filter_type}'")
    name = spec.get("property")
    prop = object_type.prop(name) if isinstance(name, str) else None
    if prop is None:
        raise ValueError(f"Unknown property '{name}' for object type {object_type.id}")
    operation = spec.get("operation") or {}
    operator = str(operation.get("operator", "")).upper()
    operator = _ALIASES.get(operator, operator)
    include_empty = bool(operation.get("includeObjectsWithNoValueSet", False))
    numeric = prop.type in ("number", "datetime", "date")

    def value_of(record: Record) -> str:
        return record.props.get(prop.name, "")

    if operator == "IS_KNOWN":
        return lambda r: bool(value_of(r))
    if operator == "IS_UNKNOWN":
        return lambda r: not value_of(r)

    values = operation.get("values")
    if values is None and "value" in operation:
        values = [operation["value"]]
    if values is None and operator not in ("IS_BETWEEN", "IS_NOT_BETWEEN"):
        raise ValueError(f"Operator {operator} needs a value")
    values = [str(v).lower() if isinstance(v, bool) else v for v in values or []]
    if operator in _NUMERIC or (numeric and operator in ("IS_EQUAL_TO", "IS_NOT_EQUAL_TO")):
        test = _numeric_test(operator, operation, values)
    else:
        test = _string_test(operator, values)

    def predicate(record: Record) -> bool:
        value = value_of(record)
        if not value:
            return include_empty
        return test(value)

    return predicate


def _numeric_test(operator: str, operation: dict, values: list) -> Callable[[str], bool]:
    if operator in ("IS_BETWEEN", "IS_NOT_BETWEEN"):
        low = _number(operation.get("lowerBound"))
        high = _number(operation.get("upperBound"))
        if low is None or high is None:
            raise ValueError(f"{operator} needs lowerBound and upperBound")
        inside = operator == "IS_BETWEEN"

        def between(value: str) -> bool:
            number = _number(value)
            return number is not None and (low <= number <= high) == inside

        return between
    target = _number(values[0] if values else None)
    if target is None:
        raise ValueError(f"{operator} needs a numeric value")
    compare: Callable[[float], bool] = {
        "IS_GREATER_THAN": lambda n: n > target,
        "IS_GREATER_THAN_OR_EQUAL_TO": lambda n: n >= target,
        "IS_LESS_THAN": lambda n: n < target,
        "IS_LESS_THAN_OR_EQUAL_TO": lambda n: n <= target,
        "IS_EQUAL_TO": lambda n: n == target,
        "IS_NOT_EQUAL_TO": lambda n: n != target,
    }[operator]

    def numeric(value: str) -> bool:
        number = _number(value)
        return number is not None and compare(number)

    return numeric


def _string_test(operator: str, values: list) -> Callable[[str], bool]:
    wanted = [str(v).lower() for v in values]
    tests: dict[str, Callable[[str], bool]] = {
        "IS_EQUAL_TO": lambda v: v in wanted,
        "IS_ANY_OF": lambda v: any(part in wanted for part in v.split(";")),
        "IS_NOT_EQUAL_TO": lambda v: v not in wanted,
        "IS_NONE_OF": lambda v: not any(part in wanted for part in v.split(";")),
        "CONTAINS": lambda v: any(w in v for w in wanted),
        "DOES_NOT_CONTAIN": lambda v: not any(w in v for w in wanted),
        "STARTS_WITH": lambda v: any(v.startswith(w) for w in wanted),
        "ENDS_WITH": lambda v: any(v.endswith(w) for w in wanted),
    }
    if operator not in tests:
        raise ValueError(f"Unsupported operator '{operator}'")
    lowered = tests[operator]
    return lambda v: lowered(v.lower())
