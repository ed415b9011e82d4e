"""Describe responses, built from the schema registry for the requesting user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import case_statuses, stages
from .schema import ObjectDef

if TYPE_CHECKING:
    from .app import SalesforceApp

_GLOBAL_FLAGS = (
    "activateable",
    "createable",
    "custom",
    "customSetting",
    "deletable",
    "deprecatedAndHidden",
    "feedEnabled",
    "hasSubtypes",
    "isSubtype",
    "layoutable",
    "mergeable",
    "mruEnabled",
    "queryable",
    "replicateable",
    "retrieveable",
    "searchable",
    "triggerable",
    "undeletable",
    "updateable",
)


def object_urls(obj: ObjectDef, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "sobject": base,
        "describe": f"{base}/describe",
        "rowTemplate": f"{base}/{{ID}}",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "compactLayouts": f"{base}/describe/compactLayouts",
        "layouts": f"{base}/describe/layouts",
        "quickActions": f"{base}/quickActions",
        "listviews": f"{base}/listviews",
    }


def global_entry(obj: ObjectDef, version: str) -> dict[str, Any]:
    raw = obj.raw
    entry: dict[str, Any] = {flag: bool(raw.get(flag, False)) for flag in _GLOBAL_FLAGS}
    entry.update(
        custom=obj.custom,
        keyPrefix=obj.key_prefix,
        label=obj.label,
        labelPlural=obj.label_plural,
        name=obj.name,
        mruEnabled=bool(raw.get("layoutable")),
        urls={
            k: v
            for k, v in object_urls(obj, version).items()
            if k in ("sobject", "describe", "rowTemplate")
        },
    )
    return entry


def describe_global(app: SalesforceApp, version: str, user_id: str = "") -> dict[str, Any]:
    """Every object the user may use, its flags as its object access says (``record_access``
    of a whole object): ``none`` leaves it out, ``read`` can't create, update or delete,
    ``edit`` can't delete."""
    grants = app.org.record_access.get(user_id, {})
    entries = []
    for obj in sorted(app.schema.objects.values(), key=lambda o: o.name):
        access = grants.get(obj.name)
        if access == "none":
            continue
        entry = global_entry(obj, version)
        if access == "read":
            entry.update(createable=False, updateable=False, deletable=False)
        elif access == "edit":
            entry.update(deletable=False)
        entries.append(entry)
    return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": entries}


def record_type_infos(app: SalesforceApp, obj: ObjectDef) -> list[dict[str, Any]]:
    master = list(obj.raw.get("recordTypeInfos") or [])
    extra = []
    default = app.org.default_record_types.get(obj.name)
    for rec in app.org.store.table("RecordType").values():
        if rec.get("SobjectType") != obj.name or rec.get("IsDeleted"):
            continue
        extra.append(
            {
                "active": bool(rec.get("IsActive")),
                "available": True,
                "defaultRecordTypeMapping": rec["Id"] == default,
                "developerName": rec.get("DeveloperName"),
                "master": False,
                "name": rec.get("Name"),
                "recordTypeId": rec["Id"],
                "urls": {
                    "layout": f"/services/data/v{app.schema.api_version}/sobjects/{obj.name}/"
                    f"describe/layouts/{rec['Id']}"
                },
            }
        )
    if extra:  # with record types of its own, Master is no longer the default mapping
        master = [dict(m, defaultRecordTypeMapping=False) for m in master]
    return extra + master


def describe_object(app: SalesforceApp, obj: ObjectDef, version: str, user_id: str) -> dict:
    visible = app.visible_fields(obj, user_id)
    perms = app.field_permissions(user_id, obj.name) or {}
    fields = [f.describe(read_only=perms.get(f.lower) == "read") for f in visible.values()]
    if obj.name == "Opportunity":  # StageName's values are the org's OpportunityStage rows
        values = stages.picklist_values(app)
        fields = [dict(f, picklistValues=values) if f["name"] == "StageName" else f for f in fields]
    if obj.name == "Case":  # and Status's the org's CaseStatus rows
        values = case_statuses.picklist_values(app)
        fields = [dict(f, picklistValues=values) if f["name"] == "Status" else f for f in fields]
    out = global_entry(obj, version)
    out.update(
        actionOverrides=[],
        childRelationships=obj.child_relationships,
        compactLayoutable=bool(obj.raw.get("layoutable")),
        fields=fields,
        listviewable=None,
        lookupLayoutable=None,
        namedLayoutInfos=[],
        networkScopeFieldName=None,
        recordTypeInfos=record_type_infos(app, obj),
        searchLayoutable=bool(obj.raw.get("searchable")),
        supportedScopes=[
            {"label": "All " + obj.label_plural.lower(), "name": "everything"},
            {"label": "My " + obj.label_plural.lower(), "name": "mine"},
        ],
        urls=object_urls(obj, version),
    )
    return out
