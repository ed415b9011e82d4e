"""Rendering stored records as REST JSON (``attributes`` first, canonical field names)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import INVALID_FIELD_HINT, SfError
from .schema import FieldDef, ObjectDef

if TYPE_CHECKING:
    from .app import SalesforceApp


def record_url(version: str, obj_name: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{obj_name}/{record_id}"


def resolve_fields(
    app: SalesforceApp, obj: ObjectDef, user_id: str, names: list[str]
) -> list[FieldDef]:
    """Fields named in ``?fields=``; unknown or hidden ones are INVALID_FIELD."""
    visible = app.visible_fields(obj, user_id)
    out = []
    for name in names:
        f = visible.get(name.strip().lower())
        if f is None:
            raise SfError(
                "INVALID_FIELD",
                f"No such column '{name.strip()}' on entity '{obj.name}'. {INVALID_FIELD_HINT}",
                None,
            )
        if f not in out:
            out.append(f)
    return out


def record_json(
    app: SalesforceApp,
    obj: ObjectDef,
    rec: dict[str, Any],
    version: str,
    user_id: str,
    fields: list[FieldDef] | None = None,
) -> dict[str, Any]:
    if fields is None:
        fields = list(app.visible_fields(obj, user_id).values())
    out: dict[str, Any] = {
        "attributes": {"type": obj.name, "url": record_url(version, obj.name, rec["Id"])}
    }
    get = rec.get
    for f in fields:
        out[f.name] = get(f.name)
    if "Id" not in out:
        out["Id"] = rec["Id"]
    return out
