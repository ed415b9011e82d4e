"""The schema registry: object types, their properties and groups, pipelines, association types.

Everything is loaded from ``data/hubspot_schema.json`` (a copy of the shared research file), so
validation, search typing and the properties API all read the same definitions and cannot
disagree. Custom properties and custom object schemas created through the API are added to
the same registry and are usable at once.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .timeutil import iso

DATA_FILE = Path(__file__).parent / "data" / "hubspot_schema.json"

# (plural name, objectTypeId, singular); HubSpot's fixed ids for the standard objects.
STANDARD_TYPES = [
    ("contacts", "0-1", "contact"),
    ("companies", "0-2", "company"),
    ("deals", "0-3", "deal"),
    ("tickets", "0-5", "ticket"),
    ("calls", "0-48", "call"),
    ("emails", "0-49", "email"),
    ("meetings", "0-47", "meeting"),
    ("notes", "0-46", "note"),
    ("tasks", "0-27", "task"),
]
ENGAGEMENTS = {"calls", "emails", "meetings", "notes", "tasks"}

# The properties the free-text ``query`` of a search looks at (HubSpot's documented defaults).
SEARCHABLE = {
    "contacts": [
        "firstname",
        "lastname",
        "email",
        "phone",
        "hs_additional_emails",
        "fax",
        "mobilephone",
        "company",
        "hs_marketable_until_renewal",
    ],
    "companies": ["website", "phone", "name", "domain"],
    "deals": ["dealname", "pipeline", "dealstage", "description", "dealtype"],
    "tickets": ["subject", "content", "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_id"],
    "calls": ["hs_call_title", "hs_call_body", "hs_body_preview"],
    "emails": ["hs_email_subject", "hs_email_text", "hs_body_preview"],
    "meetings": ["hs_meeting_title", "hs_meeting_body", "hs_body_preview"],
    "notes": ["hs_note_body", "hs_body_preview"],
    "tasks": ["hs_task_subject", "hs_task_body", "hs_body_preview"],
}

# Properties a create must carry (besides a custom schema's requiredProperties).
REQUIRED_ON_CREATE = {name: ["hs_timestamp"] for name in ENGAGEMENTS}
REQUIRED_ON_CREATE["tickets"] = ["hs_pipeline_stage"]

# System properties we maintain ourselves and which the JSON lists only by name.
MAINTAINED_SYSTEM = {
    "hs_object_source": ("string", "text"),
    "hs_object_source_id": ("string", "text"),
    "hs_object_source_label": ("string", "text"),
    "hs_object_source_user_id": ("number", "number"),
    "hs_created_by_user_id": ("number", "number"),
    "hs_updated_by_user_id": ("number", "number"),
}
_BOOL_SYSTEM = {
    "hs_was_imported",
    "hs_read_only",
    "hs_is_contact",
    "hs_is_unworked",
    "hs_is_closed_lost",
}
_DATE_SYSTEM = {
    "associatedcompanylastupdated",
    "hs_closed_won_date",
    "hs_v2_date_entered_current_stage",
}

PROPERTY_TYPES = {"string", "number", "date", "datetime", "enumeration", "bool"}
FIELD_TYPES = {
    "textarea",
    "text",
    "date",
    "file",
    "number",
    "select",
    "radio",
    "checkbox",
    "booleancheckbox",
    "calculation_equation",
    "phonenumber",
    "html",
}
_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@lru_cache(maxsize=1)
def raw_schema() -> dict:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


def _clean_option(option: dict, index: int) -> dict:
    out = {
        "label": str(option.get("label", option.get("value", ""))),
        "value": str(option.get("value", "")),
        "hidden": bool(option.get("hidden", False)),
        "displayOrder": int(option.get("displayOrder", index)),
    }
    if option.get("description"):
        out["description"] = str(option["description"])
    return out


@dataclass
class Prop:
    name: str
    label: str
    type: str
    field_type: str
    group: str
    description: str = ""
    options: list[dict] = field(default_factory=list)
    read_only: bool = False
    calculated: bool = False
    hubspot_defined: bool = True
    unique: bool = False
    external_options: bool = False
    referenced_object_type: str | None = None
    display_order: int = -1
    hidden: bool = False
    form_field: bool = False
    archived: bool = False
    archived_at: int | None = None
    created_at: int | None = None
    updated_at: int | None = None
    calculation_formula: str | None = None

    def __post_init__(self) -> None:
        self.option_values = frozenset(o["value"] for o in self.options)

    def set_options(self, options: list[dict]) -> None:
        self.options = [_clean_option(o, i) for i, o in enumerate(options)]
        self.option_values = frozenset(o["value"] for o in self.options)

    @classmethod
    def from_json(cls, data: dict) -> Prop:
        prop = cls(
            name=data["name"],
            label=data.get("label") or data["name"],
            type=data.get("type", "string"),
            field_type=data.get("fieldType", "text"),
            group=data.get("groupName", ""),
            description=data.get("description") or "",
            read_only=bool(data.get("readOnlyValue")) or bool(data.get("calculated")),
            calculated=bool(data.get("calculated")),
            hubspot_defined=bool(data.get("hubspotDefined", True)),
            unique=bool(data.get("hasUniqueValue")),
            external_options=bool(data.get("externalOptions")),
            referenced_object_type=data.get("referencedObjectType"),
            display_order=int(data.get("displayOrder", -1)),
            hidden=bool(data.get("hidden", False)),
            form_field=bool(data.get("formField", False)),
            calculation_formula=data.get("calculationFormula"),
        )
        prop.set_options(data.get("options") or [])
        return prop

    def public(self) -> dict:
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group,
            "options": [dict(o) for o in self.options],
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": self.external_options,
            "hasUniqueValue": self.unique,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "formField": self.form_field,
            "archived": self.archived,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
        }
        if self.referenced_object_type:
            out["referencedObjectType"] = self.referenced_object_type
        if self.calculation_formula:
            out["calculationFormula"] = self.calculation_formula
        if self.created_at is not None:
            out["createdAt"] = iso(self.created_at)
        if self.updated_at is not None:
            out["updatedAt"] = iso(self.updated_at)
        if self.archived_at is not None:
            out["archivedAt"] = iso(self.archived_at)
        return out


@dataclass
class ObjectType:
    id: str  # objectTypeId, e.g. "0-1" or "2-1000001"
    name: str  # plural API name, e.g. "contacts"
    singular: str
    properties: dict[str, Prop]
    groups: dict[str, dict]
    default_props: list[str]
    searchable: list[str]
    required: list[str]
    created_props: tuple[str, ...]
    modified_props: tuple[str, ...]
    custom: bool = False
    fqn: str | None = None  # custom objects: p<portal>_<name>
    schema: dict | None = None  # custom objects: labels, display properties, timestamps

    def prop(self, name: str) -> Prop | None:
        prop = self.properties.get(name)
        return prop if prop is not None and not prop.archived else None

    @property
    def unique_props(self) -> tuple[str, ...]:
        cached = self.__dict__.get("_unique")
        if cached is None:
            names = [p.name for p in self.properties.values() if p.unique and not p.archived]
            if self.name == "contacts":
                names.insert(0, "email")  # contacts dedupe on email, whatever the flag says
            cached = self.__dict__["_unique"] = tuple(names)
        return cached

    @property
    def always_props(self) -> tuple[str, ...]:
        """Returned whatever properties were asked for: the id and the create/modify dates."""
        return (*self.created_props[:1], *self.modified_props[:1], "hs_object_id")

    def invalidate(self) -> None:
        """Call after changing property definitions."""
        self.__dict__.pop("_unique", None)

    @property
    def v3_key(self) -> str:
        """The key other objects list associations to this type under (v3 ``associations``)."""
        return self.fqn or self.name


@dataclass
class AssocType:
    type_id: int
    from_type: str  # objectTypeId
    to_type: str
    category: str  # HUBSPOT_DEFINED | USER_DEFINED | INTEGRATOR_DEFINED
    label: str | None
    inverse: int
    name: str  # the v3 "type" string, e.g. contact_to_company_unlabeled
    primary: bool = False
    default: bool = False  # the unlabeled association used by create_default

    def spec(self) -> dict:
        return {"category": self.category, "typeId": self.type_id, "label": self.label}


# (from, to, default id, inverse default id, primary id, inverse primary id)
_STANDARD_PAIRS: list[tuple[str, str, int, int, int | None, int | None]] = [
    ("contacts", "companies", 279, 280, 1, 2),
    ("deals", "companies", 341, 342, 5, 6),
    ("tickets", "companies", 339, 340, 26, 25),
    ("contacts", "deals", 4, 3, None, None),
    ("contacts", "tickets", 15, 16, None, None),
    ("deals", "tickets", 27, 28, None, None),
    ("companies", "calls", 181, 182, None, None),
    ("companies", "emails", 185, 186, None, None),
    ("companies", "meetings", 187, 188, None, None),
    ("companies", "notes", 189, 190, None, None),
    ("companies", "tasks", 191, 192, None, None),
    ("contacts", "calls", 193, 194, None, None),
    ("contacts", "emails", 197, 198, None, None),
    ("contacts", "meetings", 199, 200, None, None),
    ("contacts", "notes", 201, 202, None, None),
    ("contacts", "tasks", 203, 204, None, None),
    ("deals", "calls", 205, 206, None, None),
    ("deals", "emails", 209, 210, None, None),
    ("deals", "meetings", 211, 212, None, None),
    ("deals", "notes", 213, 214, None, None),
    ("deals", "tasks", 215, 216, None, None),
    ("tickets", "calls", 219, 220, None, None),
    ("tickets", "emails", 223, 224, None, None),
    ("tickets", "meetings", 225, 226, None, None),
    ("tickets", "notes", 227, 228, None, None),
    ("tickets", "tasks", 229, 230, None, None),
]


def _pipeline_from_json(data: dict, created: int) -> dict:
    stages = [
        {
            "id": str(s["id"]),
            "label": s["label"],
            "displayOrder": int(s.get("displayOrder", i)),
            "archived": bool(s.get("archived", False)),
            "metadata": {k: str(v) for k, v in (s.get("metadata") or {}).items()},
            "createdAt": created,
            "updatedAt": created,
        }
        for i, s in enumerate(data.get("stages", []))
    ]
    return {
        "id": str(data["id"]),
        "label": data["label"],
        "displayOrder": int(data.get("displayOrder", 0)),
        "archived": bool(data.get("archived", False)),
        "stages": stages,
        "createdAt": created,
        "updatedAt": created,
    }


def _system_prop(name: str, group: str) -> Prop:
    if name in MAINTAINED_SYSTEM:
        kind, field_type = MAINTAINED_SYSTEM[name]
    elif name in _BOOL_SYSTEM:
        kind, field_type = "bool", "booleancheckbox"
    elif name in _DATE_SYSTEM:
        kind, field_type = "datetime", "date"
    elif name.endswith("_ids") or name.endswith("_vids"):
        kind, field_type = "enumeration", "checkbox"
    else:
        kind, field_type = "string", "text"
    label = name.removeprefix("hs_").replace("_", " ").capitalize()
    return Prop(
        name=name, label=label, type=kind, field_type=field_type, group=group, read_only=True
    )


class Registry:
    """All object types (standard and custom) with their properties, plus pipelines and
    association types. Part of the emulator state, so it is reset and persisted with it."""

    CUSTOM_TYPE_BASE = 1_000_000
    CUSTOM_ASSOC_BASE = 1000

    def __init__(self, portal_id: int, created_ms: int) -> None:
        self.portal_id = portal_id
        self.types: dict[str, ObjectType] = {}
        self._aliases: dict[str, str] = {}
        self.assoc_types: dict[int, AssocType] = {}
        self.pipelines: dict[str, dict[str, dict]] = {}
        self.next_custom_type = self.CUSTOM_TYPE_BASE + 1
        self.next_assoc_type = self.CUSTOM_ASSOC_BASE
        self._load_standard(created_ms)

    # --- loading ----------------------------------------------------------------------------
    def _load_standard(self, created_ms: int) -> None:
        raw = copy.deepcopy(raw_schema())
        for name, type_id, singular in STANDARD_TYPES:
            data = raw["objects"][name]
            props = {p["name"]: Prop.from_json(p) for p in data["properties"]}
            groups = {
                g["name"]: {
                    "name": g["name"],
                    "label": g.get("label", g["name"]),
                    "displayOrder": i,
                    "archived": False,
                }
                for i, g in enumerate(raw["property_groups"].get(name, []))
            }
            first_group = next(iter(groups), "")
            for sys_name in raw["system_properties"].get(name, []):
                props.setdefault(sys_name, _system_prop(sys_name, first_group))
            for sys_name in MAINTAINED_SYSTEM:
                props.setdefault(sys_name, _system_prop(sys_name, first_group))
            created = tuple(n for n in ("createdate", "hs_createdate") if n in props)
            modified = tuple(n for n in ("lastmodifieddate", "hs_lastmodifieddate") if n in props)
            if name == "contacts":
                modified = ("lastmodifieddate", *[m for m in modified if m != "lastmodifieddate"])
            defaults = raw["default_returned_properties"][name]["properties"]
            self.add_type(
                ObjectType(
                    id=type_id,
                    name=name,
                    singular=singular,
                    properties=props,
                    groups=groups,
                    default_props=list(defaults),
                    searchable=[p for p in SEARCHABLE.get(name, []) if p in props],
                    required=list(REQUIRED_ON_CREATE.get(name, [])),
                    created_props=created,
                    modified_props=modified,
                )
            )
        self.pipelines["0-3"] = {
            "default": _pipeline_from_json(raw["default_deal_pipeline"], created_ms)
        }
        self.pipelines["0-5"] = {
            "0": _pipeline_from_json(raw["default_ticket_pipeline"], created_ms)
        }
        for (
            from_name,
            to_name,
            default_id,
            inverse_id,
            primary_id,
            inverse_primary,
        ) in _STANDARD_PAIRS:
            from_t, to_t = self.resolve(from_name), self.resolve(to_name)
            assert from_t and to_t
            self._add_pair(
                from_t, to_t, default_id, inverse_id, "HUBSPOT_DEFINED", None, None, default=True
            )
            if primary_id and inverse_primary:
                self._add_pair(
                    from_t,
                    to_t,
                    primary_id,
                    inverse_primary,
                    "HUBSPOT_DEFINED",
                    "Primary",
                    "Primary",
                    primary=True,
                )

    def add_type(self, object_type: ObjectType) -> None:
        self.types[object_type.id] = object_type
        for alias in (object_type.id, object_type.name, object_type.singular, object_type.fqn):
            if alias:
                self._aliases[alias.lower()] = object_type.id
        if object_type.custom:
            self._aliases[f"p_{object_type.name}".lower()] = object_type.id

    def _add_pair(
        self,
        from_t: ObjectType,
        to_t: ObjectType,
        type_id: int,
        inverse_id: int,
        category: str,
        label: str | None,
        inverse_label: str | None,
        *,
        primary: bool = False,
        default: bool = False,
    ) -> None:
        base = f"{from_t.singular}_to_{to_t.singular}"
        back = f"{to_t.singular}_to_{from_t.singular}"
        if default:
            name, back_name = (
                (f"{base}_unlabeled", f"{back}_unlabeled")
                if self._has_primary_pair(from_t.name, to_t.name)
                else (base, back)
            )
        elif primary:
            name, back_name = base, back
        else:
            name, back_name = (label or base), (inverse_label or label or back)
        self.assoc_types[type_id] = AssocType(
            type_id,
            from_t.id,
            to_t.id,
            category,
            label,
            inverse_id,
            name,
            primary=primary,
            default=default,
        )
        self.assoc_types[inverse_id] = AssocType(
            inverse_id,
            to_t.id,
            from_t.id,
            category,
            inverse_label if label else None,
            type_id,
            back_name,
            primary=primary,
            default=default,
        )

    @staticmethod
    def _has_primary_pair(from_name: str, to_name: str) -> bool:
        return any(p[0] == from_name and p[1] == to_name and p[4] for p in _STANDARD_PAIRS)

    # --- lookups ----------------------------------------------------------------------------
    def resolve(self, name: str) -> ObjectType | None:
        type_id = self._aliases.get(name.lower())
        return self.types.get(type_id) if type_id else None

    def pair_types(self, from_type: str, to_type: str) -> list[AssocType]:
        return sorted(
            (
                t
                for t in self.assoc_types.values()
                if t.from_type == from_type and t.to_type == to_type
            ),
            key=lambda t: (not t.primary, t.type_id),
        )

    def default_type(self, from_type: str, to_type: str) -> AssocType | None:
        for assoc in self.pair_types(from_type, to_type):
            if assoc.default:
                return assoc
        return None

    def primary_type(self, from_type: str, to_type: str) -> AssocType | None:
        for assoc in self.pair_types(from_type, to_type):
            if assoc.primary:
                return assoc
        return None

    def add_label(
        self, from_t: ObjectType, to_t: ObjectType, label: str, inverse_label: str | None
    ) -> AssocType:
        """A USER_DEFINED association label between two types (definitions API)."""
        type_id, inverse_id = self.next_assoc_type, self.next_assoc_type + 1
        self.next_assoc_type += 2
        self._add_pair(
            from_t, to_t, type_id, inverse_id, "USER_DEFINED", label, inverse_label or label
        )
        return self.assoc_types[type_id]

    # --- custom object schemas --------------------------------------------------------------
    def add_custom_type(self, egg: dict, now_ms: int) -> ObjectType:
        number = self.next_custom_type
        self.next_custom_type += 1
        name = egg["name"]
        type_id = f"2-{number}"
        group = f"{name}_information"
        props: dict[str, Prop] = {}
        for sys_name, kind, field_type in [
            ("hs_object_id", "number", "number"),
            ("hs_createdate", "datetime", "date"),
            ("hs_lastmodifieddate", "datetime", "date"),
            ("hs_merged_object_ids", "enumeration", "checkbox"),
            *[(n, k, f) for n, (k, f) in MAINTAINED_SYSTEM.items()],
        ]:
            props[sys_name] = Prop(
                name=sys_name,
                label=sys_name,
                type=kind,
                field_type=field_type,
                group=group,
                read_only=True,
            )
        props["hubspot_owner_id"] = Prop(
            name="hubspot_owner_id",
            label="Owner",
            type="enumeration",
            field_type="select",
            group=group,
            external_options=True,
            referenced_object_type="OWNER",
        )
        for spec in egg.get("properties", []):
            prop = prop_from_create(spec, group, now_ms)
            prop.hubspot_defined = False
            props[prop.name] = prop
        primary = egg.get("primaryDisplayProperty") or next(
            (p["name"] for p in egg.get("properties", [])), "hs_object_id"
        )
        object_type = ObjectType(
            id=type_id,
            name=name,
            singular=name,
            properties=props,
            groups={
                group: {
                    "name": group,
                    "label": f"{name} information",
                    "displayOrder": 0,
                    "archived": False,
                }
            },
            default_props=["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
            searchable=[p for p in egg.get("searchableProperties") or [primary] if p in props],
            required=list(egg.get("requiredProperties") or []),
            created_props=("hs_createdate",),
            modified_props=("hs_lastmodifieddate",),
            custom=True,
            fqn=f"p{self.portal_id}_{name}",
            schema={
                "id": str(number),
                "labels": dict(egg.get("labels") or {}),
                "description": egg.get("description"),
                "primaryDisplayProperty": primary,
                "secondaryDisplayProperties": list(egg.get("secondaryDisplayProperties") or []),
                "requiredProperties": list(egg.get("requiredProperties") or []),
                "searchableProperties": list(egg.get("searchableProperties") or []),
                "createdAt": now_ms,
                "updatedAt": now_ms,
                "archived": False,
            },
        )
        self.add_type(object_type)
        for target in egg.get("associatedObjects") or []:
            to_t = self.resolve(target)
            if to_t is not None:
                self.associate_types(object_type, to_t)
        return object_type

    def associate_types(self, from_t: ObjectType, to_t: ObjectType) -> AssocType:
        existing = self.default_type(from_t.id, to_t.id)
        if existing:
            return existing
        type_id, inverse_id = self.next_assoc_type, self.next_assoc_type + 1
        self.next_assoc_type += 2
        self._add_pair(from_t, to_t, type_id, inverse_id, "USER_DEFINED", None, None, default=True)
        return self.assoc_types[type_id]


def prop_from_create(spec: dict, default_group: str, now_ms: int) -> Prop:
    """A custom property from a ``PropertyCreate`` / ``ObjectTypePropertyCreate`` body.

    Raises ValueError with HubSpot-like wording when the definition is invalid.
    """
    name = str(spec.get("name") or "")
    if not _PROPERTY_NAME.match(name):
        raise ValueError(
            f"Property name '{name}' is invalid: use lowercase letters, digits and "
            "underscores, starting with a letter"
        )
    kind = spec.get("type")
    if kind not in PROPERTY_TYPES:
        raise ValueError(f"Invalid property type '{kind}' for property '{name}'")
    field_type = spec.get("fieldType") or "text"
    if not spec.get("label"):
        raise ValueError(f"Property '{name}' needs a label")
    prop = Prop(
        name=name,
        label=str(spec["label"]),
        type=kind,
        field_type=field_type,
        group=spec.get("groupName") or default_group,
        description=spec.get("description") or "",
        hubspot_defined=False,
        unique=bool(spec.get("hasUniqueValue")),
        external_options=bool(spec.get("externalOptions")),
        referenced_object_type=spec.get("referencedObjectType"),
        display_order=int(spec.get("displayOrder", -1)),
        hidden=bool(spec.get("hidden", False)),
        form_field=bool(spec.get("formField", False)),
        calculation_formula=spec.get("calculationFormula"),
        created_at=now_ms,
        updated_at=now_ms,
    )
    prop.calculated = field_type.startswith("calculation_")
    prop.read_only = prop.calculated
    prop.set_options(spec.get("options") or [])
    if kind == "enumeration" and not prop.options and field_type != "booleancheckbox":
        raise ValueError(f"Enumeration property '{name}' needs options")
    if kind == "bool" and not prop.options:
        prop.set_options([{"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}])
    return prop
