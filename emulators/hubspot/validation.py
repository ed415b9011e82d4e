"""Property value validation and normalisation, driven by the schema registry.

Values arrive as JSON strings, numbers, booleans or null and are stored as strings. Each
invalid value becomes a :class:`PropertyProblem`; the caller decides whether problems reject the
whole request (400) or one batch input (207).

Error codes follow what HubSpot returns: INVALID_EMAIL, INVALID_OPTION, INVALID_DATE (a ``date``
property not at midnight UTC), INVALID_INTEGER ("... was not a valid number."), INVALID_LONG
(an unparseable datetime), INVALID_BOOLEAN, PROPERTY_DOESNT_EXIST, READ_ONLY_VALUE,
REQUIRED_PROPERTY and INVALID_OWNER_ID. The last three are not verified against the live API.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from typing import Any

from .errors import PropertyProblem
from .schema import ObjectType, Prop, Registry
from .timeutil import DAY_MS, iso, iso_date, parse_ms

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PIPELINE_FIELDS = {
    "0-3": ("pipeline", "dealstage", "default"),
    "0-5": ("hs_pipeline", "hs_pipeline_stage", "0"),
}

Problem = PropertyProblem
Check = Callable[[Prop, str], "tuple[str, Problem | None]"]


def as_text(raw: Any) -> str:
    """How HubSpot stores a JSON value: always a string; null clears like ``""``."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float):
        if raw.is_integer():
            return str(int(raw))
        return repr(raw)
    return str(raw)


def _string(prop: Prop, value: str) -> tuple[str, Problem | None]:
    if prop.name == "email" and not _EMAIL.match(value):
        return value, Problem(
            prop.name, "INVALID_EMAIL", f"Email address {value} is invalid", value
        )
    return value, None


def _number(prop: Prop, value: str) -> tuple[str, Problem | None]:
    # Since 2025 HubSpot rejects surrounding whitespace on non-string properties.
    bad = Problem(prop.name, "INVALID_INTEGER", f"{value} was not a valid number.", value)
    if value != value.strip():
        return value, bad
    try:
        number = float(value)
    except ValueError:
        return value, bad
    if math.isnan(number) or math.isinf(number):
        return value, bad
    return value, None


def _bool(prop: Prop, value: str) -> tuple[str, Problem | None]:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered, None
    return value, Problem(prop.name, "INVALID_BOOLEAN", f"{value} was not a valid boolean.", value)


def _datetime(prop: Prop, value: str) -> tuple[str, Problem | None]:
    if value != value.strip():
        return value, Problem(prop.name, "INVALID_LONG", f"{value} was not a valid long.", value)
    ms = parse_ms(value)
    if ms is None:
        return value, Problem(prop.name, "INVALID_LONG", f"{value} was not a valid long.", value)
    return iso(ms), None


def _date(prop: Prop, value: str) -> tuple[str, Problem | None]:
    ms = parse_ms(value)
    if ms is None:
        return value, Problem(prop.name, "INVALID_DATE", f"{value} is not a valid date.", value)
    offset = ms % DAY_MS
    if offset:
        clock = (
            f"{offset // 3_600_000:02d}:{offset // 60_000 % 60:02d}:"
            f"{offset // 1000 % 60:02d}.{offset % 1000:03d}"
        )
        return value, Problem(
            prop.name, "INVALID_DATE", f"{value} is at {clock} UTC, not midnight!", value
        )
    return iso_date(ms), None


def _options_text(prop: Prop) -> str:
    return ", ".join(o["value"] for o in prop.options)


def _enumeration(prop: Prop, value: str) -> tuple[str, Problem | None]:
    if not prop.options or prop.external_options:
        return value, None  # owners/pipelines are checked against live data elsewhere
    values = value.split(";") if prop.field_type == "checkbox" else [value]
    for item in values:
        if item not in prop.option_values:
            return value, Problem(
                prop.name,
                "INVALID_OPTION",
                f"{item} was not one of the allowed options: [{_options_text(prop)}]",
                value,
            )
    return value, None


CHECKS: dict[str, Check] = {
    "string": _string,
    "number": _number,
    "bool": _bool,
    "datetime": _datetime,
    "date": _date,
    "enumeration": _enumeration,
}


def check_properties(
    object_type: ObjectType,
    values: dict[str, Any],
    *,
    owners: Collection[str],
    registry: Registry,
    creating: bool,
    current: dict[str, str] | None = None,
) -> tuple[dict[str, str], list[Problem]]:
    """Normalised values (``""`` meaning clear) and the problems found."""
    clean: dict[str, str] = {}
    problems: list[Problem] = []
    properties = object_type.properties
    pipeline_fields = PIPELINE_FIELDS.get(object_type.id, ())[:2]
    for name, raw in values.items():
        prop = properties.get(name)
        if prop is None or prop.archived:
            problems.append(
                Problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
            )
            continue
        if prop.read_only:
            problems.append(
                Problem(
                    name,
                    "READ_ONLY_VALUE",
                    f"{name} is a read only property; its value cannot be set.",
                )
            )
            continue
        value = as_text(raw)
        if value == "":
            clean[name] = ""
            continue
        if prop.referenced_object_type == "OWNER":
            if value not in owners:
                problems.append(
                    Problem(name, "INVALID_OWNER_ID", f"{value} is not a valid owner id", value)
                )
                continue
            clean[name] = value
            continue
        if name in pipeline_fields:
            clean[name] = value  # checked against the live pipelines below
            continue
        value, problem = CHECKS.get(prop.type, _string)(prop, value)
        if problem is not None:
            problems.append(problem)
        else:
            clean[name] = value
    if creating:
        for name in object_type.required:
            if not clean.get(name):
                problems.append(Problem(name, "REQUIRED_PROPERTY", f"{name} is required."))
    problems.extend(_check_pipeline(object_type, clean, current or {}, registry, creating))
    return clean, problems


def _check_pipeline(
    object_type: ObjectType,
    clean: dict[str, str],
    current: dict[str, str],
    registry: Registry,
    creating: bool,
) -> list[Problem]:
    """Deal and ticket stages must belong to the record's pipeline."""
    fields = PIPELINE_FIELDS.get(object_type.id)
    if not fields:
        return []
    pipeline_prop, stage_prop, default_pipeline = fields
    if pipeline_prop not in clean and stage_prop not in clean:
        return []
    pipelines = registry.pipelines.get(object_type.id, {})
    pipeline_id = clean.get(pipeline_prop) or current.get(pipeline_prop) or default_pipeline
    if creating and stage_prop in clean and pipeline_prop not in clean:
        clean[pipeline_prop] = pipeline_id  # HubSpot puts the record in the default pipeline
    pipeline = pipelines.get(pipeline_id)
    if pipeline is None or pipeline["archived"]:
        return [
            Problem(
                pipeline_prop,
                "INVALID_OPTION",
                f"{pipeline_id} was not one of the allowed options: "
                f"[{', '.join(i for i, p in pipelines.items() if not p['archived'])}]",
                pipeline_id,
            )
        ]
    stage = clean.get(stage_prop) if stage_prop in clean else current.get(stage_prop)
    stage_ids = [s["id"] for s in pipeline["stages"] if not s["archived"]]
    if stage and stage not in stage_ids:
        return [
            Problem(
                stage_prop,
                "INVALID_OPTION",
                f"{stage} was not one of the allowed options: [{', '.join(stage_ids)}]",
                stage,
            )
        ]
    return []
