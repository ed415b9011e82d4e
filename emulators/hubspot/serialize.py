"""Records as the client's response models expect them (``SimplePublicObject`` and friends)."""

from __future__ import annotations

from typing import Any

from .schema import ObjectType, Registry
from .state import HubSpotState
from .store import Record
from .timeutil import iso


def known_names(object_type: ObjectType, requested: list[str] | None) -> list[str]:
    """The requested property names HubSpot knows; unknown names are ignored, as HubSpot does."""
    props = object_type.properties
    return [n for n in dict.fromkeys(requested or []) if n in props and not props[n].archived]


def property_names(object_type: ObjectType, requested: list[str] | None) -> list[str]:
    """The properties to return: the type's defaults, or the requested ones plus the id and
    timestamps that HubSpot always includes."""
    if not requested:
        return object_type.default_props
    return list(dict.fromkeys([*object_type.always_props, *known_names(object_type, requested)]))


def record_json(
    record: Record, names: list[str] | None, *, history: list[str] | None = None
) -> dict[str, Any]:
    """``names=None`` returns every property with a value (create responses)."""
    props = record.props
    out: dict[str, Any] = {
        "id": str(record.id),
        "properties": dict(props) if names is None else {n: props.get(n) for n in names},
        "createdAt": iso(record.created),
        "updatedAt": iso(record.updated),
        "archived": record.archived,
    }
    if record.archived and record.archived_at is not None:
        out["archivedAt"] = iso(record.archived_at)
    if history:
        out["propertiesWithHistory"] = {
            name: [
                {"value": value, "timestamp": iso(ts), **actor.history_fields()}
                for value, ts, actor in reversed(record.history.get(name, []))
            ]
            for name in history
        }
    return out


def associations_json(state: HubSpotState, record: Record, requested: list[str]) -> dict:
    """The v3 ``associations`` map: ``{"companies": {"results": [{"id","type"}]}}``."""
    registry: Registry = state.registry
    out: dict[str, Any] = {}
    for name in requested:
        to_type = registry.resolve(name)
        if to_type is None:
            continue
        targets = state.associations.targets(record.type_id, record.id, to_type.id)
        store = state.stores.get(to_type.id)
        results = []
        for to_id in sorted(targets):
            target = store.records.get(to_id) if store else None
            if target is None or target.archived:
                continue
            for type_id in sorted(targets[to_id]):
                results.append({"id": str(to_id), "type": registry.assoc_types[type_id].name})
        if results:
            out[to_type.v3_key] = {"results": results}
    return out


def batch_json(
    results: list[dict], started: int, completed: int, errors: list[dict] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso(started),
        "completedAt": iso(completed),
    }
    if errors:
        out["numErrors"] = len(errors)
        out["errors"] = errors
    return out
