"""``POST /crm/v3/objects/{type}/search``: HubSpot's search semantics over the record store.

Filters inside a group are ANDed, groups are ORed. Numbers and datetimes compare numerically
(datetime values may be epoch milliseconds or ISO 8601), strings case-insensitively. One sort;
``after`` is an offset; paging past 10,000 results is refused with 400. Archived records are never
returned, and records written within the configured search lag are not visible yet (HubSpot's
index is eventually consistent).

A single filter group with a range on the modification date is answered from the store's
modification-time index instead of a full scan, which is what an incremental sync asks for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from .errors import validation_error
from .records import Crm
from .schema import ObjectType
from .serialize import property_names, record_json
from .store import Record
from .timeutil import parse_ms

MAX_LIMIT = 200
MAX_RESULTS = 10_000
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}
_RANGE_OPS = {"GT", "GTE", "LT", "LTE", "BETWEEN", "EQ"}
_TOKEN_SPLIT = re.compile(r"[\s,;:/()\[\]\"'<>|]+")
_QUERY_SPLIT = re.compile(r"[\s,;:/()\[\]\"'<>|@.\-_+]+")  # free text also splits emails

Getter = Callable[[Record], Any]
Predicate = Callable[[Record], bool]


def _getter(object_type: ObjectType, name: str) -> tuple[Getter, str]:
    """A value getter and its kind (num, bool, str) for a property."""
    if name == "hs_object_id":
        return attrgetter("id"), "num"
    if name in object_type.modified_props:
        return attrgetter("updated"), "num"
    if name in object_type.created_props:
        return attrgetter("created"), "num"
    prop = object_type.prop(name)
    if prop is None:
        raise validation_error(
            f'Property "{name}" does not exist on {object_type.name}',
            context={"propertyName": [name]},
        )
    if prop.type in ("datetime", "date"):

        def get_ms(record: Record) -> int | None:
            raw = record.props.get(name)
            return parse_ms(raw) if raw else None

        return get_ms, "num"
    if prop.type == "number":

        def get_number(record: Record) -> float | None:
            raw = record.props.get(name)
            if not raw:
                return None
            try:
                return float(raw)
            except ValueError:
                return None

        return get_number, "num"

    def get_text(record: Record) -> str | None:
        raw = record.props.get(name)
        return raw.lower() if raw else None

    return get_text, "bool" if prop.type == "bool" else "str"


def _convert(value: Any, kind: str, name: str) -> Any:
    if kind == "num":
        text = str(value).strip()
        try:
            return float(text)
        except ValueError:
            ms = parse_ms(text)
            if ms is None:
                raise validation_error(f"{value} is not a valid value for {name}") from None
            return ms
    return str(value).lower()


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in pattern.lower().split("*")) + r"\Z")


def _compile_filter(object_type: ObjectType, spec: Any) -> tuple[str, str, Predicate, Any]:
    if not isinstance(spec, dict):
        raise validation_error("Each filter must be an object")
    name, operator = spec.get("propertyName"), str(spec.get("operator", "")).upper()
    if not isinstance(name, str) or not name:
        raise validation_error("Each filter needs a propertyName")
    if operator not in OPERATORS:
        raise validation_error(f"Unsupported filter operator: {operator}")
    get, kind = _getter(object_type, name)
    multi = (
        object_type.prop(name) is not None and object_type.properties[name].field_type == "checkbox"
    )

    def need(key: str) -> Any:
        if spec.get(key) is None:
            raise validation_error(f"Operator {operator} on {name} needs '{key}'")
        return spec[key]

    if operator == "HAS_PROPERTY":
        return name, operator, lambda r: get(r) is not None, None
    if operator == "NOT_HAS_PROPERTY":
        return name, operator, lambda r: get(r) is None, None
    if operator in ("IN", "NOT_IN"):
        values = need("values")
        if not isinstance(values, list):
            raise validation_error(f"Operator {operator} needs a list of 'values'")
        wanted = {_convert(v, kind, name) for v in values}
        if operator == "IN":
            return name, operator, lambda r: get(r) in wanted, None
        return name, operator, lambda r: get(r) not in wanted, None
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        regex = _wildcard(str(need("value")))

        def contains(record: Record) -> bool:
            raw = record.props.get(name)
            if not raw:
                return False
            text = raw.lower()
            return bool(regex.match(text)) or any(
                regex.match(t) for t in _TOKEN_SPLIT.split(text) if t
            )

        if operator == "CONTAINS_TOKEN":
            return name, operator, contains, None
        return name, operator, lambda r: not contains(r), None
    target = _convert(need("value"), kind, name)
    if operator == "BETWEEN":
        high = _convert(need("highValue"), kind, name)

        def between(record: Record) -> bool:
            value = get(record)
            return value is not None and target <= value <= high

        return name, operator, between, (target, high)
    if operator == "EQ":
        if multi:
            return name, operator, lambda r: target in ((get(r) or "").split(";")), None
        return name, operator, lambda r: get(r) == target, (target, target)
    if operator == "NEQ":
        if multi:
            return name, operator, lambda r: target not in ((get(r) or "").split(";")), None
        return name, operator, lambda r: get(r) != target, None
    compare = {
        "LT": lambda v: v < target,
        "LTE": lambda v: v <= target,
        "GT": lambda v: v > target,
        "GTE": lambda v: v >= target,
    }[operator]

    def ordered(record: Record) -> bool:
        value = get(record)
        return value is not None and compare(value)

    return name, operator, ordered, target


def _index_bounds(operator: str, bound: Any) -> tuple[int | None, int | None]:
    if operator == "BETWEEN" or operator == "EQ":
        low, high = bound
        return int(-(-low // 1)), int(high // 1)  # ceil(low), floor(high) on whole ms
    value = bound
    if operator == "GT":
        return int(value // 1) + 1, None
    if operator == "GTE":
        return int(-(-value // 1)), None
    if operator == "LT":
        return None, int(-(-value // 1)) - 1
    return None, int(value // 1)  # LTE


def _is_modified_range(object_type: ObjectType, compiled: tuple) -> bool:
    name, operator, _pred, bound = compiled
    return name in object_type.modified_props and operator in _RANGE_OPS and bound is not None


def _modified_span(
    object_type: ObjectType, group: list[tuple[str, str, Predicate, Any]]
) -> tuple[int | None, int | None] | None:
    """The modified-date range one filter group allows (every date filter of the group
    together), if it bounds that date at all."""
    low: int | None = None
    high: int | None = None
    bounded = False
    for f in group:
        if not _is_modified_range(object_type, f):
            continue
        bounded = True
        f_low, f_high = _index_bounds(f[1], f[3])
        if f_low is not None:
            low = f_low if low is None else max(low, f_low)
        if f_high is not None:
            high = f_high if high is None else min(high, f_high)
    return (low, high) if bounded else None


def _matches_a_group(record: Record, groups: list) -> bool:
    """Groups are ORed, the filters inside one ANDed; a group without filters matches."""
    updated = record.updated
    for span, predicates in groups:
        if span is not None:
            low, high = span
            if (low is not None and updated < low) or (high is not None and updated > high):
                continue
        for predicate in predicates:
            if not predicate(record):
                break
        else:
            return True
    return False


def _parse_sort(sorts: Any) -> tuple[str, bool] | None:
    if not sorts:
        return None
    if not isinstance(sorts, list):
        raise validation_error("sorts must be a list")
    if len(sorts) > 1:
        raise validation_error("Only one sort is supported")
    sort = sorts[0]
    if isinstance(sort, str):
        return (sort[1:], True) if sort.startswith("-") else (sort, False)
    if isinstance(sort, dict) and isinstance(sort.get("propertyName"), str):
        return sort["propertyName"], str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
    raise validation_error("Each sort needs a propertyName")


def _query_predicate(object_type: ObjectType, query: str) -> Predicate:
    terms = query.lower().split()
    fields = object_type.searchable

    def matches(record: Record) -> bool:
        texts = [record.props[f].lower() for f in fields if record.props.get(f)]
        tokens = [t for text in texts for t in _QUERY_SPLIT.split(text) if t]
        return all(
            any(x.startswith(term) for x in texts) or any(t.startswith(term) for t in tokens)
            for term in terms
        )

    return matches


def search(crm: Crm, object_type: ObjectType, body: Any, now_ms: int) -> dict:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise validation_error("The search request must be a JSON object")
    settings = crm.state.settings
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list):
        raise validation_error("filterGroups must be a list")
    if len(groups) > settings.search_max_groups:
        raise validation_error(
            f"Too many filter groups: {len(groups)}. The maximum is {settings.search_max_groups}."
        )
    total_filters = 0
    compiled: list[list[tuple[str, str, Predicate, Any]]] = []
    for group in groups:
        filters = (group or {}).get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise validation_error("Each filter group needs a list of filters")
        if len(filters) > settings.search_max_filters_per_group:
            raise validation_error(
                f"Too many filters in a filter group: {len(filters)}. The maximum is "
                f"{settings.search_max_filters_per_group}."
            )
        total_filters += len(filters)
        compiled.append([_compile_filter(object_type, f) for f in filters])
    if total_filters > settings.search_max_filters:
        raise validation_error(
            f"Too many filters: {total_filters}. The maximum is {settings.search_max_filters}."
        )

    try:
        limit = int(body.get("limit", 10) if body.get("limit") is not None else 10)
        offset = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise validation_error("limit and after must be integers") from None
    if limit < 0 or limit > MAX_LIMIT:
        raise validation_error(f"limit must be between 0 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise validation_error("after must not be negative")
    if offset + limit > MAX_RESULTS:
        # HubSpot refuses to page past its 10,000-result window (wording not verified).
        raise validation_error(
            f"Search results are limited to {MAX_RESULTS:,} per query; after={offset} with "
            f"limit={limit} asks beyond that. Narrow the query with filters.",
            context={"after": [str(offset)], "limit": [str(limit)]},
        )
    sort = _parse_sort(body.get("sorts"))
    names = property_names(object_type, body.get("properties"))
    query = body.get("query")

    store = crm.state.stores.get(object_type.id)
    candidates: Any = store.records.values() if store else []
    ordered_by_modified = False
    # Each group as (its modified-date span, its other filters): inside an indexed span the
    # date filters cost two comparisons instead of a predicate call each, which matters for a
    # sync paging through a backfill (every page re-checks the records after its key).
    groups: list[tuple[tuple[int | None, int | None] | None, list[Predicate]]]
    groups = [(None, [f[2] for f in group]) for group in compiled]
    spans = [_modified_span(object_type, group) for group in compiled]
    if store and spans and all(span is not None for span in spans):
        lows = [span[0] for span in spans]
        highs = [span[1] for span in spans]
        candidates = store.modified_between(
            None if None in lows else min(lows), None if None in highs else max(highs)
        )
        ordered_by_modified = True
        groups = [
            (span, [f[2] for f in group if not _is_modified_range(object_type, f)])
            for span, group in zip(spans, compiled, strict=True)
        ]
    if query:
        text_match = _query_predicate(object_type, str(query))
    cutoff = now_ms - settings.search_lag_ms if settings.search_lag_ms > 0 else None

    matches = []
    for record in candidates:
        if record.archived or (cutoff is not None and record.updated > cutoff):
            continue
        if groups and not _matches_a_group(record, groups):
            continue
        if query and not text_match(record):
            continue
        matches.append(record)

    if sort is None:
        matches.sort(key=attrgetter("id"))
    else:
        name, descending = sort
        if name in object_type.modified_props and ordered_by_modified:
            if descending:
                matches.reverse()
        else:
            get, _kind = _getter(object_type, name)
            present = [r for r in matches if get(r) is not None]
            missing = [r for r in matches if get(r) is None]
            present.sort(key=lambda r: (get(r), r.id), reverse=descending)
            matches = present + missing

    total = len(matches)
    page = matches[offset : offset + limit]
    out: dict[str, Any] = {
        "total": total,
        "results": [record_json(r, names) for r in page],
    }
    if offset + limit < total and limit > 0:
        out["paging"] = {"next": {"after": str(offset + limit)}}
    return out
